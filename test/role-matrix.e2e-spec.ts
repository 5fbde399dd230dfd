/**
 * THE role matrix: every route the app serves × every kind of caller, and the status each one gets.
 *
 * Adding a route means adding a row to `ROUTES` — the coverage test at the bottom fails until you do.
 * A row names the route exactly as it is served ('METHOD /path/:param'), says which fixture it runs
 * against, builds the params and body for one identity, and lists the status every identity must get.
 * State-changing rows get a fresh fixture (or a fresh target) per identity, so no result depends on
 * the order in which identities or rows run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createOrg, createTeam, createToken, DEFAULT_PASSWORD, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { startCliLogin } from './factories/cli-login.js';
import { issueEmailToken } from './factories/mail.js';
import { createProject, seedSecrets, type TestProject } from './factories/vault.js';
import type { Credentials, Response } from './support/http.js';
import { SseStream } from './support/sse.js';
import { startTestContext, type HostedApp, type TestContext as Context } from './support/test-app.js';

const IDENTITIES = ['owner', 'admin', 'developer', 'viewer', 'nonMember', 'anonymous', 'readOnlyToken'] as const;
/**
 * owner/admin/developer/viewer: session cookies of the team org's members. nonMember: the session of
 * a user who belongs to another org only. anonymous: no credential. readOnlyToken: a `read` bearer
 * token of the team's owner, scoped to the team org (the owner's role, narrowed to reads).
 */
type Identity = (typeof IDENTITIES)[number];
type TestContext = Context<HostedApp>;

interface Fixture {
  org: TestOrg;
  /** A project of the org with MATRIX_KEY set in each default environment. */
  project: TestProject;
  owner: TestUser;
  admin: TestUser;
  developer: TestUser;
  viewer: TestUser;
  nonMember: TestUser;
  /** Belongs to none of the above orgs: hosts the orgs whose invitations identities accept. */
  stranger: TestUser;
  readOnlyToken: string;
}

interface Call {
  /** Values for the route's `:params`; `orgId` defaults to the team org. */
  params?: Record<string, string>;
  body?: unknown;
  /** A query string (without `?`). */
  query?: string;
}

interface RouteRow {
  /** Exactly as served: method, then the path with `:params`. */
  route: string;
  /** Distinguishes several rows of one route (e.g. one per environment tier). */
  variant?: string;
  /**
   * shared: one fixture for every identity (reads, and writes that only add something new).
   * freshOrg: a new team org of the same people per identity (the row changes or deletes the org).
   * freshUser: as freshOrg, with the identity's seat held by a newly registered user (the row ends
   * sessions or changes passwords).
   */
  fixture?: 'shared' | 'freshOrg' | 'freshUser';
  /** Params and body for one identity; may create a fresh target for it first. */
  call?: (fx: Fixture, who: Identity, ctx: TestContext) => Call | Promise<Call>;
  expect: Readonly<Record<Identity, number>>;
  /** A Server-Sent Events route: opened, its status and content type checked, then closed. */
  stream?: true;
}

const unique = () => randomBytes(4).toString('hex');

const referenceEnvironments = new Map<string, Promise<string>>();
/** Once per fixture: a development-tier environment `refs` with TO_DEV = ${development.MATRIX_KEY} and TO_PROD = ${production.MATRIX_KEY}. */
function referencesEnvironment(fx: Fixture, ctx: TestContext): Promise<string> {
  let made = referenceEnvironments.get(fx.project.id);
  if (!made) {
    made = (async () => {
      const owner = { session: fx.owner.session };
      const res = await ctx.api.post(`/v1/projects/${fx.org.id}/${fx.project.slug}/environments`, { slug: 'refs', tier: 'development' }, owner);
      if (res.status !== 201) throw new Error(`creating the refs environment failed: ${res.status} ${res.text}`);
      await seedSecrets(ctx.api, owner, fx.org, fx.project, 'refs', { TO_DEV: '${development.MATRIX_KEY}', TO_PROD: '${production.MATRIX_KEY}' });
      return 'refs';
    })();
    referenceEnvironments.set(fx.project.id, made);
  }
  return made;
}

/** The user behind an identity: the read-only token is the owner's. */
function userOf(fx: Fixture, who: Identity): TestUser | null {
  if (who === 'anonymous') return null;
  return who === 'readOnlyToken' ? fx.owner : fx[who];
}

/** Admin routes: every signed-in identity is refused, whatever its role in the org. */
const NOT_INSTANCE_ADMIN = { owner: 403, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 } as const;

const ROUTES: readonly RouteRow[] = [
  // ── Health (public, unversioned) ──
  {
    route: 'GET /health',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 200, readOnlyToken: 200 },
  },
  {
    route: 'GET /health/ready',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 200, readOnlyToken: 200 },
  },

  // ── Auth ──
  {
    route: 'POST /v1/auth/register',
    call: () => ({ body: { email: `matrix-${unique()}@example.com`, password: DEFAULT_PASSWORD, name: 'Matrix' } }),
    // 202 alike for a new and an existing address: sign-up never says which addresses have accounts.
    expect: { owner: 202, admin: 202, developer: 202, viewer: 202, nonMember: 202, anonymous: 202, readOnlyToken: 202 },
  },
  {
    route: 'POST /v1/auth/register',
    variant: 'existing address',
    call: (fx, who) => ({ body: { email: (userOf(fx, who) ?? fx.stranger).email, password: DEFAULT_PASSWORD, name: 'Matrix' } }),
    expect: { owner: 202, admin: 202, developer: 202, viewer: 202, nonMember: 202, anonymous: 202, readOnlyToken: 202 },
  },
  {
    route: 'POST /v1/auth/login',
    // Each identity signs in as its own user, so the per-account rate limit is never near.
    call: (fx, who) => ({ body: { email: (userOf(fx, who) ?? fx.stranger).email, password: DEFAULT_PASSWORD } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 200, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/auth/logout',
    fixture: 'freshUser',
    // Even a read-only token may end itself.
    expect: { owner: 204, admin: 204, developer: 204, viewer: 204, nonMember: 204, anonymous: 401, readOnlyToken: 204 },
  },
  {
    route: 'GET /v1/auth/me',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/auth/activity',
    // The account's own sign-ins and password changes: a session or an unscoped token, not an org-scoped one.
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/auth/change-password',
    fixture: 'freshUser',
    call: () => ({ body: { currentPassword: DEFAULT_PASSWORD, newPassword: 'a brand new passphrase' } }),
    expect: { owner: 204, admin: 204, developer: 204, viewer: 204, nonMember: 204, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/auth/token',
    call: () => ({ body: { name: 'matrix', access: 'read' } }),
    expect: { owner: 201, admin: 201, developer: 201, viewer: 201, nonMember: 201, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'GET /v1/auth/tokens',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'DELETE /v1/auth/tokens/:tokenId',
    // Fresh target: a new token of the caller's own user.
    call: async (fx, who, ctx) => {
      const { id } = await createToken(ctx.api, userOf(fx, who) ?? fx.owner, { access: 'read' });
      return { params: { tokenId: id } };
    },
    expect: { owner: 204, admin: 204, developer: 204, viewer: 204, nonMember: 204, anonymous: 401, readOnlyToken: 403 },
  },

  {
    route: 'POST /v1/auth/send-verification',
    // Mails the caller's own address; nothing in the fixture changes.
    expect: { owner: 204, admin: 204, developer: 204, viewer: 204, nonMember: 204, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/auth/verify-email',
    // Public: the token is the credential. Fresh target: a valid token of a newly registered user.
    call: async (_fx, _who, ctx) => {
      const user = await registerUser(ctx.api, 'verify');
      return { body: { token: await issueEmailToken(ctx.db, user.id, 'verify_email') } };
    },
    expect: { owner: 204, admin: 204, developer: 204, viewer: 204, nonMember: 204, anonymous: 204, readOnlyToken: 204 },
  },
  {
    route: 'POST /v1/auth/forgot-password',
    // Public, and 202 whether or not the address has an account.
    call: (fx, who) => ({ body: { email: (userOf(fx, who) ?? fx.stranger).email } }),
    expect: { owner: 202, admin: 202, developer: 202, viewer: 202, nonMember: 202, anonymous: 202, readOnlyToken: 202 },
  },
  {
    route: 'POST /v1/auth/reset-password',
    // Public: the token is the credential. Fresh target: a valid reset token of a newly registered user.
    call: async (_fx, _who, ctx) => {
      const user = await registerUser(ctx.api, 'reset');
      return { body: { token: await issueEmailToken(ctx.db, user.id, 'reset_password'), password: 'a brand new passphrase' } };
    },
    expect: { owner: 204, admin: 204, developer: 204, viewer: 204, nonMember: 204, anonymous: 204, readOnlyToken: 204 },
  },

  // ── CLI sign-in through the browser ──
  {
    route: 'POST /v1/auth/cli-login',
    // Public: the CLI has no credential yet.
    call: () => ({ body: { hostname: 'matrix-host' } }),
    expect: { owner: 201, admin: 201, developer: 201, viewer: 201, nonMember: 201, anonymous: 201, readOnlyToken: 201 },
  },
  {
    route: 'POST /v1/auth/cli-login/poll',
    // Public: the device code is the credential. Fresh target: a new request, polled once (pending).
    call: async (_fx, _who, ctx) => ({ body: { deviceCode: (await startCliLogin(ctx.api)).deviceCode } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 200, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/auth/cli-auth/:userCode',
    // A signed-in session only: a token cannot approve the minting of another token.
    call: async (_fx, _who, ctx) => ({ params: { userCode: (await startCliLogin(ctx.api)).userCode } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/auth/cli-auth',
    // Fresh target: a new request, denied (an approval would mint a token for the identity).
    call: async (_fx, _who, ctx) => ({ body: { userCode: (await startCliLogin(ctx.api)).userCode, approve: false } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Orgs ──
  {
    route: 'POST /v1/orgs',
    call: () => ({ body: { name: `Matrix ${unique()}` } }),
    expect: { owner: 201, admin: 201, developer: 201, viewer: 201, nonMember: 201, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'DELETE /v1/orgs/:orgId',
    fixture: 'freshOrg',
    expect: { owner: 204, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Members ──
  {
    route: 'GET /v1/members/:orgId',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/members/:orgId/invite',
    // Fresh target: an address nobody has invited.
    call: () => ({ body: { email: `invitee-${unique()}@example.com`, role: 'developer' } }),
    expect: { owner: 201, admin: 201, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/members/invite/:token/accept',
    // Fresh target: a new org of the stranger invites the caller's address.
    call: async (fx, who, ctx) => {
      const host = await createOrg(ctx.api, fx.stranger, 'Host');
      const email = userOf(fx, who)?.email ?? `nobody-${unique()}@example.com`;
      const res = await ctx.api.post(`/v1/members/${host.id}/invite`, { email, role: 'viewer' }, { session: fx.stranger.session });
      if (res.status !== 201) throw new Error(`invite failed: ${res.status} ${res.text}`);
      return { params: { token: res.body.token } };
    },
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 200, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'PATCH /v1/members/:orgId/:id',
    fixture: 'freshOrg',
    call: (fx) => ({ params: { id: fx.developer.id }, body: { role: 'viewer' } }),
    expect: { owner: 200, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'DELETE /v1/members/:orgId/:id',
    fixture: 'freshOrg',
    call: (fx) => ({ params: { id: fx.viewer.id } }),
    expect: { owner: 204, admin: 204, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  {
    route: 'DELETE /v1/members/:orgId/invites/:inviteId',
    // Fresh target: a new pending invitation of the team org, made by its owner.
    call: async (fx, _who, ctx) => {
      const res = await ctx.api.post(
        `/v1/members/${fx.org.id}/invite`,
        { email: `invitee-${unique()}@example.com`, role: 'developer' },
        { session: fx.owner.session },
      );
      if (res.status !== 201) throw new Error(`invite failed: ${res.status} ${res.text}`);
      return { params: { inviteId: res.body.invite.id } };
    },
    expect: { owner: 204, admin: 204, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Projects ──
  {
    route: 'GET /v1/projects/:orgId',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/projects/:orgId',
    call: () => ({ body: { name: `Matrix ${unique()}` } }),
    expect: { owner: 201, admin: 201, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'GET /v1/projects/:orgId/:slug',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'DELETE /v1/projects/:orgId/:slug',
    // Fresh target: a new project of the team org.
    call: async (fx, _who, ctx) => ({ params: { slug: (await createProject(ctx.api, fx.owner, fx.org)).slug } }),
    expect: { owner: 204, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/projects/:orgId/:slug/environments',
    call: () => ({ body: { slug: `env-${unique()}`, tier: 'staging' } }),
    expect: { owner: 201, admin: 201, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/projects/:orgId/:slug/rotate-key',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Secrets: reads depend on the environment's tier (viewer: development; developer: + staging) ──
  ...(['development', 'staging', 'production'] as const).flatMap((env): RouteRow[] => {
    const reads = {
      owner: 200,
      admin: 200,
      developer: env === 'production' ? 403 : 200,
      viewer: env === 'development' ? 200 : 403,
      nonMember: 403,
      anonymous: 401,
      readOnlyToken: 200,
    };
    return [
      { route: 'GET /v1/secrets/:orgSlug/:project/:env', variant: env, call: () => ({ params: { env } }), expect: reads },
      { route: 'GET /v1/secrets/:orgSlug/:project/:env/keys', variant: env, call: () => ({ params: { env } }), expect: reads },
      {
        route: 'GET /v1/secrets/:orgSlug/:project/:env/versions/:key',
        variant: env,
        call: () => ({ params: { env, key: 'MATRIX_KEY' } }),
        expect: reads,
      },
      // The change stream: 200 with text/event-stream where a pull is allowed (callAs checks the type and closes it).
      { route: 'GET /v1/secrets/:orgSlug/:project/:env/events', variant: env, stream: true, call: () => ({ params: { env } }), expect: reads },
    ];
  }),
  // References (issue #19): a development-tier environment whose values reach development and production.
  {
    route: 'GET /v1/secrets/:orgSlug/:project/:env',
    variant: 'development tier, a reference to development',
    call: async (fx, _who, ctx) => ({ params: { env: await referencesEnvironment(fx, ctx) }, query: 'keys=TO_DEV' }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/secrets/:orgSlug/:project/:env',
    variant: 'development tier, a reference to production',
    call: async (fx, _who, ctx) => ({ params: { env: await referencesEnvironment(fx, ctx) }, query: 'keys=TO_PROD' }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/secrets/:orgSlug/:project/:env',
    variant: 'development tier, a reference to production, raw',
    call: async (fx, _who, ctx) => ({ params: { env: await referencesEnvironment(fx, ctx) }, query: 'keys=TO_PROD&raw=true' }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  // Writes: owner, admin and developer, in every tier.
  ...(['development', 'production'] as const).flatMap((env): RouteRow[] => [
    {
      route: 'PUT /v1/secrets/:orgSlug/:project/:env',
      variant: env,
      call: () => ({ params: { env }, body: { key: `SET_${unique()}`, value: 'v' } }),
      expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
    },
    {
      route: 'POST /v1/secrets/:orgSlug/:project/:env/bulk',
      variant: env,
      call: () => ({ params: { env }, body: { secrets: [{ key: `BULK_${unique()}`, value: 'v' }] } }),
      expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
    },
    {
      route: 'DELETE /v1/secrets/:orgSlug/:project/:env/:key',
      variant: env,
      call: async (fx, _who, ctx) => ({ params: { env, key: await freshKey(ctx, fx, env) } }),
      expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
    },
  ]),
  {
    route: 'POST /v1/secrets/:orgSlug/:project/:env/rollback',
    variant: 'development',
    call: () => ({ params: { env: 'development' }, body: { key: 'MATRIX_KEY', version: 1 } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    // Rolling back needs the history, so it needs read access to the tier too.
    route: 'POST /v1/secrets/:orgSlug/:project/:env/rollback',
    variant: 'production',
    call: () => ({ params: { env: 'production' }, body: { key: 'MATRIX_KEY', version: 1 } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/secrets/:orgSlug/:project/:env/bulk-delete',
    call: async (fx, _who, ctx) => ({ params: { env: 'development' }, body: { keys: [await freshKey(ctx, fx, 'development')] } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Promotion: read on the source tier, write on the target ──
  {
    route: 'POST /v1/secrets/:orgSlug/:project/promote',
    variant: 'staging to development',
    call: () => ({ body: { fromEnv: 'staging', toEnv: 'development', keys: ['MATRIX_KEY'], overwrite: true } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/secrets/:orgSlug/:project/promote',
    variant: 'production to staging',
    call: () => ({ body: { fromEnv: 'production', toEnv: 'staging', keys: ['MATRIX_KEY'], overwrite: true, dryRun: true } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Point-in-time restore (a dry run: the shared fixture stays as it is): read and write the tier; production: owner/admin ──
  {
    route: 'POST /v1/secrets/:orgSlug/:project/:env/restore',
    variant: 'staging',
    call: () => ({ params: { env: 'staging' }, body: { to: new Date().toISOString(), dryRun: true } }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/secrets/:orgSlug/:project/:env/restore',
    variant: 'production',
    call: () => ({ params: { env: 'production' }, body: { to: new Date().toISOString(), dryRun: true } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Diff: read on both tiers (values or not) ──
  {
    route: 'GET /v1/secrets/:orgSlug/:project/diff',
    variant: 'development to staging',
    call: () => ({ query: 'from=development&to=staging' }),
    expect: { owner: 200, admin: 200, developer: 200, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/secrets/:orgSlug/:project/diff',
    variant: 'staging to production, with values',
    call: () => ({ query: 'from=staging&to=production&showValues=true' }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },

  // ── Templates ──
  {
    route: 'GET /v1/templates/:orgSlug/:project',
    expect: { owner: 200, admin: 200, developer: 200, viewer: 200, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/templates/:orgSlug/:project',
    call: () => ({ body: { key: `TPL_${unique()}` } }),
    expect: { owner: 201, admin: 201, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'DELETE /v1/templates/:orgSlug/:project/:key',
    // Fresh target: a template key added (by the owner) for this call.
    call: async (fx, _who, ctx) => {
      const key = `TPL_${unique()}`;
      const res = await ctx.api.post(`/v1/templates/${fx.org.slug}/${fx.project.slug}`, { key }, { session: fx.owner.session });
      if (res.status !== 201) throw new Error(`template add failed: ${res.status} ${res.text}`);
      return { params: { key } };
    },
    expect: { owner: 204, admin: 204, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  ...(['development', 'production'] as const).map((env): RouteRow => ({
    // Reveals the environment's key names: the access of listing its keys.
    route: 'GET /v1/templates/:orgSlug/:project/validate/:env',
    variant: env,
    call: () => ({ params: { env } }),
    expect: {
      owner: 200,
      admin: 200,
      developer: env === 'production' ? 403 : 200,
      viewer: env === 'production' ? 403 : 200,
      nonMember: 403,
      anonymous: 401,
      readOnlyToken: 200,
    },
  })),

  // ── Webhooks ──
  {
    route: 'GET /v1/webhooks/:orgId',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/webhooks/:orgId',
    call: () => ({ body: { url: `${MATRIX_WEBHOOK_URL}/${unique()}`, events: ['secret.created'], enabled: false } }),
    expect: { owner: 201, admin: 201, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'GET /v1/webhooks/:orgId/:id',
    call: async (fx, _who, ctx) => ({ params: { id: await matrixWebhook(ctx, fx) } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'PATCH /v1/webhooks/:orgId/:id',
    call: async (fx, _who, ctx) => ({ params: { id: await matrixWebhook(ctx, fx) }, body: { description: `matrix ${unique()}` } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'DELETE /v1/webhooks/:orgId/:id',
    // Fresh target: a new webhook of the team org.
    call: async (fx, _who, ctx) => ({ params: { id: await createMatrixWebhook(ctx, fx) } }),
    expect: { owner: 204, admin: 204, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/webhooks/:orgId/:id/test',
    call: async (fx, _who, ctx) => ({ params: { id: await matrixWebhook(ctx, fx) } }),
    expect: { owner: 202, admin: 202, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },

  // ── Keyless CI: trust relationships with CI OIDC issuers (owner/admin; each can mint tokens) ──
  {
    route: 'GET /v1/orgs/:orgId/oidc-trusts',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/orgs/:orgId/oidc-trusts',
    call: (fx) => ({ body: matrixTrust(fx) }),
    expect: { owner: 201, admin: 201, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'GET /v1/orgs/:orgId/oidc-trusts/:trustId',
    call: async (fx, _who, ctx) => ({ params: { trustId: await createMatrixTrust(ctx, fx) } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'PATCH /v1/orgs/:orgId/oidc-trusts/:trustId',
    call: async (fx, _who, ctx) => ({ params: { trustId: await createMatrixTrust(ctx, fx) }, body: { ttlSeconds: 300 } }),
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'DELETE /v1/orgs/:orgId/oidc-trusts/:trustId',
    // Fresh target: a new relationship of the team org.
    call: async (fx, _who, ctx) => ({ params: { trustId: await createMatrixTrust(ctx, fx) } }),
    expect: { owner: 204, admin: 204, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    // Public: the CI's JWT is the credential. An unknown relationship is a 401 whoever asks (oidc.e2e-spec.ts covers the rest).
    route: 'POST /v1/auth/oidc',
    call: () => ({ body: { trustId: '00000000-0000-4000-8000-000000000000', token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' } }),
    expect: { owner: 401, admin: 401, developer: 401, viewer: 401, nonMember: 401, anonymous: 401, readOnlyToken: 401 },
  },

  // ── Admin: instance administrators only; none of the matrix's identities is one (admin.e2e-spec.ts covers an admin) ──
  { route: 'GET /v1/admin/stats', expect: NOT_INSTANCE_ADMIN },
  { route: 'GET /v1/admin/keys', expect: NOT_INSTANCE_ADMIN },
  { route: 'GET /v1/admin/orgs', expect: NOT_INSTANCE_ADMIN },
  { route: 'GET /v1/admin/orgs/:orgId', expect: NOT_INSTANCE_ADMIN },
  { route: 'PATCH /v1/admin/orgs/:orgId', call: () => ({ body: { plan: 'enterprise' } }), expect: NOT_INSTANCE_ADMIN },
  { route: 'GET /v1/admin/plans', expect: NOT_INSTANCE_ADMIN },
  { route: 'PUT /v1/admin/plans/:planName', call: () => ({ params: { planName: 'free' }, body: { limits: {} } }), expect: NOT_INSTANCE_ADMIN },
  { route: 'GET /v1/admin/metrics/summary', expect: NOT_INSTANCE_ADMIN },

  // ── Billing: the matrix app has no STRIPE_SECRET_KEY, so an owner's mutation passes the guard and gets
  // 503 billing_not_configured (billing.e2e-spec.ts covers Stripe itself) ──
  {
    route: 'GET /v1/billing/:orgId',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'POST /v1/billing/:orgId/checkout',
    call: () => ({ body: { plan: 'pro' } }),
    expect: { owner: 503, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    route: 'POST /v1/billing/:orgId/portal',
    expect: { owner: 503, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
  {
    // Public: Stripe signs it, nobody signs in. An unsigned body is refused whoever sends it.
    route: 'POST /v1/billing/webhook',
    call: () => ({ body: { id: `evt_${unique()}`, type: 'checkout.session.completed', data: { object: {} } } }),
    expect: { owner: 400, admin: 400, developer: 400, viewer: 400, nonMember: 400, anonymous: 400, readOnlyToken: 400 },
  },

  // ── Audit ──
  {
    route: 'GET /v1/audit/:orgId',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/audit/:orgId/verify',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/audit/:orgId/export',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'GET /v1/audit/:orgId/retention',
    expect: { owner: 200, admin: 200, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 200 },
  },
  {
    route: 'PUT /v1/audit/:orgId/retention',
    call: () => ({ body: { days: null } }),
    expect: { owner: 200, admin: 403, developer: 403, viewer: 403, nonMember: 403, anonymous: 401, readOnlyToken: 403 },
  },
];

/**
 * The matrix's webhooks name a public address that is never contacted: the matrix's app sends no
 * deliveries (WEBHOOK_CONCURRENCY=0), and the webhooks are created disabled besides. (Rows that leave
 * the webhook in place share one per fixture.)
 */
const MATRIX_WEBHOOK_URL = 'https://1.1.1.1/matrix';
const matrixWebhooks = new WeakMap<Fixture, Promise<string>>();

/** A webhook of the fixture's org, created by its owner. */
async function createMatrixWebhook(ctx: TestContext, fx: Fixture): Promise<string> {
  const body = { url: `${MATRIX_WEBHOOK_URL}/${unique()}`, events: ['secret.created'], enabled: false };
  const res = await ctx.api.post(`/v1/webhooks/${fx.org.id}`, body, { session: fx.owner.session });
  if (res.status !== 201) throw new Error(`create webhook failed: ${res.status} ${res.text}`);
  return res.body.id;
}

/** The one webhook of a fixture that reads, updates and test deliveries use. */
function matrixWebhook(ctx: TestContext, fx: Fixture): Promise<string> {
  if (!matrixWebhooks.has(fx)) matrixWebhooks.set(fx, createMatrixWebhook(ctx, fx));
  return matrixWebhooks.get(fx)!;
}

/** A trust relationship body for the fixture's project (its issuer is never contacted: nothing exchanges). */
function matrixTrust(fx: Fixture): Record<string, unknown> {
  return {
    name: `matrix-${unique()}`,
    issuer: 'https://token.actions.githubusercontent.com',
    audience: 'https://secr.example.test',
    conditions: [{ claim: 'repository', pattern: 'acme/api' }],
    project: fx.project.slug,
    access: 'read',
  };
}

async function createMatrixTrust(ctx: TestContext, fx: Fixture): Promise<string> {
  const res = await ctx.api.post(`/v1/orgs/${fx.org.id}/oidc-trusts`, matrixTrust(fx), { session: fx.owner.session });
  if (res.status !== 201) throw new Error(`create trust failed: ${res.status} ${res.text}`);
  return res.body.id;
}

/** A key set (by the owner) only for this call, so deleting it does not disturb other rows. */
async function freshKey(ctx: TestContext, fx: Fixture, env: string): Promise<string> {
  const key = `FRESH_${unique()}`;
  await seedSecrets(ctx.api, { session: fx.owner.session }, fx.org, fx.project, env, { [key]: 'to be deleted' });
  return key;
}

describe('role matrix', () => {
  let ctx: TestContext;
  let shared: Fixture;

  beforeAll(async () => {
    // No deliveries: the matrix's webhooks name an address that must never be contacted.
    ctx = await startTestContext({ WEBHOOK_CONCURRENCY: '0' });
    const [owner, admin, developer, viewer, nonMember, stranger] = await Promise.all(
      ['owner', 'admin', 'developer', 'viewer', 'non-member', 'stranger'].map((name) => registerUser(ctx.api, name)),
    );
    shared = await buildFixture({ owner, admin, developer, viewer, nonMember, stranger });
  });
  afterAll(() => ctx.close());

  /** A new team org of `people` (one member per role), a seeded project, and the owner's read token scoped to the org. */
  async function buildFixture(people: Omit<Fixture, 'org' | 'project' | 'readOnlyToken'>): Promise<Fixture> {
    const { org } = await createTeam(ctx.api, people);
    const project = await createProject(ctx.api, people.owner, org);
    for (const env of ['development', 'staging', 'production']) {
      await seedSecrets(ctx.api, { session: people.owner.session }, org, project, env, { MATRIX_KEY: `${env} value` });
    }
    const { token } = await createToken(ctx.api, people.owner, { access: 'read', orgId: org.id });
    return { ...people, org, project, readOnlyToken: token };
  }

  async function fixtureFor(row: RouteRow, who: Identity): Promise<Fixture> {
    const kind = row.fixture ?? 'shared';
    if (kind === 'shared') return shared;
    const { org: _org, project: _project, readOnlyToken: _token, ...people } = shared;
    const seat = who === 'readOnlyToken' ? 'owner' : who;
    if (kind === 'freshUser' && seat !== 'anonymous') people[seat] = await registerUser(ctx.api, seat);
    return buildFixture(people);
  }

  function credentialsOf(fx: Fixture, who: Identity): Credentials {
    if (who === 'anonymous') return {};
    if (who === 'readOnlyToken') return { token: fx.readOnlyToken };
    return { session: fx[who].session };
  }

  async function callAs(row: RouteRow, fx: Fixture, who: Identity): Promise<Response> {
    const { params = {}, body, query } = (await row.call?.(fx, who, ctx)) ?? {};
    const [method, template] = row.route.split(' ');
    const values: Record<string, string> = { orgId: fx.org.id, orgSlug: fx.org.slug, slug: fx.project.slug, project: fx.project.slug, ...params };
    const path = template.replace(/:(\w+)/g, (_, name: string) => {
      if (values[name] === undefined) throw new Error(`${row.route}: no value for :${name}`);
      return encodeURIComponent(values[name]);
    });
    const target = query ? `${path}?${query}` : path;
    if (row.stream) return openStream(target, credentialsOf(fx, who));
    return ctx.api.request(method, target, { ...credentialsOf(fx, who), body });
  }

  /** A stream answers 200 with text/event-stream (then closed here), or an error in the JSON shape. */
  async function openStream(path: string, credentials: Credentials): Promise<Response> {
    const opened = await SseStream.open(ctx.api.baseUrl, path, credentials);
    opened.stream?.close();
    const contentType = String(opened.headers['content-type'] ?? '');
    const status = opened.status === 200 && !contentType.startsWith('text/event-stream') ? -200 : opened.status;
    return { status, headers: new Headers(), body: opened.body, text: JSON.stringify(opened.body ?? '') };
  }

  const summary = (expected: RouteRow['expect']) => IDENTITIES.map((who) => `${who} ${expected[who]}`).join(', ');

  const title = (row: RouteRow) => (row.variant ? `${row.route} [${row.variant}]` : row.route);
  // Rows, and the identities of a row, run concurrently: each state-changing row has a fresh fixture or
  // target per identity (see the top of this file), so no answer depends on what runs beside it.
  it.concurrent.each(ROUTES.map((row) => [title(row), summary(row.expect), row] as const))('%s answers %s', async (_route, _summary, row) => {
    const mismatches = await Promise.all(
      IDENTITIES.map(async (who) => {
        const res = await callAs(row, await fixtureFor(row, who), who);
        if (res.status !== row.expect[who]) {
          return `${who}: expected ${row.expect[who]}, got ${res.status} ${res.body?.code ?? ''} ${res.body?.message ?? ''}`.trim();
        }
        if (res.status >= 400 && !(ERROR_CODES[res.status] ?? []).includes(res.body?.code)) {
          // A refusal comes in the documented error shape (DESIGN.md §6), not as an accident of another kind.
          return `${who}: ${res.status} with code ${res.body?.code}, expected one of ${ERROR_CODES[res.status]}`;
        }
        return undefined;
      }),
    );
    expect(mismatches.filter(Boolean)).toEqual([]);
  });

  it('has exactly one row for every route in the OpenAPI document, and none for a route that does not exist', async () => {
    const res = await ctx.api.get('/openapi.json');
    expect(res.status).toBe(200);
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((key) => HTTP_METHODS.has(key))
        .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const titles = ROUTES.map(title);
    expect(new Set(titles).size).toBe(titles.length);
    expect([...new Set(ROUTES.map((r) => r.route))].sort()).toEqual([...documented].sort());
  });

  it('finds every handler Nest has mapped in the OpenAPI document, so no route can hide from the matrix', async () => {
    const documented = Object.entries((await ctx.api.get('/openapi.json')).body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, operations]) =>
        Object.keys(operations)
          .filter((key) => HTTP_METHODS.has(key))
          .map((method) => `${method.toUpperCase()} ${path.replace(/^\/v1(?=\/)/, '')}`),
    );
    expect((await ctx.instances[0].handlers()).sort()).toEqual(documented.sort());
  });
});

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const ERROR_CODES: Record<number, string[]> = {
  400: ['bad_request', 'validation_failed'],
  401: ['unauthorized'],
  403: ['forbidden'],
  404: ['not_found'],
  409: ['conflict'],
  503: ['billing_not_configured'], // billing mutations on the matrix app, which has no STRIPE_SECRET_KEY
};
