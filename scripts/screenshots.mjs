#!/usr/bin/env node
/**
 * `npm run screenshots`: regenerates the README's dashboard pictures (docs/dashboard-*.png) from a running
 * secr (`npm start`; SECR_URL, default http://localhost:8080) in Debian's Chromium. It signs up a demo
 * account with made-up secrets on that server: point it at a development instance only. The admin
 * pages are shot only when SECR_ADMIN_EMAIL and SECR_ADMIN_PASSWORD name a (verified) instance admin
 * of that server.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = (process.env.SECR_URL ?? 'http://localhost:8080').replace(/\/$/, '');
const out = path.resolve(import.meta.dirname, '../docs');
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1100, height: 620 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const shot = (name) => page.screenshot({ path: path.join(out, `dashboard-${name}.png`) });
  const field = (label) => page.getByLabel(new RegExp(`^${label}( \\*)?$`));
  const email = `demo-${Date.now().toString(36)}@example.com`;

  await page.goto('/sign-up');
  await field('Name').fill('Ada Lovelace');
  await field('Email').fill(email);
  await field('Password').fill('a demo passphrase for screenshots');
  await shot('sign-up');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: /projects$/ }).waitFor();
  const org = new URL(page.url()).pathname.split('/').slice(0, 3).join('/');
  await field('Project name').fill('Billing API');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('link', { name: 'Development' }).waitFor();
  await page.getByRole('link', { name: 'Development' }).click();
  await page.getByRole('button', { name: 'Paste .env' }).click();
  await page
    .getByRole('textbox', { name: '.env' })
    .fill(
      'DATABASE_URL=postgres://app:demo@db:5432/billing\nSTRIPE_KEY=sk_test_demo\nREDIS_URL=redis://cache:6379\nLOG_LEVEL=info\nFEATURE_FLAGS=new-invoices\n',
    );
  await page.getByRole('button', { name: /^Import/ }).click();
  await page.getByRole('button', { name: 'Reveal LOG_LEVEL' }).click();
  await page.getByText('info', { exact: true }).waitFor();
  await shot('secrets');

  const project = new URL(page.url()).pathname.split('/').slice(0, 5).join('/');
  await page.goto(`${project}/promote`);
  await page.getByRole('combobox', { name: 'From' }).click();
  await page.getByRole('option', { name: /^Development/ }).click();
  await page.getByRole('combobox', { name: 'To' }).click();
  await page.getByRole('option', { name: /^Staging/ }).click();
  await page.getByRole('button', { name: 'Preview plan' }).click();
  await page.getByText('Plan (nothing changed yet)').waitFor();
  await shot('promote');

  await page.goto(`${project}/templates`);
  for (const key of ['DATABASE_URL', 'STRIPE_KEY', 'SENTRY_DSN']) {
    await field('Template key').fill(key);
    await page.getByRole('button', { name: 'Add template key' }).click();
    await page.getByRole('cell', { name: key, exact: true }).waitFor();
  }
  await page.getByRole('region', { name: 'Validation of production' }).getByText('3 missing').waitFor();
  await page.getByRole('region', { name: 'Validation of production' }).scrollIntoViewIfNeeded();
  await shot('templates');

  await page.goto(`${org}/billing`);
  await page.getByRole('group', { name: /^Usage of projects/ }).waitFor();
  await shot('billing');

  await page.goto(`${org}/audit`);
  await page.getByRole('cell', { name: 'template.added', exact: true }).first().waitFor();
  await shot('audit');

  if (process.env.SECR_ADMIN_EMAIL && process.env.SECR_ADMIN_PASSWORD) {
    const admin = await (await browser.newContext({ baseURL: base, viewport: { width: 1100, height: 620 }, deviceScaleFactor: 1 })).newPage();
    await admin.goto('/sign-in');
    await admin.getByLabel(/^Email( \*)?$/).fill(process.env.SECR_ADMIN_EMAIL);
    await admin.getByLabel(/^Password( \*)?$/).fill(process.env.SECR_ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Administration' }).click();
    await admin.getByRole('img', { name: /^Requests per hour/ }).waitFor();
    await admin.getByRole('group', { name: 'Count of users' }).waitFor();
    await admin.screenshot({ path: path.join(out, 'dashboard-admin.png') });
  }

  // The approval page of `secr login`, for a request started as the CLI would.
  const started = await (
    await fetch(`${base}/v1/auth/cli-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostname: 'ada-laptop' }),
    })
  ).json();
  await page.goto(`/cli-login?code=${started.userCode}`);
  await page.getByRole('button', { name: 'Deny' }).waitFor();
  await shot('cli-login');
  await page.getByRole('button', { name: 'Deny' }).click();
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
}
