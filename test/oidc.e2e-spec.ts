/**
 * Keyless CI (issue 20): trust relationships with CI OIDC issuers, and POST /v1/auth/oidc, against a
 * local issuer started here (discovery, JWKS, rotation, tokens signed with jose). Apps fetch from it
 * over loopback http, so they run with OIDC_ALLOW_PRIVATE=true — except the one that checks that a
 * default install refuses such an issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { addMember, createOrg, createTeam, DEFAULT_PASSWORD, registerUser, type OrgWithTeam, type TestOrg } from './factories/accounts.js';
import { issueEmailToken, verifyEmail } from './factories/mail.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { FakeOidcIssuer } from './support/fake-oidc-issuer.js';
import type { Credentials, HttpClient } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

const AUDIENCE = 'https://secr.example.test';

describe('keyless CI: OIDC trust relationships and token exchange', () => {
  let ctx: TestContext;
  let issuer: FakeOidcIssuer;
  let team: OrgWithTeam;
  let project: TestProject;
  let as: Credentials;

  beforeAll(async () => {
    [ctx, issuer] = await Promise.all([startTestContext({ OIDC_ALLOW_PRIVATE: 'true', OIDC_JWKS_REFETCH_SECONDS: '3600' }), FakeOidcIssuer.start()]);
    team = await createTeam(ctx.api);
    as = { session: team.owner.session };
    project = await createProject(ctx.api, team.owner, team.org);
    await Promise.all([
      seedSecrets(ctx.api, as, team.org, project, 'production', { DEPLOY_KEY: 'prod-deploy-value', DB_URL: 'postgres://prod' }),
      seedSecrets(ctx.api, as, team.org, project, 'staging', { DEPLOY_KEY: 'staging-deploy-value' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([ctx?.close(), issuer?.close()]);
  });

  const trustsPath = (org: TestOrg = team.org) => `/v1/orgs/${org.id}/oidc-trusts`;

  async function createTrust(
    overrides: Record<string, unknown> = {},
    org: TestOrg = team.org,
    projectSlug = project.slug,
    by: Credentials = as,
  ): Promise<Record<string, any>> {
    const res = await ctx.api.post(
      trustsPath(org),
      {
        name: `gh-${randomBytes(3).toString('hex')}`,
        issuer: issuer.url,
        audience: AUDIENCE,
        conditions: [
          { claim: 'repository', pattern: 'acme/api' },
          { claim: 'ref', pattern: 'refs/heads/*' },
        ],
        project: projectSlug,
        environments: ['prod'],
        access: 'read',
        ...overrides,
      },
      by,
    );
    if (res.status !== 201) throw new Error(`create trust failed: ${res.status} ${res.text}`);
    return res.body;
  }

  const exchange = (trustId: string, token: string, api: HttpClient = ctx.api) => api.post('/v1/auth/oidc', { trustId, token });

  describe('trust relationships', () => {
    it('creates one with a 15-minute default TTL, lists it, reads it and audits the creation', async () => {
      const trust = await createTrust();
      expect(trust).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        orgId: team.org.id,
        name: expect.any(String),
        issuer: issuer.url,
        audience: AUDIENCE,
        conditions: [
          { claim: 'repository', pattern: 'acme/api' },
          { claim: 'ref', pattern: 'refs/heads/*' },
        ],
        projectId: project.id,
        projectSlug: project.slug,
        environments: ['production'],
        access: 'read',
        ttlSeconds: 900,
        createdBy: team.owner.id,
        createdAt: expect.any(String),
      });
      expect((await ctx.api.get(trustsPath(), as)).body.trusts).toContainEqual(trust);
      expect((await ctx.api.get(`${trustsPath()}/${trust.id}`, as)).body).toEqual(trust);
      const { rows } = await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'oidc_trust.created' AND metadata->>'trustId' = $1`, [trust.id]);
      expect(rows).toHaveLength(1);
    });

    it('refuses a TTL over an hour, no conditions, a wildcard-only pattern, an unknown environment and a taken name', async () => {
      const base = {
        issuer: issuer.url,
        audience: AUDIENCE,
        project: project.slug,
        access: 'read',
        conditions: [{ claim: 'repository', pattern: 'acme/api' }],
      };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...base, name: 'ttl', ttlSeconds: 3601 }, 'ttlSeconds'],
        [{ ...base, name: 'none', conditions: [] }, 'conditions'],
        [{ ...base, name: 'vacuous', conditions: [{ claim: 'repository', pattern: '**' }] }, 'conditions.0.pattern'],
        [{ ...base, name: 'noenv', environments: ['qa'] }, 'environments'],
        [{ ...base, name: 'query', issuer: `${issuer.url}/?x=1` }, 'issuer'],
      ];
      for (const [body, field] of cases) {
        const res = await ctx.api.post(trustsPath(), body, as);
        expect({ field, status: res.status, fields: res.body.errors?.map((e: { field: string }) => e.field) }).toEqual({
          field,
          status: 400,
          fields: expect.arrayContaining([field]),
        });
      }
      const taken = await createTrust();
      expect((await ctx.api.post(trustsPath(), { ...base, name: taken.name }, as)).status).toBe(409);
    });

    it('refuses a creator holding a token narrowed to a project: it may not grant pipelines anything org-wide', async () => {
      const other = await createProject(ctx.api, team.owner, team.org);
      const narrow = await ctx.api.post('/v1/auth/token', { name: 'narrow', access: 'read_write', orgId: team.org.id, projectId: other.id }, as);
      // A project-scoped token cannot manage org-wide things at all, so it cannot create a relationship either.
      const res = await ctx.api.post(
        trustsPath(),
        {
          name: 'broader',
          issuer: issuer.url,
          audience: AUDIENCE,
          project: project.slug,
          access: 'read',
          conditions: [{ claim: 'repository', pattern: 'acme/api' }],
        },
        { token: narrow.body.token },
      );
      expect(res.status).toBe(403);
    });

    it('updates conditions, environments, access and TTL (not more than asked), audits it, and the next exchange follows the new conditions', async () => {
      const trust = await createTrust();
      const res = await ctx.api.patch(
        `${trustsPath()}/${trust.id}`,
        { conditions: [{ claim: 'repository', pattern: 'acme/web' }], environments: ['stg', 'production'], ttlSeconds: 120 },
        as,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ...trust,
        conditions: [{ claim: 'repository', pattern: 'acme/web' }],
        environments: ['staging', 'production'],
        ttlSeconds: 120,
      });
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(401);
      const minted = await exchange(trust.id, await issuer.sign(AUDIENCE, { claims: { repository: 'acme/web' } }));
      expect(minted.status).toBe(201);
      expect(minted.body.environments).toEqual(['staging', 'production']);
      expect((await ctx.api.patch(`${trustsPath()}/${trust.id}`, { environments: null }, as)).body.environments).toBeNull();
      expect((await ctx.api.patch(`${trustsPath()}/${trust.id}`, { conditions: [{ claim: 'sub', pattern: '*' }] }, as)).status).toBe(400);
      expect((await ctx.api.patch(`${trustsPath()}/${trust.id}`, { environments: ['qa'] }, as)).status).toBe(400);
      expect((await ctx.api.patch(`${trustsPath()}/${trust.id}`, { issuer: 'https://evil.example' }, as)).status).toBe(400);
      expect((await ctx.api.patch(`${trustsPath()}/00000000-0000-4000-8000-000000000000`, { ttlSeconds: 60 }, as)).status).toBe(404);
      const { rows } = await ctx.db.query(
        `SELECT metadata FROM audit_events WHERE action = 'oidc_trust.updated' AND metadata->>'trustId' = $1 ORDER BY created_at`,
        [trust.id],
      );
      expect(rows.map((r) => r.metadata)).toEqual([
        {
          trustId: trust.id,
          name: trust.name,
          conditions: [{ claim: 'repository', pattern: 'acme/web' }],
          environments: ['staging', 'production'],
          ttlSeconds: 120,
        },
        { trustId: trust.id, name: trust.name, environments: null },
      ]);
    });

    it('deletes one, revokes the tokens it minted and refuses further exchanges', async () => {
      const trust = await createTrust();
      const minted = await exchange(trust.id, await issuer.sign(AUDIENCE));
      expect(minted.status).toBe(201);
      expect((await ctx.api.delete(`${trustsPath()}/${trust.id}`, as)).status).toBe(204);
      expect((await ctx.api.get(secretsPath(team.org, project, 'production'), { token: minted.body.token })).status).toBe(401);
      const again = await exchange(trust.id, await issuer.sign(AUDIENCE));
      expect(again.status).toBe(401);
      expect((await ctx.api.get(`${trustsPath()}/${trust.id}`, as)).status).toBe(404);
    });
  });

  describe('exchange', () => {
    let trust: Record<string, any>;
    beforeAll(async () => {
      trust = await createTrust({ ttlSeconds: 600 });
    });

    it('mints a read token of the granted scope that pulls secrets and expires at the TTL or the JWT exp, whichever is first', async () => {
      const jwt = await issuer.sign(AUDIENCE, { claims: { exp: Math.floor(Date.now() / 1000) + 120 } });
      const res = await exchange(trust.id, jwt);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        token: expect.stringMatching(/^secr_tok_/),
        tokenId: expect.any(String),
        expiresAt: expect.any(String),
        access: 'read',
        orgSlug: team.org.slug,
        projectSlug: project.slug,
        environments: ['production'],
      });
      const exp = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).exp as number;
      expect(new Date(res.body.expiresAt).getTime()).toBe(exp * 1000);
      const longer = await exchange(trust.id, await issuer.sign(AUDIENCE, { claims: { exp: Math.floor(Date.now() / 1000) + 3000 } }));
      const ttlEnd = new Date(longer.body.expiresAt).getTime() - Date.now();
      expect(ttlEnd).toBeGreaterThan(590_000);
      expect(ttlEnd).toBeLessThanOrEqual(600_000);

      const token = { token: res.body.token };
      const pulled = await ctx.api.get(secretsPath(team.org, project, 'production'), token);
      expect(pulled.status).toBe(200);
      expect(Object.fromEntries(pulled.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]))).toEqual({
        DEPLOY_KEY: 'prod-deploy-value',
        DB_URL: 'postgres://prod',
      });
      // Only the granted environment, and read only.
      expect((await ctx.api.get(secretsPath(team.org, project, 'staging'), token)).status).toBe(403);
      expect((await ctx.api.put(secretsPath(team.org, project, 'production'), { key: 'X', value: 'y' }, token)).status).toBe(403);
    });

    it('audits the exchange with the pipeline claims and the minted token id, never the JWT or the token', async () => {
      const jwt = await issuer.sign(AUDIENCE, { claims: { run_id: '777001' } });
      const res = await exchange(trust.id, jwt);
      expect(res.status).toBe(201);
      const { rows } = await ctx.db.query(
        `SELECT action, actor_token_id, metadata, metadata::text AS raw FROM audit_events WHERE org_id = $1 AND metadata->>'tokenId' = $2`,
        [team.org.id, res.body.tokenId],
      );
      const exchanged = rows.find((r) => r.action === 'oidc.exchanged');
      expect(exchanged.metadata).toMatchObject({
        trustId: trust.id,
        tokenId: res.body.tokenId,
        claims: { repository: 'acme/api', ref: 'refs/heads/main', workflow: 'deploy', run_id: '777001', actor: 'octocat' },
      });
      expect(rows.map((r) => r.action).sort()).toEqual(['oidc.exchanged', 'token.created']);
      const everything = (await ctx.db.query('SELECT metadata::text AS raw FROM audit_events')).rows.map((r) => r.raw).join('\n');
      expect(everything).not.toContain(jwt.split('.')[2]);
      expect(everything).not.toContain(res.body.token);
    });

    /** Each refusal: a 401 naming the check, without the JWT (or any part of it) in the answer. */
    async function expectRefused(jwt: string, check: string, trustId: string = trust.id): Promise<void> {
      const res = await exchange(trustId, jwt);
      expect({ status: res.status, code: res.body?.code, message: res.body?.message }).toEqual({
        status: 401,
        code: 'unauthorized',
        message: expect.stringContaining(`(${check})`),
      });
      for (const part of jwt.split('.').filter((p) => p.length > 8)) expect(res.text).not.toContain(part);
    }

    const now = () => Math.floor(Date.now() / 1000);

    it('refuses a wrong audience', async () => {
      await expectRefused(await issuer.sign('https://someone-else.example'), 'audience');
    });

    it('refuses a pipeline of another repository, or a ref the conditions do not allow', async () => {
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { repository: 'evil/api' } }), 'condition');
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { ref: 'refs/tags/v1' } }), 'condition');
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { repository: undefined } }), 'condition');
    });

    it('refuses an expired token (a replay after exp), and one not valid yet', async () => {
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { iat: now() - 900, nbf: now() - 900, exp: now() - 120 } }), 'expired');
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { nbf: now() + 600, exp: now() + 900 } }), 'not_yet_valid');
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { iat: now() + 600, nbf: undefined } }), 'issued_at');
    });

    it('refuses a token from another issuer', async () => {
      await expectRefused(await issuer.sign(AUDIENCE, { claims: { iss: 'https://token.actions.githubusercontent.com' } }), 'issuer');
    });

    it('refuses a bad signature: a tampered payload, and a forger key under a published key id', async () => {
      const good = await issuer.sign(AUDIENCE);
      const [header, payload, signature] = good.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const tampered = Buffer.from(JSON.stringify({ ...claims, repository: 'acme/api', run_id: 'tampered' })).toString('base64url');
      await expectRefused(`${header}.${tampered}.${signature}`, 'signature');
      const forger = await FakeOidcIssuer.newKey();
      await expectRefused(await issuer.sign(AUDIENCE, { key: forger, kid: issuer.currentKey.kid }), 'signature');
    });

    it('refuses an unknown key id (refetching the keys at most once per interval)', async () => {
      const forger = await FakeOidcIssuer.newKey();
      const before = issuer.served.jwks;
      await expectRefused(await issuer.sign(AUDIENCE, { key: forger }), 'unknown_key');
      await expectRefused(await issuer.sign(AUDIENCE, { key: forger }), 'unknown_key');
      // OIDC_JWKS_REFETCH_SECONDS=3600 here, and the keys were fetched by the first exchange already.
      expect(issuer.served.jwks - before).toBe(0);
    });

    it("refuses alg none, and HS256 'signed' with the issuer's public key", async () => {
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const claims = { iss: issuer.url, aud: AUDIENCE, iat: now(), exp: now() + 300, repository: 'acme/api', ref: 'refs/heads/main' };
      await expectRefused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'algorithm');
      const jwk = issuer.currentKey.publicJwk;
      const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64(claims)}`;
      const hmac = createHmac('sha256', pem).update(signingInput).digest('base64url');
      await expectRefused(`${signingInput}.${hmac}`, 'algorithm');
    });

    it('refuses an unknown relationship and a malformed token with a 401 that names the check', async () => {
      await expectRefused(await issuer.sign(AUDIENCE), 'trust', '00000000-0000-4000-8000-000000000000');
      await expectRefused('eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln', 'malformed');
    });

    it('audits refusals by the check that failed', async () => {
      const { rows } = await ctx.db.query(
        `SELECT metadata->>'check' AS "check" FROM audit_events WHERE action = 'oidc.refused' AND metadata->>'trustId' = $1`,
        [trust.id],
      );
      expect(new Set(rows.map((r) => r.check))).toEqual(
        new Set(['audience', 'condition', 'expired', 'not_yet_valid', 'issued_at', 'issuer', 'signature', 'unknown_key', 'algorithm', 'malformed']),
      );
    });

    it('refuses an exchange from a relationship that outlived its creator’s membership or right to manage it (made before removals deleted them)', async () => {
      const admin = await registerUser(ctx.api, 'oidc-legacy');
      await addMember(ctx.api, team.org, team.owner, admin, 'admin');
      const legacy = await createTrust({ environments: undefined }, team.org, project.slug, { session: admin.session });
      expect((await exchange(legacy.id, await issuer.sign(AUDIENCE))).status).toBe(201);
      // As if the member had been removed and invited again before removals deleted relationships: the
      // membership is newer than the relationship.
      await ctx.db.query(`UPDATE memberships SET created_at = now() + interval '1 second' WHERE org_id = $1 AND user_id = $2`, [team.org.id, admin.id]);
      await expectRefused(await issuer.sign(AUDIENCE), 'creator', legacy.id);
      // Or demoted before demotions deleted them.
      await ctx.db.query(`UPDATE memberships SET created_at = now() - interval '1 day', role = 'developer' WHERE org_id = $1 AND user_id = $2`, [
        team.org.id,
        admin.id,
      ]);
      await expectRefused(await issuer.sign(AUDIENCE), 'creator', legacy.id);
      await ctx.db.query(`UPDATE memberships SET role = 'admin' WHERE org_id = $1 AND user_id = $2`, [team.org.id, admin.id]);
      expect((await exchange(legacy.id, await issuer.sign(AUDIENCE))).status).toBe(201);
    });

    it('refuses to let a token minted by an exchange mint tokens: none could outlive the relationship', async () => {
      const readWrite = await createTrust({ access: 'read_write', environments: undefined });
      const exchanged = await exchange(readWrite.id, await issuer.sign(AUDIENCE));
      expect(exchanged.status).toBe(201);
      const child = await ctx.api.post(
        '/v1/auth/token',
        { name: 'copy', access: 'read', orgId: team.org.id, projectId: project.id, environments: ['production'] },
        { token: exchanged.body.token },
      );
      expect({ status: child.status, code: child.body.code }).toEqual({ status: 403, code: 'forbidden' });
      expect(child.body.message).toMatch(/OIDC exchange/);
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM api_tokens WHERE name = 'copy' AND user_id = $1`, [team.owner.id]);
      expect(rows[0].n).toBe(0);
      // The pipeline's own token keeps working until the relationship is deleted, and then stops.
      expect((await ctx.api.get(secretsPath(team.org, project, 'production'), { token: exchanged.body.token })).status).toBe(200);
      expect((await ctx.api.delete(`${trustsPath()}/${readWrite.id}`, as)).status).toBe(204);
      expect((await ctx.api.get(secretsPath(team.org, project, 'production'), { token: exchanged.body.token })).status).toBe(401);
    });
  });

  describe('taking an account back', () => {
    /** A user with a relationship of their own in their personal org, a token it minted, and what the pipeline sends. */
    async function squatterWithTrust(name: string) {
      const user = await registerUser(ctx.api, name);
      const own = await createProject(ctx.api, user, user.personalOrg);
      const trust = await createTrust(
        { name: 'mine', conditions: [{ claim: 'repository', pattern: 'acme/api' }], environments: undefined, access: 'read_write' },
        user.personalOrg,
        own.slug,
        { session: user.session },
      );
      const minted = await exchange(trust.id, await issuer.sign(AUDIENCE));
      expect(minted.status).toBe(201);
      return { user, trust, minted: minted.body as Record<string, any> };
    }

    async function deletions(orgId: string, trustId: string) {
      const { rows } = await ctx.db.query(
        `SELECT metadata, metadata::text AS raw FROM audit_events WHERE org_id = $1 AND action = 'oidc_trust.deleted' AND metadata->>'trustId' = $2`,
        [orgId, trustId],
      );
      return rows as Array<{ metadata: Record<string, any>; raw: string }>;
    }

    it("the first reset of an unverified account (README: 'taken back whole') deletes the relationships it created, audited", async () => {
      // Someone signs up with an address that is not theirs (sign-up proves nothing) and sets up a pipeline.
      const { user, trust, minted } = await squatterWithTrust('squatted');
      // The address's owner takes the account back through the mailed link, without asking for anything more.
      const reset = await ctx.api.post('/v1/auth/reset-password', {
        token: await issueEmailToken(ctx.db, user.id, 'reset_password'),
        password: 'a much better passphrase 9',
      });
      expect(reset.status).toBe(204);
      // The squatter's CI job can no longer exchange, and the token it had is revoked.
      const exchanged = await exchange(trust.id, await issuer.sign(AUDIENCE));
      expect({ status: exchanged.status, message: exchanged.body.message }).toEqual({ status: 401, message: expect.stringContaining('(trust)') });
      expect((await ctx.api.get('/v1/auth/me', { token: minted.token })).status).toBe(401);
      expect((await ctx.db.query('SELECT count(*)::int AS n FROM oidc_trusts WHERE created_by = $1', [user.id])).rows[0].n).toBe(0);
      const [deleted, ...more] = await deletions(user.personalOrg.id, trust.id);
      expect(more).toEqual([]);
      expect(deleted.metadata).toMatchObject({
        trustId: trust.id,
        name: 'mine',
        reason: 'address_proven',
        createdBy: user.id,
        issuer: issuer.url,
        conditions: [{ claim: 'repository', pattern: 'acme/api' }],
        access: 'read_write',
      });
      expect(deleted.raw).not.toContain(minted.token);
      const [resetRow] = (await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'auth.password_reset' AND actor_user_id = $1`, [user.id])).rows;
      expect(resetRow.metadata).toMatchObject({ deletedOidcTrusts: 1 });
    });

    it('a reset of a verified account keeps them unless it revokes tokens; with revokeTokens they go', async () => {
      const { user, trust } = await squatterWithTrust('verified');
      await verifyEmail(ctx.api, ctx.db, user.id);
      const withLink = async (revokeTokens?: boolean) => {
        const res = await ctx.api.post('/v1/auth/reset-password', {
          token: await issueEmailToken(ctx.db, user.id, 'reset_password'),
          password: `a new passphrase ${randomBytes(4).toString('hex')}`,
          ...(revokeTokens === undefined ? {} : { revokeTokens }),
        });
        expect(res.status).toBe(204);
      };
      await withLink();
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(201);
      await withLink(true);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(401);
      expect((await deletions(user.personalOrg.id, trust.id)).map((r) => r.metadata.reason)).toEqual(['password_reset']);
    });

    it("a change of password with revokeTokens deletes an admin's relationships in a team org, in that org's log", async () => {
      const admin = await registerUser(ctx.api, 'oidc-admin');
      await addMember(ctx.api, team.org, team.owner, admin, 'admin');
      const trust = await createTrust({ conditions: [{ claim: 'repository', pattern: 'acme/api' }], environments: undefined }, team.org, project.slug, {
        session: admin.session,
      });
      const ownersTrust = await createTrust();
      const changed = await ctx.api.post(
        '/v1/auth/change-password',
        { currentPassword: DEFAULT_PASSWORD, newPassword: 'an admin changes passphrase', revokeTokens: true },
        { session: admin.session },
      );
      expect(changed.status).toBe(204);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(401);
      // Another member's relationship stays.
      expect((await exchange(ownersTrust.id, await issuer.sign(AUDIENCE))).status).toBe(201);
      const audit = await ctx.api.get(`/v1/audit/${team.org.id}?action=oidc_trust.deleted`, as);
      expect(audit.body.events.find((e: Record<string, any>) => e.metadata.trustId === trust.id)?.metadata).toMatchObject({
        reason: 'password_changed',
        createdBy: admin.id,
      });
    });
  });

  describe('a member who leaves or loses the role (README: removing a member)', () => {
    /** An admin of the team org with a relationship there and one in their own org, and a token minted through the first. */
    async function adminWithTrusts(name: string) {
      const admin = await registerUser(ctx.api, name);
      await addMember(ctx.api, team.org, team.owner, admin, 'admin');
      const trust = await createTrust({ environments: undefined, access: 'read_write' }, team.org, project.slug, { session: admin.session });
      const own = await createProject(ctx.api, admin, admin.personalOrg);
      const elsewhere = await createTrust({ environments: undefined }, admin.personalOrg, own.slug, { session: admin.session });
      const minted = await exchange(trust.id, await issuer.sign(AUDIENCE));
      expect(minted.status).toBe(201);
      return { admin, trust, elsewhere, minted: minted.body as Record<string, any> };
    }

    async function deletionsOf(trustId: string) {
      const { rows } = await ctx.db.query(
        `SELECT metadata, metadata::text AS raw FROM audit_events WHERE org_id = $1 AND action = 'oidc_trust.deleted' AND metadata->>'trustId' = $2`,
        [team.org.id, trustId],
      );
      return rows as Array<{ metadata: Record<string, any>; raw: string }>;
    }

    it('removal deletes the relationships the member created in the org, revokes what they minted, audited; a new invitation revives nothing', async () => {
      const { admin, trust, elsewhere, minted } = await adminWithTrusts('oidc-removed');
      const ownersTrust = await createTrust();
      expect((await ctx.api.delete(`/v1/members/${team.org.id}/${admin.id}`, as)).status).toBe(204);
      expect((await ctx.api.get(secretsPath(team.org, project, 'production'), { token: minted.token })).status).toBe(401);
      expect((await ctx.api.get(`${trustsPath()}/${trust.id}`, as)).status).toBe(404);
      const [deleted, ...more] = await deletionsOf(trust.id);
      expect(more).toEqual([]);
      expect(deleted.metadata).toMatchObject({
        trustId: trust.id,
        name: trust.name,
        reason: 'member_removed',
        createdBy: admin.id,
        issuer: issuer.url,
        audience: AUDIENCE,
        conditions: trust.conditions,
        projectId: project.id,
        environments: null,
        access: 'read_write',
        ttlSeconds: trust.ttlSeconds,
        revokedTokens: 1,
      });
      expect(deleted.raw).not.toContain(minted.token);
      const [removed] = (
        await ctx.db.query(`SELECT metadata FROM audit_events WHERE org_id = $1 AND action = 'member.removed' AND metadata->>'userId' = $2`, [
          team.org.id,
          admin.id,
        ])
      ).rows;
      expect(removed.metadata).toMatchObject({ deletedOidcTrusts: 1 });

      // Invited again, with the same role: the old relationship stays gone, and so does its token.
      await addMember(ctx.api, team.org, team.owner, admin, 'admin');
      const again = await exchange(trust.id, await issuer.sign(AUDIENCE));
      expect({ status: again.status, message: again.body.message }).toEqual({ status: 401, message: expect.stringContaining('(trust)') });
      expect((await ctx.api.get(secretsPath(team.org, project, 'production'), { token: minted.token })).status).toBe(401);
      // Their relationship in another org, and other members' relationships, stay.
      expect((await exchange(elsewhere.id, await issuer.sign(AUDIENCE))).status).toBe(201);
      expect((await exchange(ownersTrust.id, await issuer.sign(AUDIENCE))).status).toBe(201);
    });

    it('a demotion to a role that may not manage relationships deletes them (audited); owner to admin keeps them', async () => {
      const { admin, trust, elsewhere, minted } = await adminWithTrusts('oidc-demoted');
      const member = (role: string) => ctx.api.patch(`/v1/members/${team.org.id}/${admin.id}`, { role }, as);
      expect((await member('owner')).status).toBe(200);
      expect((await member('admin')).status).toBe(200);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(201);
      expect(await deletionsOf(trust.id)).toEqual([]);

      expect((await member('developer')).status).toBe(200);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(401);
      expect((await ctx.api.get(secretsPath(team.org, project, 'staging'), { token: minted.token })).status).toBe(401);
      const [deleted] = await deletionsOf(trust.id);
      expect(deleted.metadata).toMatchObject({ reason: 'role_changed', createdBy: admin.id, revokedTokens: expect.any(Number) });
      const [changed] = (
        await ctx.db.query(
          `SELECT metadata FROM audit_events WHERE org_id = $1 AND action = 'member.role_changed' AND metadata->>'userId' = $2 ORDER BY created_at DESC LIMIT 1`,
          [team.org.id, admin.id],
        )
      ).rows;
      expect(changed.metadata).toMatchObject({ from: 'admin', to: 'developer', deletedOidcTrusts: 1 });
      // Promoted back: nothing revives.
      expect((await member('admin')).status).toBe(200);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE))).status).toBe(401);
      expect((await exchange(elsewhere.id, await issuer.sign(AUDIENCE))).status).toBe(201);
    });
  });

  describe('refusals do not use up the org’s limit, and are bounded per client address', () => {
    /** Junk anyone can send with a relationship's (public) id: unsigned, and signed for another repository. */
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const exchangeFrom = (api: HttpClient, trustId: string, token: string, ip: string) => api.post('/v1/auth/oidc', { trustId, token }, from(ip));

    async function freshTrust(): Promise<Record<string, any>> {
      const org = await createOrg(ctx.api, team.owner, 'Junk');
      const own = await createProject(ctx.api, team.owner, org);
      return createTrust({ environments: undefined }, org, own.slug);
    }
    const refusalsAudited = async (trustId: string) =>
      (await ctx.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'oidc.refused' AND metadata->>'trustId' = $1`, [trustId])).rows[0]
        .n as number;

    it('unauthenticated junk does not use up the per-org exchange limit (only successful exchanges count)', async () => {
      // The limit lowered from 120 to 5 a minute only to keep the test short.
      const b = await ctx.startInstance({ OIDC_ALLOW_PRIVATE: 'true', OIDC_EXCHANGE_RATE_LIMIT_PER_ORG: '5', TRUST_PROXY: 'true' });
      const trust = await freshTrust();
      const refused: number[] = [];
      for (let i = 0; i < 4; i++) refused.push((await exchangeFrom(b.http, trust.id, unsigned, `198.51.100.${i + 1}`)).status);
      for (let i = 0; i < 4; i++) {
        const otherRepo = await issuer.sign(AUDIENCE, { claims: { repository: 'mallory/fork' } });
        refused.push((await exchangeFrom(b.http, trust.id, otherRepo, `198.51.100.${i + 11}`)).status);
      }
      expect(refused).toEqual(Array(8).fill(401));
      // The org's real pipelines: five a minute, as configured; the sixth waits.
      for (let i = 0; i < 5; i++) expect((await exchangeFrom(b.http, trust.id, await issuer.sign(AUDIENCE), '203.0.113.50')).status).toBe(201);
      const sixth = await exchangeFrom(b.http, trust.id, await issuer.sign(AUDIENCE), '203.0.113.50');
      expect(sixth.status).toBe(429);
      expect(sixth.body.message).toMatch(/organization/);
    });

    it('answers 429 to an address past OIDC_REFUSAL_LIMIT_PER_IP refusals a minute, before any check; other addresses go on', async () => {
      const b = await ctx.startInstance({ OIDC_ALLOW_PRIVATE: 'true', OIDC_REFUSAL_LIMIT_PER_IP: '3', TRUST_PROXY: 'true' });
      const trust = await freshTrust();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await exchangeFrom(b.http, trust.id, unsigned, '198.51.100.200')).status);
      // Unknown relationship ids count too (guessing them).
      const unknown = await exchangeFrom(b.http, '00000000-0000-4000-8000-000000000000', unsigned, '198.51.100.200');
      statuses.push(unknown.status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect(Number(unknown.headers.get('retry-after'))).toBeGreaterThan(0);
      // A valid token from the blocked address waits too; from any other address it is exchanged.
      expect((await exchangeFrom(b.http, trust.id, await issuer.sign(AUDIENCE), '198.51.100.200')).status).toBe(429);
      expect((await exchangeFrom(b.http, trust.id, await issuer.sign(AUDIENCE), '198.51.100.201')).status).toBe(201);
    });

    it('audits a refusal once per relationship, address and check a minute, and at most 20 a minute per relationship', async () => {
      const b = await ctx.startInstance({ OIDC_ALLOW_PRIVATE: 'true', TRUST_PROXY: 'true' });
      const trust = await freshTrust();
      for (let i = 0; i < 5; i++) expect((await exchangeFrom(b.http, trust.id, unsigned, '198.51.100.77')).status).toBe(401);
      expect(await refusalsAudited(trust.id)).toBe(1);
      const otherRepo = await issuer.sign(AUDIENCE, { claims: { repository: 'mallory/fork' } });
      for (let i = 0; i < 3; i++) expect((await exchangeFrom(b.http, trust.id, otherRepo, '198.51.100.77')).status).toBe(401);
      expect(await refusalsAudited(trust.id)).toBe(2);
      // Many addresses: still at most 20 rows a minute for the relationship.
      for (let i = 0; i < 25; i++) expect((await exchangeFrom(b.http, trust.id, unsigned, `192.0.2.${i + 1}`)).status).toBe(401);
      expect(await refusalsAudited(trust.id)).toBe(20);
    });
  });

  describe('two instances on one database', () => {
    it('shares the per-org exchange rate limit, and lets each instance follow a key rotation with one refetch', async () => {
      // Their own org (the limit counts the org's exchanges), instances that may refetch keys at once.
      const settings = { OIDC_ALLOW_PRIVATE: 'true', OIDC_EXCHANGE_RATE_LIMIT_PER_ORG: '4', OIDC_JWKS_REFETCH_SECONDS: '0' };
      const [b, c] = await Promise.all([ctx.startInstance(settings), ctx.startInstance(settings)]);
      const org = await createOrg(ctx.api, team.owner, 'Replicas');
      const replicaProject = await createProject(ctx.api, team.owner, org);
      const trust = await createTrust({ environments: undefined }, org, replicaProject.slug);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE), b.http)).status).toBe(201);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE), c.http)).status).toBe(201);
      await issuer.rotate({ dropOld: true, alg: 'ES256' });
      const before = issuer.served.jwks;
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE), b.http)).status).toBe(201);
      expect((await exchange(trust.id, await issuer.sign(AUDIENCE), c.http)).status).toBe(201);
      expect(issuer.served.jwks - before).toBe(2); // one refetch per instance, for the new key id
      // Four exchanges of the org in this window, two on each instance: the limit of 4 is reached for both.
      const limited = await exchange(trust.id, await issuer.sign(AUDIENCE), b.http);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('refuses an http issuer on an install without OIDC_ALLOW_PRIVATE', async () => {
      const strict = await ctx.startInstance({ OIDC_ALLOW_PRIVATE: 'false' });
      const res = await strict.http.post(
        trustsPath(),
        {
          name: 'plain-http',
          issuer: issuer.url,
          audience: AUDIENCE,
          project: project.slug,
          access: 'read',
          conditions: [{ claim: 'repository', pattern: 'acme/api' }],
        },
        as,
      );
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/https/);
      const trust = await createTrust();
      const refused = await exchange(trust.id, await issuer.sign(AUDIENCE), strict.http);
      expect(refused.status).toBe(401);
      expect(refused.body.message).toContain('(issuer_unreachable)');
    });
  });
});
