import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PASSWORD, registerUser } from './factories/accounts.js';
import { sessionFrom, type Response } from './support/http.js';
import { TestMailServer, tokenOf } from './support/mail-server.js';
import { startTestContext, type HostedApp, type TestContext } from './support/test-app.js';
import { until } from './support/until.js';

/**
 * Issue 11: sign-up answers the same way for new and existing addresses (the owner of an existing one
 * is mailed instead), and is rate-limited per email address and per client address like login.
 */
const PUBLIC_URL = 'https://secr.example.test';
const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;

/** Everything a client sees of an answer, less what differs between any two answers (date, request id). */
function observable(res: Response): { status: number; body: unknown; headers: Array<[string, string]> } {
  const headers = [...res.headers.entries()].filter(([name]) => !['date', 'x-request-id'].includes(name));
  return { status: res.status, body: res.body, headers };
}

describe('registration', () => {
  let smtp: TestMailServer;
  let ctx: TestContext<HostedApp>;

  beforeAll(async () => {
    smtp = await TestMailServer.start();
    ctx = await startTestContext({ SMTP_URL: smtp.url, PUBLIC_URL });
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.stop();
  });

  const settled = () => Promise.all(ctx.instances.map((i) => i.call('MailOutbox', 'idle')));

  it('answers a new and an existing address with the same status, body and headers, and sets no cookie', async () => {
    const existing = await registerUser(ctx.api, 'existing');
    const fresh = await ctx.api.post('/v1/auth/register', { email: unique('fresh'), password: DEFAULT_PASSWORD, name: 'Fresh' });
    const again = await ctx.api.post('/v1/auth/register', { email: existing.email, password: DEFAULT_PASSWORD, name: 'Again' });
    expect(fresh.status).toBe(202);
    expect(observable(again)).toEqual(observable(fresh));
    expect(fresh.headers.getSetCookie()).toEqual([]);
    expect(again.headers.getSetCookie()).toEqual([]);
    expect(fresh.body).toEqual({ message: expect.stringContaining('/v1/auth/login') });
  });

  it('creates the account and its personal org, and mails a welcome whose link verifies the address', async () => {
    const email = unique('welcome');
    expect((await ctx.api.post('/v1/auth/register', { email, password: DEFAULT_PASSWORD, name: 'Wel' })).status).toBe(202);
    const mail = await smtp.next(email, /^Welcome to secr$/);
    expect(mail.text).toContain(PUBLIC_URL);
    const link = mail.links.find((l) => l.startsWith(`${PUBLIC_URL}/verify-email#token=`));
    expect(link).toBeDefined();

    const login = await ctx.api.post('/v1/auth/login', { email, password: DEFAULT_PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body.user.emailVerified).toBe(false);
    expect((await ctx.api.post('/v1/auth/verify-email', { token: tokenOf(link!) })).status).toBe(204);
    const me = await ctx.api.get('/v1/auth/me', { session: sessionFrom(login) });
    expect(me.body.user.emailVerified).toBe(true);
    expect(me.body.orgs).toEqual([expect.objectContaining({ role: 'owner', name: "Wel's org" })]);
  });

  it("mails the owner of an existing address instead, creates nothing, changes nothing, and shows the attempt in the owner's activity", async () => {
    const owner = await registerUser(ctx.api, 'owner');
    const before = await ctx.db.query('SELECT id, name, password_hash FROM users WHERE email = $1', [owner.email]);
    const orgsBefore = (await ctx.db.query('SELECT count(*)::int AS n FROM orgs')).rows[0].n;

    const res = await ctx.api.post('/v1/auth/register', { email: owner.email.toUpperCase(), password: 'an attacker passphrase', name: 'Mallory' });
    expect(res.status).toBe(202);
    const notice = await smtp.next(owner.email, /tried to create a secr account/);
    expect(notice.text).toContain('No new account was created');
    expect(notice.text).toContain(`${PUBLIC_URL}/forgot-password`);
    expect(notice.text).not.toContain('an attacker passphrase');
    expect(notice.text).not.toContain('Mallory');
    await settled();

    expect((await ctx.db.query('SELECT id, name, password_hash FROM users WHERE email = $1', [owner.email])).rows).toEqual(before.rows);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM orgs')).rows[0].n).toBe(orgsBefore);
    expect(smtp.to(owner.email).filter((m) => /^Welcome/.test(m.subject))).toHaveLength(1); // its own sign-up's only
    const activity = await ctx.api.get('/v1/auth/activity', { session: owner.session });
    expect(activity.body.events[0]).toMatchObject({ action: 'user.register_attempted' });
    expect(JSON.stringify(activity.body)).not.toContain('an attacker passphrase');
  });

  it('rate-limits sign-ups per email address, new and existing alike (429 + Retry-After)', async () => {
    const limited = await startTestContext({ REGISTER_RATE_LIMIT_PER_ADDRESS: '2' });
    try {
      const email = unique('again');
      const attempt = () => limited.api.post('/v1/auth/register', { email, password: DEFAULT_PASSWORD, name: 'Again' });
      expect((await attempt()).status).toBe(202); // creates the account
      expect((await attempt()).status).toBe(202); // an existing address
      const third = await attempt();
      expect(third.status).toBe(429);
      expect(third.body.code).toBe('rate_limited');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another address from the same client is not limited by this one's count.
      expect((await limited.api.post('/v1/auth/register', { email: unique('other'), password: DEFAULT_PASSWORD, name: 'O' })).status).toBe(202);
    } finally {
      await limited.close();
    }
  });

  it('creates every account when people of the same name sign up at once, each personal org with a slug of its own', async () => {
    // The personal org's slug comes from the name; the sign-ups race for it, and none may lose with a 409.
    const name = `Twin ${randomBytes(3).toString('hex')}`;
    const emails = Array.from({ length: 6 }, (_, i) => unique(`twin${i}`));
    const answers = await Promise.all(emails.map((email) => ctx.api.post('/v1/auth/register', { email, password: DEFAULT_PASSWORD, name })));
    expect(answers.map((res) => `${res.status} ${res.status === 202 ? '' : res.text}`.trim())).toEqual(emails.map(() => '202'));
    const { rows } = await ctx.db.query<{ email: string; slug: string }>(
      `SELECT u.email, o.slug FROM users u JOIN memberships m ON m.user_id = u.id AND m.role = 'owner' JOIN orgs o ON o.id = m.org_id WHERE u.email = ANY($1)`,
      [emails],
    );
    expect(rows.map((r) => r.email).sort()).toEqual([...emails].sort());
    expect(new Set(rows.map((r) => r.slug)).size).toBe(emails.length);
  });

  it('deletes expired rate-limit buckets in batches (junk from many addresses does not stay), keeps live ones and their counts', async () => {
    const emails = [1, 2, 3, 4, 5].map((i) => unique(`junk${i}`));
    for (const email of emails) expect((await ctx.api.post('/v1/auth/register', { email, password: DEFAULT_PASSWORD, name: 'Junk' })).status).toBe(202);
    const keys = emails.map((email) => `register:address:${email}`);
    const bucketsOf = async (wanted: string[]) =>
      (await ctx.db.query('SELECT key, count FROM rate_limit_buckets WHERE key = ANY($1) ORDER BY key', [wanted])).rows as Array<{
        key: string;
        count: number;
      }>;
    expect((await bucketsOf(keys)).length).toBe(5);
    // Three windows have run out (as an hour later); two have not.
    await ctx.db.query(`UPDATE rate_limit_buckets SET reset_at = now() - interval '1 second' WHERE key = ANY($1)`, [keys.slice(0, 3)]);

    const pruner = ctx.instances[0];
    // Batches of two: the pass goes on until a batch comes back short.
    expect(await pruner.call<number>('RateLimitPruner', 'prune', 2)).toBeGreaterThanOrEqual(3);
    expect(await bucketsOf(keys)).toEqual(
      keys
        .slice(3)
        .map((key) => ({ key, count: 1 }))
        .sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
    // A live bucket still counts where it was: the address's next sign-up is its second in the window.
    expect((await ctx.api.post('/v1/auth/register', { email: emails[4], password: DEFAULT_PASSWORD, name: 'Junk' })).status).toBe(202);
    expect(await bucketsOf([keys[4]])).toEqual([{ key: keys[4], count: 2 }]);
    // A pass bounded to a number of batches stops there (other tests' buckets may expire meanwhile: counts only); the next one goes on.
    await ctx.db.query(`UPDATE rate_limit_buckets SET reset_at = now() - interval '1 second' WHERE key = ANY($1)`, [keys.slice(3)]);
    expect(await pruner.call<number>('RateLimitPruner', 'prune', 1, 1)).toBe(1);
    expect((await bucketsOf(keys)).length).toBeGreaterThanOrEqual(1);

    // The job queue runs the pass (one at a time across instances) when an instance asks for it.
    await pruner.call('RateLimitPruner', 'request');
    await until('the queued pass deleted the last expired bucket', async () => (await bucketsOf(keys)).length === 0);
  });

  it('rate-limits sign-ups per client address, counted before any account is created', async () => {
    const limited = await startTestContext({ REGISTER_RATE_LIMIT_PER_IP: '3' });
    try {
      const emails = [1, 2, 3, 4].map((i) => unique(`ip${i}`));
      for (const email of emails.slice(0, 3)) {
        expect((await limited.api.post('/v1/auth/register', { email, password: DEFAULT_PASSWORD, name: 'Ip' })).status).toBe(202);
      }
      const fourth = await limited.api.post(
        '/v1/auth/register',
        { email: emails[3], password: DEFAULT_PASSWORD, name: 'Ip' },
        {
          headers: { 'x-forwarded-for': '203.0.113.9' }, // not trusted without TRUST_PROXY
        },
      );
      expect(fourth.status).toBe(429);
      expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await limited.db.query('SELECT 1 FROM users WHERE email = $1', [emails[3]])).rows).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
