import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { addMember, createOrg, createToken, DEFAULT_PASSWORD, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { issueEmailToken, verifyEmail } from '../factories/mail.js';
import { createProject, secretsPath, seedSecrets, setSecret, type TestProject } from '../factories/vault.js';
import { createWebhook, type TestWebhook } from '../factories/webhooks.js';
import { FakeOidcIssuer } from '../support/fake-oidc-issuer.js';
import type { Response } from '../support/http.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * README (Audit): "If the audit row cannot be written the request fails and nothing is returned or
 * changed" — for every mutation that writes an audit row, not only pulls and secret writes. A trigger
 * refuses every insert into audit_events (as a full disk or a broken audit table would); each mutation,
 * with input that succeeds otherwise, must then fail with a 5xx and leave every other table as it was.
 */
const ADMIN_EMAIL = `audit-admin-${randomBytes(4).toString('hex')}@example.com`;
/** Counters that a refused request may still move (they count attempts, not changes) and the metrics aggregate. */
const UNCHECKED_TABLES = ['audit_events', 'rate_limit_buckets', 'request_metrics'];

describe('fail-closed audit: a mutation whose audit row cannot be written fails and changes nothing', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let member: TestUser;
  let joiner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let webhook: TestWebhook;
  let tokenId: string;
  let inviteId: string;
  let inviteToken: string;
  let verifyToken: string;
  let resetToken: string;
  let issuer: FakeOidcIssuer;
  let trustId: string;
  const as = () => ({ session: owner.session });

  beforeAll(async () => {
    [ctx, issuer] = await Promise.all([
      startTestContext({ SECR_ADMIN_EMAILS: ADMIN_EMAIL, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_CONCURRENCY: '0', OIDC_ALLOW_PRIVATE: 'true' }),
      FakeOidcIssuer.start(),
    ]);
    owner = await registerUser(ctx.api, 'auditor', ADMIN_EMAIL);
    await verifyEmail(ctx.api, ctx.db, owner.id);
    member = await registerUser(ctx.api, 'member');
    joiner = await registerUser(ctx.api, 'joiner');
    org = await createOrg(ctx.api, owner, 'Audited');
    await addMember(ctx.api, org, owner, member, 'developer');
    project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { KEPT: 'v1', OTHER: 'o1' });
    await setSecret(ctx.api, as(), org, project, 'development', { key: 'KEPT', value: 'v2' });
    expect((await ctx.api.post(`/v1/templates/${org.slug}/${project.slug}`, { key: 'KEPT' }, as())).status).toBe(201);
    webhook = await createWebhook(ctx.api, owner, org, { url: 'http://127.0.0.1:9/hook' });
    tokenId = (await createToken(ctx.api, owner, { access: 'read', orgId: org.id })).id;
    const invite = await ctx.api.post(`/v1/members/${org.id}/invite`, { email: joiner.email, role: 'viewer' }, as());
    expect(invite.status).toBe(201);
    inviteId = invite.body.invite.id;
    inviteToken = invite.body.token;
    verifyToken = await issueEmailToken(ctx.db, member.id, 'verify_email');
    resetToken = await issueEmailToken(ctx.db, member.id, 'reset_password');
    const trust = await ctx.api.post(`/v1/orgs/${org.id}/oidc-trusts`, trustBody('audited'), as());
    expect(trust.status).toBe(201);
    trustId = trust.body.id;
    await ctx.db.query(`
      CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$;
      CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit();`);
  });
  afterAll(async () => {
    await Promise.all([ctx.close(), issuer.close()]);
  });

  const trustBody = (name: string) => ({
    name,
    issuer: issuer.url,
    audience: 'https://secr.example.test',
    conditions: [{ claim: 'repository', pattern: 'acme/api' }],
    project: project.slug,
    access: 'read',
  });

  /** Every row of every table but the unchecked ones, as text. */
  async function snapshot(): Promise<Record<string, string>> {
    const { rows: tables } = await ctx.db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const result: Record<string, string> = {};
    for (const { tablename } of tables) {
      if (UNCHECKED_TABLES.includes(tablename) || tablename === 'migrations') continue;
      const { rows } = await ctx.db.query(
        `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest, count(*)::int AS n FROM ${tablename} t`,
      );
      result[tablename] = `${rows[0].n} rows, ${rows[0].digest}`;
    }
    const jobs = await ctx.db.query(`SELECT count(*)::int AS n FROM pgboss.job`);
    result['pgboss.job'] = `${jobs.rows[0].n} rows`;
    return result;
  }

  const secrets = () => secretsPath(org, project, 'development');
  const mutations: Array<[string, () => Promise<Response>]> = [
    [
      'register',
      () => ctx.api.post('/v1/auth/register', { email: `new-${randomBytes(3).toString('hex')}@example.com`, password: DEFAULT_PASSWORD, name: 'New' }),
    ],
    ['login', () => ctx.api.post('/v1/auth/login', { email: member.email, password: member.password })],
    ['logout', () => ctx.api.post('/v1/auth/logout', undefined, { session: member.session })],
    [
      'change-password',
      () => ctx.api.post('/v1/auth/change-password', { currentPassword: member.password, newPassword: 'a brand new pass phrase' }, { session: member.session }),
    ],
    ['verify-email', () => ctx.api.post('/v1/auth/verify-email', { token: verifyToken })],
    ['reset-password', () => ctx.api.post('/v1/auth/reset-password', { token: resetToken, password: 'another new pass phrase' })],
    ['token create', () => ctx.api.post('/v1/auth/token', { name: 'refused', access: 'read' }, as())],
    ['token revoke', () => ctx.api.delete(`/v1/auth/tokens/${tokenId}`, as())],
    ['org create', () => ctx.api.post('/v1/orgs', { name: 'Never' }, as())],
    ['org delete', () => ctx.api.delete(`/v1/orgs/${org.id}`, as())],
    ['invite create', () => ctx.api.post(`/v1/members/${org.id}/invite`, { email: 'someone-else@example.com', role: 'viewer' }, as())],
    ['invite accept', () => ctx.api.post(`/v1/members/invite/${inviteToken}/accept`, undefined, { session: joiner.session })],
    ['invite revoke', () => ctx.api.delete(`/v1/members/${org.id}/invites/${inviteId}`, as())],
    ['member role change', () => ctx.api.patch(`/v1/members/${org.id}/${member.id}`, { role: 'viewer' }, as())],
    ['member removal', () => ctx.api.delete(`/v1/members/${org.id}/${member.id}`, as())],
    ['project create', () => ctx.api.post(`/v1/projects/${org.id}`, { name: 'never' }, as())],
    ['project delete', () => ctx.api.delete(`/v1/projects/${org.id}/${project.slug}`, as())],
    ['environment create', () => ctx.api.post(`/v1/projects/${org.id}/${project.slug}/environments`, { slug: 'qa' }, as())],
    ['key rotation', () => ctx.api.post(`/v1/projects/${org.id}/${project.slug}/rotate-key`, undefined, as())],
    ['secret rollback', () => ctx.api.post(`${secrets()}/rollback`, { key: 'KEPT', version: 1 }, as())],
    ['secret delete', () => ctx.api.delete(`${secrets()}/KEPT`, as())],
    // Before the project existed: every key would be deleted.
    ['secret restore', () => ctx.api.post(`${secrets()}/restore`, { to: '2020-01-01T00:00:00Z' }, as())],
    ['secrets bulk-delete', () => ctx.api.post(`${secrets()}/bulk-delete`, { keys: ['KEPT', 'OTHER'] }, as())],
    ['promotion', () => ctx.api.post(`/v1/secrets/${org.slug}/${project.slug}/promote`, { fromEnv: 'development', toEnv: 'staging' }, as())],
    ['template add', () => ctx.api.post(`/v1/templates/${org.slug}/${project.slug}`, { key: 'NEW_KEY' }, as())],
    ['template remove', () => ctx.api.delete(`/v1/templates/${org.slug}/${project.slug}/KEPT`, as())],
    ['webhook create', () => ctx.api.post(`/v1/webhooks/${org.id}`, { url: 'http://127.0.0.1:9/other', events: ['secret.created'] }, as())],
    ['webhook update', () => ctx.api.patch(`/v1/webhooks/${org.id}/${webhook.id}`, { enabled: false }, as())],
    ['webhook delete', () => ctx.api.delete(`/v1/webhooks/${org.id}/${webhook.id}`, as())],
    ['webhook test', () => ctx.api.post(`/v1/webhooks/${org.id}/${webhook.id}/test`, undefined, as())],
    ['oidc trust create', () => ctx.api.post(`/v1/orgs/${org.id}/oidc-trusts`, trustBody('never'), as())],
    ['oidc trust update', () => ctx.api.patch(`/v1/orgs/${org.id}/oidc-trusts/${trustId}`, { ttlSeconds: 120 }, as())],
    ['oidc trust delete', () => ctx.api.delete(`/v1/orgs/${org.id}/oidc-trusts/${trustId}`, as())],
    // No token is minted when its audit rows cannot be written.
    ['oidc exchange', async () => ctx.api.post('/v1/auth/oidc', { trustId, token: await issuer.sign('https://secr.example.test') })],
    ['admin: org plan', () => ctx.api.patch(`/v1/admin/orgs/${org.id}`, { plan: 'pro' }, as())],
    ['admin: plan limits', () => ctx.api.put('/v1/admin/plans/pro', { limits: { projectsPerOrg: 7 } }, as())],
  ];

  it.each(mutations)('%s: answers 5xx and changes no row', async (_name, run) => {
    const before = await snapshot();
    const res = await run();
    expect(`${res.status} ${res.status >= 500 ? '' : res.text.slice(0, 200)}`.trim()).toMatch(/^5\d\d$/);
    expect(await snapshot()).toEqual(before);
  });
});
