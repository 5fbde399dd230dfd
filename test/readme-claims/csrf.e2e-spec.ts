import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createOrg, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { verifyEmail } from '../factories/mail.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * README (API, Authentication): "Cookie-authenticated requests that change state must send
 * X-Requested-With: secr (CSRF)". Every POST, PUT, PATCH and DELETE of the OpenAPI document that takes
 * a cookie is sent with a valid session of an owner (and instance admin) twice: without the header it
 * is refused with 403 naming the header; with it, the same request is not refused by the CSRF rule.
 */
const ADMIN_EMAIL = `csrf-admin-${randomUUID().slice(0, 8)}@example.com`;
const document = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
};
const cookieMutations = Object.entries(document.paths).flatMap(([path, operations]) =>
  Object.entries(operations)
    .filter(([method, op]) => ['post', 'put', 'patch', 'delete'].includes(method) && op.security?.some((s) => 'cookie' in s))
    .map(([method]) => ({ method: method.toUpperCase(), path })),
);
// What ends the session or the org goes last, so that every other request runs signed in, in the org.
const LAST = ['POST /v1/auth/logout', 'DELETE /v1/orgs/{orgId}'];
const ordered = [...cookieMutations].sort((x, y) => LAST.indexOf(`${x.method} ${x.path}`) - LAST.indexOf(`${y.method} ${y.path}`));

describe('CSRF: every cookie-authenticated mutation needs X-Requested-With', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;

  beforeAll(async () => {
    ctx = await startTestContext({ SECR_ADMIN_EMAILS: ADMIN_EMAIL });
    owner = await registerUser(ctx.api, 'csrf', ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, owner.id); // the admin API needs a verified admin
    org = await createOrg(ctx.api, owner, 'Csrf');
  });
  afterAll(() => ctx.close());

  /** The route's path with real org parameters (the owner's org) and harmless others. */
  function urlOf(path: string): string {
    return path.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (name === 'orgId') return org.id;
      if (name === 'orgSlug') return org.slug;
      if (name === 'env') return 'development';
      if (name === 'planName') return 'free';
      if (name === 'id' || name.endsWith('Id')) return randomUUID();
      return 'nope';
    });
  }

  /** Every row of every table but the request counters (rate limits, metrics), as a digest per table. */
  async function snapshot(): Promise<Record<string, string>> {
    const { rows: tables } = await ctx.db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const result: Record<string, string> = {};
    for (const { tablename } of tables.filter((t) => !['rate_limit_buckets', 'request_metrics'].includes(t.tablename))) {
      const { rows } = await ctx.db.query(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ${tablename} t`,
      );
      result[tablename] = `${rows[0].n} rows, ${rows[0].digest}`;
    }
    return result;
  }

  it('the sweep covers the mutations of every area of the API', () => {
    expect(cookieMutations.length).toBeGreaterThanOrEqual(30);
    const areas = new Set(cookieMutations.map((r) => r.path.split('/')[2]));
    expect([...areas].sort()).toEqual(['admin', 'audit', 'auth', 'billing', 'members', 'orgs', 'projects', 'secrets', 'templates', 'webhooks']);
  });

  it('refuses each one with 403 naming the header when a session sends it without X-Requested-With, and changes nothing', async () => {
    const before = await snapshot();
    const answers = await Promise.all(
      cookieMutations.map(async ({ method, path }) => {
        const res = await ctx.api.request(method, urlOf(path), { session: owner.session, csrf: false, body: method === 'DELETE' ? undefined : {} });
        return `${method} ${path} → ${res.status} ${res.status === 403 && /X-Requested-With/.test(res.body?.message) ? 'csrf' : res.text.slice(0, 80)}`;
      }),
    );
    expect(answers).toEqual(cookieMutations.map(({ method, path }) => `${method} ${path} → 403 csrf`));
    expect(await snapshot()).toEqual(before);
    expect((await ctx.api.get('/v1/auth/me', { session: owner.session })).status).toBe(200); // not even logged out
  });

  it('lets each one past the CSRF rule with X-Requested-With: secr (whatever the route then answers, it is not 403)', async () => {
    const answers: string[] = [];
    for (const { method, path } of ordered) {
      const res = await ctx.api.request(method, urlOf(path), { session: owner.session, body: method === 'DELETE' ? undefined : {} });
      answers.push(`${method} ${path} → ${res.status === 403 ? `403 ${res.text.slice(0, 120)}` : 'not 403'}`);
    }
    expect(answers).toEqual(ordered.map(({ method, path }) => `${method} ${path} → not 403`));
  });
});
