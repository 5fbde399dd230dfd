/**
 * The dashboard's management pages in a real browser (Debian's Chromium through playwright-core)
 * against the real server: templates and their validation, webhooks with a real receiver, billing with
 * a local Stripe, the admin pages and their request chart, account activity, audit filters, the mailed
 * verify and reset links (real SMTP), and a lock-out on sign-in.
 *
 * One browser and one app for the file. The owner (an instance admin) is registered through the API
 * and their session cookie put into one browser context, reused by every test that acts as them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEFAULT_PASSWORD, registerUser, type TestUser } from '../factories/accounts.js';
import { createProject, seedSecrets, setSecret, type TestProject } from '../factories/vault.js';
import { launchBrowser } from '../support/browser.js';
import { FakeStripe } from '../support/fake-stripe.js';
import { TestMailServer, tokenOf } from '../support/mail-server.js';
import { startTestContext, type TestContext } from '../support/test-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const ADMIN_EMAIL = `root-${Date.now().toString(36)}@example.com`;

describe('dashboard pages', () => {
  let ctx: TestContext;
  let browser: Browser;
  let mail: TestMailServer;
  let receiver: WebhookReceiver;
  let stripe: FakeStripe;
  let owner: TestUser;
  let colleague: TestUser;
  let ownerContext: BrowserContext;
  let page: Page;
  let shop: TestProject;
  let other: TestProject;
  let orgPath = '';
  /** Every script URL the owner's page fetched, to see what the first page loads. */
  const scripts: string[] = [];

  beforeAll(async () => {
    // Each assigned as it starts, so that afterAll stops what did start when another one fails.
    await Promise.all([
      TestMailServer.start().then((m) => (mail = m)),
      WebhookReceiver.start().then((r) => (receiver = r)),
      new FakeStripe().start().then((s) => (stripe = s)),
      launchBrowser().then((b) => (browser = b)),
    ]);
    ctx = await startTestContext({
      SMTP_URL: mail.url,
      SECR_ADMIN_EMAILS: ADMIN_EMAIL,
      DEFAULT_PLAN: 'free',
      STRIPE_SECRET_KEY: 'sk_test_dashboard',
      STRIPE_WEBHOOK_SECRET: 'whsec_dashboard',
      STRIPE_PRICE_PRO: 'price_pro',
      STRIPE_PRICE_TEAM: 'price_team',
      STRIPE_API_URL: stripe.url,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      OIDC_ALLOW_PRIVATE: 'true', // the trust below names a loopback issuer (no public address, even unfetched)
      WEBHOOK_POLL_INTERVAL_MS: '500',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000',
      LOGIN_LOCKOUT_FAILURES: '3',
    });
    [owner, colleague] = await Promise.all([registerUser(ctx.api, 'Root', ADMIN_EMAIL), registerUser(ctx.api, 'colleague')]);
    // With SMTP configured the invitation's token comes by mail only.
    expect(
      (await ctx.api.post(`/v1/members/${owner.personalOrg.id}/invite`, { email: colleague.email, role: 'admin' }, { session: owner.session })).status,
    ).toBe(201);
    const invitation = tokenOf((await mail.next(colleague.email, /^Join /)).links[0]);
    expect((await ctx.api.post(`/v1/members/invite/${invitation}/accept`, undefined, { session: colleague.session })).status).toBe(200);
    [shop, other] = await Promise.all([createProject(ctx.api, owner, owner.personalOrg, 'shop'), createProject(ctx.api, owner, owner.personalOrg, 'other')]);
    await seedSecrets(ctx.api, { session: owner.session }, owner.personalOrg, shop, 'development', { DB_URL: 'postgres://db', EXTRA_KEY: 'x' });
    orgPath = `/orgs/${owner.personalOrg.slug}`;
    ownerContext = await signedIn(owner);
    page = await ownerContext.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('request', (request) => request.resourceType() === 'script' && scripts.push(request.url()));
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
    await Promise.all([mail?.stop(), receiver?.close(), stripe?.close()]);
  });

  /** A browser context holding `user`'s session cookie (HttpOnly, as the server sets it). */
  async function signedIn(user: TestUser): Promise<BrowserContext> {
    const context = await browser.newContext({ baseURL: ctx.api.baseUrl });
    await context.addCookies([{ name: '__secr_session', value: user.session, url: ctx.api.baseUrl, httpOnly: true, sameSite: 'Lax' }]);
    context.setDefaultTimeout(15_000);
    return context;
  }

  it('verifies the address by the mailed link (instance admins need a verified one)', async () => {
    await page.goto('/account');
    await page.getByRole('button', { name: 'Mail me a verification link' }).click();
    const link = (await mail.next(owner.email, /^Confirm your email address/)).links[0];
    const { pathname, hash } = new URL(link);
    await page.goto(pathname + hash);
    await page.getByRole('button', { name: 'Confirm my address' }).waitFor();
    expect(new URL(page.url()).hash).toBe(''); // the page took the token out of the address bar
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await page.getByText('Your address is verified.').waitFor();
    expect((await ctx.api.get('/v1/auth/me', { session: owner.session })).body.user.emailVerified).toBe(true);
  });

  it("adds and removes template keys and shows each environment's missing and extra keys", async () => {
    await page.goto(`${orgPath}/projects/${shop.slug}`);
    await page.getByRole('link', { name: 'Template' }).click();
    await page.getByRole('heading', { name: 'shop: template' }).waitFor();
    for (const [key, required] of [
      ['DB_URL', true],
      ['API_KEY', true],
      ['SENTRY_DSN', false],
    ] as const) {
      await field(page, 'Template key').fill(key);
      if (!required) await page.getByRole('checkbox', { name: 'Required' }).uncheck();
      await page.getByRole('button', { name: 'Add template key' }).click();
      await page.getByRole('cell', { name: key, exact: true }).waitFor();
    }
    const development = page.getByRole('region', { name: 'Validation of development' });
    const production = page.getByRole('region', { name: 'Validation of production' });
    await development.getByText('1 missing').waitFor();
    expect(await textOf(development)).toMatch(/Missing: API_KEY\s*Extra: EXTRA_KEY$/);
    await production.getByText('2 missing').waitFor();
    expect(await textOf(production)).toMatch(/Missing: (API_KEYDB_URL|DB_URLAPI_KEY)\s*Extra: none$/);

    await page.getByRole('button', { name: 'Remove API_KEY' }).click();
    await development.getByText('valid', { exact: true }).waitFor();
    const stored = await ctx.db.query(`SELECT key, required FROM templates WHERE project_id = $1 ORDER BY key`, [shop.id]);
    expect(stored.rows).toEqual([
      { key: 'DB_URL', required: true },
      { key: 'SENTRY_DSN', required: false },
    ]);
  });

  it('creates a webhook, shows its signing secret once, edits it, sends a test, shows the attempt in the delivery log, and deletes it', async () => {
    await page.goto(`${orgPath}/webhooks`);
    await field(page, 'URL').fill(receiver.url('/hook'));
    await pick(page, 'Project', 'shop');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secret = (await page.getByLabel('Signing secret', { exact: true }).textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('link', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'Webhook' }).waitFor();
    expect(await page.getByText(secret).count()).toBe(0); // shown once: the detail page has only its hint

    await page.getByRole('button', { name: 'Edit' }).click();
    await field(page, 'Webhook description').fill('Deploy bot');
    await field(page, 'Environments').fill('production, staging');
    await page.getByRole('button', { name: 'Save webhook' }).click();
    await page.getByText('Deploy bot').waitFor();
    const [hook] = (await ctx.db.query(`SELECT id, description, environments FROM webhooks WHERE org_id = $1`, [owner.personalOrg.id])).rows;
    expect(hook).toMatchObject({ description: 'Deploy bot', environments: ['production', 'staging'] });

    await page.getByRole('button', { name: 'Send test delivery' }).click();
    const [arrived] = await receiver.waitFor('/hook', 1, 20_000);
    expect(arrived.headers['x-secr-event']).toBe('webhook.test');
    expect(arrived.headers['x-secr-signature']).toBe(`sha256=${createHmac('sha256', secret).update(arrived.body).digest('hex')}`);
    await page.getByText('Test delivery attempted: see the log below.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'webhook.test' });
    expect(await textOf(row)).toContain('delivered');
    expect(await textOf(row)).toContain('200');
    await page.getByText('1–1 of 1 attempts').waitFor();

    await page.getByRole('button', { name: 'Delete' }).click(); // confirmed (the page accepts dialogs)
    await page.getByText('No webhooks yet.').waitFor();
    expect((await ctx.db.query(`SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1`, [owner.personalOrg.id])).rows[0].n).toBe(0);
  });

  it('reaches keyless CI from the menu, creates a trust relationship with its conditions and grants, and deletes it', async () => {
    await page.goto(orgPath);
    await page.getByRole('link', { name: 'Keyless CI' }).click();
    await page.getByRole('heading', { name: /: keyless CI$/ }).waitFor();
    await field(page, 'Name').fill('github-deploy');
    await field(page, 'Issuer').fill('http://127.0.0.1:9/issuer');
    await field(page, 'Audience').fill('https://secr.example.test');
    await field(page, 'Conditions').fill('repository=acme/api\nref=refs/heads/main');
    await pick(page, 'Project', 'shop');
    await field(page, 'Environments').fill('staging');
    await page.getByRole('button', { name: 'Create relationship' }).click();
    const row = page.getByRole('row').filter({ hasText: 'github-deploy' });
    await row.waitFor();
    expect(await textOf(row)).toContain('shop / staging, read, 15 min');
    const [trust] = (
      await ctx.db.query(`SELECT id, issuer, audience, conditions, environments, access, ttl_seconds FROM oidc_trusts WHERE org_id = $1`, [
        owner.personalOrg.id,
      ])
    ).rows;
    expect(trust).toMatchObject({
      issuer: 'http://127.0.0.1:9/issuer',
      audience: 'https://secr.example.test',
      environments: ['staging'],
      access: 'read',
      ttl_seconds: 900,
    });
    expect(trust.conditions).toEqual([
      { claim: 'repository', pattern: 'acme/api' },
      { claim: 'ref', pattern: 'refs/heads/main' },
    ]);
    expect(await row.getByRole('button', { name: 'Copy the id of github-deploy' }).textContent()).toBe(trust.id.slice(0, 8));

    await row.getByRole('button', { name: 'Delete' }).click(); // confirmed (the page accepts dialogs)
    await row.waitFor({ state: 'detached' });
    expect((await ctx.db.query(`SELECT count(*)::int AS n FROM oidc_trusts WHERE org_id = $1`, [owner.personalOrg.id])).rows[0].n).toBe(0);
  });

  it('shows the plan and usage against its limits, and sends an owner to Stripe Checkout; an admin gets no payment buttons', async () => {
    await page.route('https://checkout.stripe.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Stripe Checkout</p>' }));
    await page.goto(`${orgPath}/billing`);
    expect(await page.getByLabel('Plan', { exact: true }).textContent()).toBe('free');
    expect(await textOf(page.getByRole('group', { name: 'Usage of projects per organization' }))).toContain('2 / 3');
    expect(await textOf(page.getByRole('group', { name: 'Usage of webhooks per organization' }))).toContain('0 / 2');
    expect(await page.getByRole('button', { name: 'Manage subscription' }).count()).toBe(0); // no subscription yet
    await page.getByRole('button', { name: 'Upgrade to Pro' }).click();
    await page.waitForURL('https://checkout.stripe.com/**');
    const checkout = stripe.calls.find((c) => c.path === '/v1/checkout/sessions');
    expect(checkout?.form.get('line_items[0][price]')).toBe('price_pro');

    // The org as a finished Checkout leaves it (Stripe's webhook is billing.e2e-spec's subject): the portal is offered.
    await ctx.db.query(
      `UPDATE orgs SET plan = 'pro', stripe_customer_id = 'cus_dashboard', subscription_status = 'active', current_period_end = now() + interval '30 days' WHERE id = $1`,
      [owner.personalOrg.id],
    );
    await page.route('https://billing.stripe.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Stripe portal</p>' }));
    await page.goto(`${orgPath}/billing`);
    expect(await page.getByLabel('Plan', { exact: true }).textContent()).toBe('pro');
    expect(await textOf(page.getByRole('group', { name: 'Usage of projects per organization' }))).toContain('2 / 20');
    expect(await page.getByRole('button', { name: 'Upgrade to Pro' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Manage subscription' }).click();
    await page.waitForURL('https://billing.stripe.com/**');
    expect(stripe.calls.find((c) => c.path === '/v1/billing_portal/sessions')?.form.get('customer')).toBe('cus_dashboard');

    const adminContext = await signedIn(colleague);
    try {
      const admin = await adminContext.newPage();
      await admin.goto(`${orgPath}/billing`);
      await admin.getByText('Only an owner changes the plan.').waitFor();
      expect(await admin.getByRole('button', { name: /^Upgrade/ }).count()).toBe(0);
    } finally {
      await adminContext.close();
    }
  });

  it('shows an instance admin the stats, the request chart (from a chunk the first page never loads) and lets them override an org limit', async () => {
    await page.goto(orgPath);
    await page.getByRole('heading', { name: /projects$/ }).waitFor();
    expect(scripts.some((s) => /admin-pages/.test(s))).toBe(false);
    // Request figures as the server's flush writes them (every 15 s), in hours this test's own requests do not reach.
    await ctx.db.query(
      `INSERT INTO request_metrics (minute, method, route, count, errors, client_errors, histogram)
       VALUES (date_trunc('hour', now()) - interval '5 hours', 'GET', '/v1/auth/me', 40, 2, 5, '{"12": 40}'),
              (date_trunc('hour', now()) - interval '2 hours', 'PUT', '/v1/secrets/:orgSlug/:project/:env', 7, 0, 1, '{"20": 7}')`,
    );
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Instance administration' }).waitFor();
    expect(scripts.some((s) => /admin-pages/.test(s))).toBe(true);
    expect(await textOf(page.getByRole('group', { name: 'Count of users' }))).toMatch(/users\s*2$/);
    const chart = page.getByRole('img', { name: 'Requests per hour, last 24 hours' });
    await chart.waitFor();
    const bars = await chart.locator('title').allTextContents();
    const hour = (ago: number) => new Date(Date.now() - ago * 3_600_000).toISOString().slice(5, 13).replace('T', ' ');
    expect(bars).toContain(`${hour(5)}h UTC: 40 requests, 5 4xx, 2 5xx`);
    expect(bars).toContain(`${hour(2)}h UTC: 7 requests, 1 4xx, 0 5xx`);
    expect(bars.length).toBeLessThanOrEqual(3); // and this hour's real requests, once flushed
    await page.getByRole('cell', { name: 'GET /v1/auth/me' }).waitFor();

    await page.getByRole('link', { name: 'All organizations' }).click();
    await page.getByRole('heading', { name: 'All organizations' }).waitFor();
    await page.getByRole('link', { name: /^Root/ }).click();
    await field(page, 'projects per organization').fill('7');
    await page.getByRole('button', { name: 'Save plan and overrides' }).click();
    await page.getByRole('row', { name: /projects per organization\s*7\s*override/ }).waitFor();
    const [org] = (await ctx.db.query(`SELECT limit_overrides FROM orgs WHERE id = $1`, [owner.personalOrg.id])).rows;
    expect(org.limit_overrides).toEqual({ projectsPerOrg: 7 });

    await page.getByRole('link', { name: 'All plans' }).click();
    const team = page.getByRole('group', { name: 'Plan team' });
    await team.getByLabel('projects per organization').fill('150');
    await team.getByRole('button', { name: 'Save team' }).click();
    await team.getByLabel('projects per organization').and(page.locator('[placeholder="150"]')).waitFor();
    const [config] = (await ctx.db.query(`SELECT limits FROM plan_configs WHERE plan_name = 'team'`)).rows;
    expect(config.limits).toEqual({ projectsPerOrg: 150 });

    // Not offered to anyone else; opened by its URL, the API's 403 is shown as such.
    const adminContext = await signedIn(colleague);
    try {
      const other = await adminContext.newPage();
      await other.goto(orgPath);
      await other.getByRole('link', { name: 'Account activity' }).waitFor();
      expect(await other.getByRole('link', { name: 'Administration' }).count()).toBe(0);
      await other.goto('/admin');
      await other.getByRole('alert').getByText('Not allowed').first().waitFor();
    } finally {
      await adminContext.close();
    }
  });

  it('offers a viewer no management: no webhooks, keyless CI, audit or billing pages, a template without edits, only the development environment', async () => {
    const viewer = await registerUser(ctx.api, 'viewer');
    expect((await ctx.api.post(`/v1/members/${owner.personalOrg.id}/invite`, { email: viewer.email, role: 'viewer' }, { session: owner.session })).status).toBe(
      201,
    );
    const invitation = tokenOf((await mail.next(viewer.email, /^Join /)).links[0]);
    expect((await ctx.api.post(`/v1/members/invite/${invitation}/accept`, undefined, { session: viewer.session })).status).toBe(200);
    const context = await signedIn(viewer);
    try {
      const guest = await context.newPage();
      await guest.goto(`${orgPath}/projects/${shop.slug}/templates`);
      await guest.getByRole('region', { name: 'Validation of development' }).getByText('valid', { exact: true }).waitFor();
      await guest.getByRole('cell', { name: 'DB_URL', exact: true }).waitFor();
      expect(await guest.getByRole('region', { name: /^Validation of (staging|production)$/ }).count()).toBe(0);
      expect(await guest.getByRole('button', { name: 'Add template key' }).count()).toBe(0);
      expect(await guest.getByRole('button', { name: /^Remove / }).count()).toBe(0);
      for (const section of ['Webhooks', 'Keyless CI', 'Audit log', 'Billing']) expect(await guest.getByRole('link', { name: section }).count()).toBe(0);
      await guest.goto(`${orgPath}/billing`);
      await guest.getByText("Only the organization's owners and admins see its plan and billing.").waitFor();
      await guest.goto(`${orgPath}/oidc`);
      await guest.getByText('Only owners and admins manage keyless CI.').waitFor();
    } finally {
      await context.close();
    }
  });

  it("lists the account's own activity, page by page", async () => {
    // 30 more sign-ins: two pages of 25.
    for (let i = 0; i < 30; i++) expect((await ctx.api.post('/v1/auth/login', { email: owner.email, password: DEFAULT_PASSWORD })).status).toBe(200);
    await page.goto('/account/activity');
    await page.getByText(/^1–25 of 3\d events$/).waitFor();
    expect(await page.getByRole('cell', { name: 'auth.login', exact: true }).count()).toBe(25);
    await page.getByRole('button', { name: '2', exact: true }).click();
    await page.getByText(/^26–3\d of 3\d events$/).waitFor();
    await page.getByRole('cell', { name: 'user.registered', exact: true }).waitFor();
  });

  it('filters the audit log by action, actor, project, key and time, on the server', async () => {
    await setSecret(ctx.api, { session: colleague.session }, owner.personalOrg, other, 'development', { key: 'BY_COLLEAGUE', value: 'v' });
    await page.goto(`${orgPath}/audit`);
    await page.getByRole('cell', { name: 'template.added', exact: true }).first().waitFor();

    await pick(page, 'Actor', colleague.email);
    await page.getByText(/^1–2 of 2 events$/).waitFor();
    expect(await page.locator('tbody tr td:nth-child(3)').allTextContents()).toEqual([colleague.email, colleague.email]);
    expect(await page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['secret.created', 'member.joined']);

    await page.reload(); // filters start empty
    // The filtered page's own footer: the unfiltered page's ("1–25 of N") would match a looser pattern before the filter applies.
    const shopEvents = await ctx.api.get(`/v1/audit/${owner.personalOrg.id}?projectId=${shop.id}&offset=0&limit=1`, { session: owner.session });
    expect(shopEvents.status).toBe(200);
    await pick(page, 'Project', 'shop');
    await page.getByText(new RegExp(`^1–\\d+ of ${shopEvents.body.pagination.total} events$`)).waitFor();
    const actions = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['project.created', 'secret.bulk_set', 'template.added', 'template.removed']));
    for (const details of await page.locator('tbody tr td:nth-child(5)').allTextContents()) expect(details).toContain(`"projectId":"${shop.id}"`);

    await field(page, 'From').fill('2999-01-01T00:00');
    await page.getByText(/^0–0 of 0 events$/).waitFor();
    await field(page, 'From').fill('');
    await field(page, 'Action').fill('template.added');
    await page.getByText(/^1–3 of 3 events$/).waitFor();

    await page.reload();
    await field(page, 'Key').fill('BY_COLLEAGUE');
    await page.getByText(/^1–1 of 1 events$/).waitFor();
    expect(await page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['secret.created']);
  });

  it('resets a forgotten password by the mailed link, then signs in with the new one', async () => {
    const user = await registerUser(ctx.api, 'forgetful');
    const context = await browser.newContext({ baseURL: ctx.api.baseUrl });
    try {
      const guest = await context.newPage();
      await guest.goto('/sign-in');
      await guest.getByRole('link', { name: 'Forgot your password?' }).click();
      await field(guest, 'Email').fill(user.email);
      await guest.getByRole('button', { name: 'Mail me a link' }).click();
      await guest.getByRole('status').waitFor();
      const { pathname, hash } = new URL((await mail.next(user.email, /^Reset your secr password/)).links[0]);
      await guest.goto(pathname + hash);
      await field(guest, 'New password').fill('a brand new passphrase');
      await guest.getByRole('button', { name: 'Set password' }).click();
      await guest.getByText('Your password is changed and every session is ended.').waitFor();
      expect((await ctx.api.get('/v1/auth/me', { session: user.session })).status).toBe(401);

      await guest.getByRole('link', { name: 'Sign in' }).click();
      await field(guest, 'Email').fill(user.email);
      await field(guest, 'Password').fill('a brand new passphrase');
      await guest.getByRole('button', { name: 'Sign in' }).click();
      await guest.getByRole('heading', { name: /projects$/ }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('says an account is locked after repeated failures, with the wait, and holds the button until then', async () => {
    const user = await registerUser(ctx.api, 'unlucky');
    const context = await browser.newContext({ baseURL: ctx.api.baseUrl });
    try {
      const guest = await context.newPage();
      await guest.goto('/sign-in');
      await field(guest, 'Email').fill(user.email);
      for (let i = 1; i <= 3; i++) {
        await field(guest, 'Password').fill(`wrong guess ${i}`);
        await guest.getByRole('button', { name: 'Sign in' }).click();
        await guest.getByRole('alert').getByText('Request refused').waitFor();
        await guest.getByRole('button', { name: 'Sign in', exact: true }).waitFor(); // not busy any more
      }
      await field(guest, 'Password').fill(DEFAULT_PASSWORD); // even the right one, while locked
      await guest.getByRole('button', { name: 'Sign in' }).click();
      const alert = guest.getByRole('alert');
      await alert.getByText('Account locked').waitFor();
      expect(await alert.textContent()).toMatch(/Try again in \d+ min/);
      expect(await guest.getByRole('button', { name: /^Sign in \(wait \d+ s\)$/ }).isDisabled()).toBe(true);
      expect(guest.url()).toMatch(/\/sign-in$/);
    } finally {
      await context.close();
    }
  });
});

/** The visible text of an element, whitespace as rendered between blocks dropped. */
async function textOf(locator: { textContent(): Promise<string | null> }): Promise<string> {
  return ((await locator.textContent()) ?? '').trim();
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
