import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, registerUser, type TestUser } from './factories/accounts.js';
import { verifyEmail } from './factories/mail.js';
import { bucketOf, bucketUpperMs, percentileMs } from '../src/modules/metrics/metrics.service.js';
import { startTestContext, type HostedApp, type TestContext } from './support/test-app.js';

const ADMIN_EMAIL = 'metrics-admin@example.com';

describe('request metrics', () => {
  let ctx: TestContext<HostedApp>;
  let admin: TestUser;
  beforeAll(async () => {
    ctx = await startTestContext({ SECR_ADMIN_EMAILS: ADMIN_EMAIL });
    admin = await registerUser(ctx.api, 'admin', ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, admin.id);
  });
  afterAll(() => ctx.close());
  const flushAll = () => Promise.all(ctx.instances.map((i) => i.call('MetricsService', 'flush')));

  it('buckets latencies so that percentiles fall within one bucket of the truth', () => {
    const histogram = new Map<number, number>();
    for (let ms = 1; ms <= 100; ms++) histogram.set(bucketOf(ms), (histogram.get(bucketOf(ms)) ?? 0) + 1);
    const p50 = percentileMs(histogram, 0.5);
    const p95 = percentileMs(histogram, 0.95);
    expect(p50).toBeGreaterThanOrEqual(50);
    expect(p50).toBeLessThan(50 * 1.2);
    expect(p95).toBeGreaterThanOrEqual(95);
    expect(p95).toBeLessThan(95 * 1.2);
    expect(bucketUpperMs(bucketOf(0.2))).toBe(1);
  });

  it('aggregates requests per hour and route template across instances, with errors and p50/p95', async () => {
    const second = await ctx.startInstance();
    const owner = await registerUser(ctx.api, 'owner');
    const org = await createOrg(ctx.api, owner, 'Metered');
    for (let i = 0; i < 3; i++) expect((await ctx.api.get(`/v1/projects/${org.id}`, { session: owner.session })).status).toBe(200);
    expect((await second.http.get(`/v1/projects/${org.id}`, { session: owner.session })).status).toBe(200);
    expect((await ctx.api.get(`/v1/projects/${org.id}`)).status).toBe(401);
    await flushAll();

    const res = await ctx.api.get('/v1/admin/metrics/summary', { session: admin.session });
    expect(res.status).toBe(200);
    expect(res.body.hours).toBe(24);
    const row = res.body.rows.find((r: { method: string; route: string }) => r.method === 'GET' && r.route === '/v1/projects/:orgId');
    expect(row).toMatchObject({ count: 5, errors: 0, clientErrors: 1 });
    expect(row.hour).toMatch(/T\d\d:00:00\.000Z$/);
    expect(row.p50Ms).toBeGreaterThan(0);
    expect(row.p95Ms).toBeGreaterThanOrEqual(row.p50Ms);
    // Raw URLs (ids) never become routes.
    expect(res.body.rows.some((r: { route: string }) => r.route.includes(org.id))).toBe(false);
  });

  it('deletes rows older than the longest summary window (168 h) when an instance flushes', async () => {
    const insert = `INSERT INTO request_metrics (minute, method, route, count, errors, client_errors, histogram)
                    VALUES (now() - $1::interval, 'GET', '/v1/pruning-test', 1, 0, 0, '{}')`;
    await ctx.db.query(insert, ['9 days']);
    await ctx.db.query(insert, ['6 days']);
    await (await ctx.startInstance()).call('MetricsService', 'flush'); // a new instance prunes at its first flush
    const { rows } = await ctx.db.query(`SELECT extract(day FROM now() - minute)::int AS days FROM request_metrics WHERE route = '/v1/pruning-test'`);
    expect(rows).toEqual([{ days: 6 }]);
  });

  it('validates hours (1–168) and refuses non-admins', async () => {
    expect((await ctx.api.get('/v1/admin/metrics/summary?hours=168', { session: admin.session })).body.hours).toBe(168);
    for (const hours of ['0', '169', 'x']) {
      expect((await ctx.api.get(`/v1/admin/metrics/summary?hours=${hours}`, { session: admin.session })).status).toBe(400);
    }
    const other = await registerUser(ctx.api, 'other');
    expect((await ctx.api.get('/v1/admin/metrics/summary', { session: other.session })).status).toBe(403);
  });
});
