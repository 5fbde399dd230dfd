import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { verifyEmail } from './factories/mail.js';
import { startTestContext, type HostedApp, type TestContext } from './support/test-app.js';

const ADMIN_EMAIL = 'retention-admin@example.com';
const DAY_MS = 86_400_000;

/**
 * Issue 21: a retention period per plan and per org. The period in force is the org's own, else its
 * plan's (`auditRetentionDays`, which admins edit as any plan limit), else AUDIT_RETENTION_DAYS, else
 * none (the self-hosted default: DEFAULT_PLAN is enterprise, which keeps everything).
 */
describe('audit retention per plan and org', () => {
  let ctx: TestContext<HostedApp>;
  let admin: TestUser;
  let owner: TestUser;
  beforeAll(async () => {
    ctx = await startTestContext({ SECR_ADMIN_EMAILS: ADMIN_EMAIL });
    admin = await registerUser(ctx.api, 'admin', ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, admin.id);
    owner = await registerUser(ctx.api, 'retention-owner');
  });
  afterAll(() => ctx.close());

  const asAdmin = () => ({ session: admin.session });
  const asOwner = () => ({ session: owner.session });
  const retention = async (org: TestOrg, api = ctx.api) => {
    const res = await api.get(`/v1/audit/${org.id}/retention`, asOwner());
    expect(res.status).toBe(200);
    return res.body;
  };
  const patchOrg = async (org: TestOrg, body: object) => {
    const res = await ctx.api.patch(`/v1/admin/orgs/${org.id}`, body, asAdmin());
    expect(res.status).toBe(200);
    return res.body;
  };
  /** `n` rows written straight into the table (the trigger chains them as the app's). */
  const seed = (org: TestOrg, n: number) =>
    ctx.db.query(`INSERT INTO audit_events (action, org_id, metadata) SELECT 'test.event', $1, jsonb_build_object('n', g) FROM generate_series(1, $2) g`, [
      org.id,
      n,
    ]);
  const rowCount = async (org: TestOrg) => Number((await ctx.db.query('SELECT count(*) AS n FROM audit_events WHERE org_id = $1', [org.id])).rows[0].n);

  it('keeps everything on the self-hosted default plan, and shows where each period comes from in order: org, plan, server', async () => {
    const org = await createOrg(ctx.api, owner, 'Self hosted');
    expect(await retention(org)).toEqual({ days: null, source: 'forever', plan: 'enterprise', planDays: null, serverDays: null });

    await patchOrg(org, { plan: 'free' });
    expect(await retention(org)).toEqual({ days: 30, source: 'plan', plan: 'free', planDays: 30, serverDays: null });

    // An admin's override of the org's limits is the plan level too.
    const patched = await patchOrg(org, { limitOverrides: { auditRetentionDays: 7 } });
    expect(patched.limits.auditRetentionDays).toEqual({ value: 7, source: 'override' });
    expect(await retention(org)).toMatchObject({ days: 7, source: 'plan', planDays: 7 });

    // The org's own setting wins; clearing it falls back to the plan.
    const own = await ctx.api.put(`/v1/audit/${org.id}/retention`, { days: 400 }, asOwner());
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ days: 400, source: 'org', plan: 'free', planDays: 7, serverDays: null });
    expect((await ctx.api.put(`/v1/audit/${org.id}/retention`, { days: null }, asOwner())).body).toMatchObject({ days: 7, source: 'plan' });

    // AUDIT_RETENTION_DAYS applies where neither the org nor its plan sets a period.
    const withServerDefault = await ctx.startInstance({ AUDIT_RETENTION_DAYS: '90' });
    const other = await createOrg(ctx.api, owner, 'Server default');
    expect(await retention(other, withServerDefault.http)).toEqual({ days: 90, source: 'server', plan: 'enterprise', planDays: null, serverDays: 90 });
    expect(await retention(org, withServerDefault.http)).toMatchObject({ days: 7, source: 'plan', serverDays: 90 });
  });

  it('takes a plan’s period from the admins’ plan configuration, and refuses a period of 0 days', async () => {
    const org = await createOrg(ctx.api, owner, 'Team plan');
    await patchOrg(org, { plan: 'team' });
    expect(await retention(org)).toMatchObject({ days: 365, source: 'plan', planDays: 365 });

    const refused = await ctx.api.put('/v1/admin/plans/team', { limits: { auditRetentionDays: 0 } }, asAdmin());
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_failed');
    const put = await ctx.api.put('/v1/admin/plans/team', { limits: { auditRetentionDays: 180 } }, asAdmin());
    expect(put.status).toBe(200);
    expect(put.body.limits.auditRetentionDays).toEqual({ value: 180, source: 'plan_config' });
    expect(await retention(org)).toMatchObject({ days: 180, source: 'plan', planDays: 180 });

    // -1 (unlimited): the plan sets no period, so the org's rows are kept forever here.
    await ctx.api.put('/v1/admin/plans/team', { limits: { auditRetentionDays: -1 } }, asAdmin());
    expect(await retention(org)).toMatchObject({ days: null, source: 'forever', planDays: null });
    await ctx.api.put('/v1/admin/plans/team', { limits: {} }, asAdmin());
  });

  it('enforces each org’s period in the batch job: the plan’s, the org’s own, and forever', async () => {
    const [onPlan, ownLonger, forever] = await Promise.all([
      createOrg(ctx.api, owner, 'On a plan'),
      createOrg(ctx.api, owner, 'Own period'),
      createOrg(ctx.api, owner, 'Forever'),
    ]);
    await patchOrg(onPlan, { plan: 'free', limitOverrides: { auditRetentionDays: 2 } });
    await patchOrg(ownLonger, { plan: 'free', limitOverrides: { auditRetentionDays: 2 } });
    expect((await ctx.api.put(`/v1/audit/${ownLonger.id}/retention`, { days: 10 }, asOwner())).status).toBe(200);
    await Promise.all([seed(onPlan, 50), seed(ownLonger, 50), seed(forever, 50)]);
    const before = await Promise.all([onPlan, ownLonger, forever].map(rowCount));

    // Three days on: past the plan's 2 days, within the org's own 10, and nothing is due for "forever".
    const results = await ctx.instances[0].call<Array<{ orgId: string; deleted: number }>>('AuditRetention', 'runAll', new Date(Date.now() + 3 * DAY_MS));
    const of = (org: TestOrg) => results.find((r) => r.orgId === org.id);
    expect(of(onPlan)).toMatchObject({ deleted: before[0] });
    expect(of(ownLonger)).toMatchObject({ deleted: 0 });
    expect(of(forever)).toBeUndefined();
    expect(await rowCount(onPlan)).toBe(0);
    expect(await rowCount(ownLonger)).toBe(before[1]);
    expect(await rowCount(forever)).toBe(before[2]);

    // What is left of the plan org's chain still verifies after the cut.
    await seed(onPlan, 3);
    const verify = await ctx.api.get(`/v1/audit/${onPlan.id}/verify`, asOwner());
    expect(verify.body).toMatchObject({ valid: true, checked: 3 });
  });
});
