/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the real server,
 * which serves the built dashboard (npm run build:web) at / from its own port.
 *
 * One story, in steps that build on each other: a person signs up, makes a project and its secrets,
 * promotes them, invites a colleague, and signs the real `secr` binary in through the browser.
 * One browser for the file; one context (cookie jar) per person.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { collect, createCliSandbox, removeCliSandboxes } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';
import { until } from '../support/until.js';

const PASSWORD = 'a long dashboard passphrase';
const unique = Date.now().toString(36);
const owner = { name: 'Ada', email: `ada-${unique}@example.com` };
const invitee = { name: 'Vic', email: `vic-${unique}@example.com` };

describe('dashboard', () => {
  let ctx: TestContext;
  let browser: Browser;
  let ownerContext: BrowserContext;
  let page: Page;
  /** Filled in as the story goes. */
  const state = { org: '', project: 'payments', secretsUrl: '' };

  beforeAll(async () => {
    [ctx, browser] = await Promise.all([startTestContext({ CLI_LOGIN_POLL_INTERVAL_SECONDS: '1' }), launchBrowser()]);
    ownerContext = await browser.newContext({ baseURL: ctx.api.baseUrl });
    await ownerContext.addInitScript(REACT_ROOTS_HOOK);
    page = await ownerContext.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    page.setDefaultTimeout(15_000);
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
    await removeCliSandboxes();
  });

  it('is served at / with a strict CSP and no inline script; deep links load it; /v1 and /health keep their meaning', async () => {
    const index = await ctx.api.get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(index.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // every script is a file of this origin

    const deep = await ctx.api.get('/orgs/some-org/projects/some-project/envs/production');
    expect(deep.status).toBe(200);
    expect(deep.text).toBe(index.text);

    const api = await ctx.api.get('/v1/no-such-route');
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ code: 'not_found' });
    expect((await ctx.api.get('/health')).body).toMatchObject({ status: 'ok' });
    expect((await ctx.api.get('/v1/auth/me')).status).toBe(401);
  });

  it('lets a new user sign up, create a project, add secrets, reveal, edit, read the history and roll back', async () => {
    await page.goto('/');
    await page.waitForURL('**/sign-in');
    await page.getByRole('link', { name: 'Create one' }).click();
    await field(page, 'Name').fill(owner.name);
    await field(page, 'Email').fill(owner.email);
    await field(page, 'Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: /projects$/ }).waitFor();
    state.org = new URL(page.url()).pathname.split('/')[2];

    // Time to interactive of the first page after sign-in, from a fresh navigation (printed, not asserted).
    const started = Date.now();
    await page.goto(`/orgs/${state.org}`);
    await page.getByRole('button', { name: 'Create project' }).waitFor();
    const tti = Date.now() - started;
    // Evaluated in the page (a string: this program has no DOM types).
    const nav = await page.evaluate<{ domInteractive: number; loaded: number }>(
      '(([e]) => ({ domInteractive: Math.round(e.domInteractive), loaded: Math.round(e.loadEventEnd) }))(performance.getEntriesByType("navigation"))',
    );
    process.stdout.write(`dashboard: first page after sign-in interactive in ${tti} ms (DOM interactive ${nav.domInteractive} ms, load ${nav.loaded} ms)\n`);

    await page.getByLabel('Project name').fill('Payments');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Payments' }).waitFor();
    await page.getByRole('link', { name: 'Development' }).click();
    state.secretsUrl = `/orgs/${state.org}/projects/${state.project}/envs/development`;
    await page.waitForURL(`**${state.secretsUrl}`);

    // Add one by the form, three by pasting a .env block.
    await page.getByRole('button', { name: 'Add secret' }).click();
    await field(page, 'Key').fill('API_KEY');
    await field(page, 'Value').fill('first-value');
    await field(page, 'Description').fill('Payment provider key');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Reveal API_KEY' }).waitFor();
    await page.getByRole('button', { name: 'Paste .env' }).click();
    await page.getByRole('textbox', { name: '.env' }).fill('DB_URL=postgres://db/payments\nexport REDIS_URL="redis://cache"\nLOG_LEVEL=debug # noisy\n');
    await page.getByRole('button', { name: 'Import 3 key(s)' }).click();
    await page.getByRole('button', { name: 'Reveal LOG_LEVEL' }).waitFor();
    expect(await page.getByText('4 secret(s)').count()).toBe(1);

    // Values are hidden until revealed; a reveal is an audited pull.
    expect(await page.getByText('first-value').count()).toBe(0);
    await page.getByRole('button', { name: 'Reveal API_KEY' }).click();
    await page.getByText('first-value').waitFor();
    expect(await page.getByText('redis://cache').count()).toBe(0);
    const reads = await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'secret.read' ORDER BY id`);
    expect(reads.rows.length).toBeGreaterThanOrEqual(1);

    // Edit: a new version with its description.
    await page.getByRole('button', { name: 'Edit API_KEY' }).click();
    await field(page, 'Value').fill('second-value');
    await field(page, 'Description').fill('Rotated key');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Rotated key').waitFor();
    await page.getByRole('cell', { name: 'v2' }).waitFor();

    // History, then roll back to version 1.
    await page.getByRole('button', { name: 'History of API_KEY' }).click();
    const dialog = page.getByRole('dialog', { name: 'History of API_KEY' });
    await dialog.getByRole('button', { name: 'Show value of version 1' }).click();
    await dialog.getByText('first-value').waitFor();
    await dialog.getByText(owner.email).first().waitFor();
    await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
    await dialog.getByText('Rolled back: version 3 carries the value of version 1.').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Reveal API_KEY' }).click();
    await page.getByRole('cell', { name: 'Value of API_KEY' }).getByText('first-value').waitFor();
    const stored = await ctx.api.get(`/v1/secrets/${state.org}/${state.project}/development/versions/API_KEY`, { session: await sessionOf(ownerContext) });
    expect(stored.body.versions.map((v: { version: number; source: string }) => [v.version, v.source])).toEqual([
      [3, 'rollback'],
      [2, 'set'],
      [1, 'set'],
    ]);

    // A reference (issue 19) is shown and edited as stored, not resolved.
    const owned = { session: await sessionOf(ownerContext) };
    const refPath = `/v1/secrets/${state.org}/${state.project}/development`;
    expect((await ctx.api.put(refPath, { key: 'REF_URL', value: 'pre-${API_KEY}-post' }, owned)).status).toBe(200);
    await page.reload();
    await page.getByRole('button', { name: 'Reveal REF_URL' }).click();
    await page.getByRole('cell', { name: 'Value of REF_URL' }).getByText('pre-${API_KEY}-post').waitFor();
    await page.getByRole('button', { name: 'Edit REF_URL' }).click();
    expect(await field(page, 'Value').inputValue()).toBe('pre-${API_KEY}-post');
    await page.keyboard.press('Escape');
    expect((await ctx.api.delete(`${refPath}/REF_URL`, owned)).status).toBe(200);
  });

  it("promotes secrets after showing the server's dry-run plan", async () => {
    await page.goto(`/orgs/${state.org}/projects/${state.project}/promote`);
    await pick(page, 'From', /^Development/);
    await pick(page, 'To', /^Staging/);
    await page.getByRole('checkbox', { name: 'API_KEY' }).check();
    await page.getByRole('checkbox', { name: 'DB_URL' }).check();
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.getByText('Plan (nothing changed yet)').waitFor();
    await page.getByText('2 created, 0 updated, 0 skipped').waitFor();
    const staging = () =>
      ctx.db.query(`SELECT count(*)::int AS n FROM secrets s JOIN environments e ON e.id = s.environment_id WHERE e.slug = 'staging' AND s.deleted_at IS NULL`);
    expect((await staging()).rows[0].n).toBe(0); // the plan changed nothing
    await page.getByRole('button', { name: 'Apply: 2 new, 0 overwritten' }).click();
    await page.getByText('Promoted 2 key(s) from development to staging').waitFor();
    expect((await staging()).rows[0].n).toBe(2);
  });

  it('invites a member who signs up and accepts, and who is offered only what a viewer may do', async () => {
    await page.goto(`/orgs/${state.org}/members`);
    await field(page, 'Email').fill(invitee.email);
    await pick(page, 'Role', 'viewer');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = (await page.getByLabel('Invitation link').textContent())!;
    expect(link).toContain('/invite#token=');

    const inviteeContext = await browser.newContext({ baseURL: ctx.api.baseUrl });
    try {
      const other = await inviteeContext.newPage();
      await other.goto(link);
      await field(other, 'Name').fill(invitee.name);
      expect(new URL(other.url()).hash).toBe(''); // the token left the address bar when the page read it
      await field(other, 'Email').fill(invitee.email);
      await field(other, 'Password').fill(PASSWORD);
      await other.getByRole('button', { name: 'Create account' }).click();
      await other.getByRole('button', { name: 'Accept invitation' }).click();
      await other.waitForURL(`**/orgs/${state.org}`);

      await other.getByRole('link', { name: 'Payments' }).click();
      await other.getByRole('link', { name: 'Development' }).waitFor();
      expect(await other.getByRole('link', { name: 'Production' }).count()).toBe(0);
      expect(await other.getByRole('link', { name: 'Staging' }).count()).toBe(0);
      expect(await other.getByRole('button', { name: 'Promote secrets' }).count()).toBe(0);
      await other.getByRole('link', { name: 'Development' }).click();
      await other.getByRole('button', { name: 'Reveal API_KEY' }).waitFor();
      expect(await other.getByRole('button', { name: 'Add secret' }).count()).toBe(0);
      expect(await other.getByRole('button', { name: 'Edit API_KEY' }).count()).toBe(0);

      // A page the role may not see, opened by its URL: the API's 403 is shown as such.
      await other.goto(`/orgs/${state.org}/audit`);
      await other.getByRole('alert').getByText('Not allowed').waitFor();
    } finally {
      await inviteeContext.close();
    }
  });

  it('signs the real secr binary in through the browser while it waits, and the CLI then pulls', async () => {
    const sandbox = await createCliSandbox(ctx.api.baseUrl);
    const login = sandbox.spawn(['login']);
    const done = collect(login, 60_000);
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`secr login printed no URL: ${seen}`)), 20_000);
      login.stderr!.on('data', (d: Buffer | string) => {
        seen += d.toString();
        const found = /open (http\S+)/.exec(seen);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]);
        }
      });
    });
    const code = new URL(url).searchParams.get('code')!;
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);

    await page.goto(url);
    expect(await page.getByLabel('Code').textContent()).toBe(code);
    expect(await page.getByLabel('Machine').textContent()).toBeTruthy();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('The CLI is signed in as you').waitFor();

    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`as ${owner.email}`);
    const pulled = await sandbox.run(['get', 'API_KEY', '--plain', '--org', state.org, '--project', state.project, '--env', 'development']);
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toBe('first-value\n');
  });

  it('keeps values out of web storage, the URL and script-readable cookies, drops them on leaving the page, and signs out on the server', async () => {
    await page.goto(state.secretsUrl);
    await page.getByRole('button', { name: 'Reveal all' }).click();
    await page.getByText('redis://cache').waitFor();
    const exposed = await page.evaluate<{ cookies: string; local: string; session: string; url: string }>(
      '({ cookies: document.cookie, local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }), url: location.href })',
    );
    expect(exposed.cookies).not.toContain('__secr_session');
    for (const where of [exposed.local, exposed.session, exposed.url]) {
      for (const value of ['first-value', 'redis://cache', 'postgres://db/payments']) expect(where).not.toContain(value);
    }

    // The editor fetches the value it shows too.
    await page.getByRole('button', { name: 'Edit API_KEY' }).click();
    expect(await field(page, 'Value').inputValue()).toBe('first-value');
    await page.keyboard.press('Escape');
    const held = await tanstackCaches(page);
    expect(held).toContain('redis://cache'); // what is looked into does hold the values while the page shows them

    // Another page and back: the values are gone from the page, and from TanStack's caches (mutations
    // keep their data and variables for gcTime after their page unmounts: 5 minutes by default).
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: /members$/ }).waitFor();
    const values = /first-value|redis:\/\/cache|postgres:\/\/db\/payments/;
    await until('the values leave the caches', async () => !values.test(await tanstackCaches(page)), 2_000).catch(() => undefined);
    expect(await tanstackCaches(page)).not.toMatch(values);
    await page.goBack();
    await page.getByRole('button', { name: 'Reveal API_KEY' }).waitFor();
    expect(await page.getByText('redis://cache').count()).toBe(0);

    const session = await sessionOf(ownerContext);
    expect((await ctx.api.get('/v1/auth/me', { session })).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    expect((await ctx.api.get('/v1/auth/me', { session })).status).toBe(401); // the server session is over, not just the cookie
  });
});

/**
 * Stands in for React DevTools' hook (installed before the app's script runs) and keeps each React root
 * React reports at commit, so that a test can reach the app's QueryClient without the app exposing it.
 */
const REACT_ROOTS_HOOK = `window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
  supportsFiber: true, isDisabled: false, renderers: new Map(), roots: new Set(),
  inject(renderer) { this.renderers.set(this.renderers.size + 1, renderer); return this.renderers.size; },
  onCommitFiberRoot(_id, root) { this.roots.add(root); }, onCommitFiberUnmount() {}, onPostCommitFiberRoot() {}, checkDCE() {},
};`;

/** Everything TanStack Query holds in the page (each mutation's data and variables, each query's data), as one JSON text. */
async function tanstackCaches(page: Page): Promise<string> {
  const text = await page.evaluate<string | null>(`(() => {
    for (const root of window.__REACT_DEVTOOLS_GLOBAL_HOOK__.roots) {
      const fibers = [root.current];
      while (fibers.length) {
        const fiber = fibers.pop();
        const client = fiber.memoizedProps && fiber.memoizedProps.client;
        if (client && typeof client.getMutationCache === 'function') {
          return JSON.stringify({
            mutations: client.getMutationCache().getAll().map((m) => ({ data: m.state.data, variables: m.state.variables })),
            queries: client.getQueryCache().getAll().map((q) => ({ key: q.queryKey, data: q.state.data })),
          });
        }
        if (fiber.child) fibers.push(fiber.child);
        if (fiber.sibling) fibers.push(fiber.sibling);
      }
    }
    return null;
  })()`);
  if (text === null) throw new Error('no QueryClient found in the page’s React tree');
  return text;
}

/** The session cookie of a browser context (HttpOnly: readable here, not by the page's script). */
async function sessionOf(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === '__secr_session');
  if (!cookie) throw new Error('no session cookie in the browser');
  expect(cookie.httpOnly).toBe(true);
  return cookie.value;
}

/** A form field by its label, as a person reads it (a required field's label ends with ' *'). */
function field(page: Page, label: string) {
  return page.getByLabel(new RegExp(`^${label}( \\*)?$`));
}

/** Chooses an option of a Mantine select, as a person does: open it, click the option. */
async function pick(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByRole('combobox', { name: label }).click();
  await page.getByRole('option', { name: option }).click();
}
