import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember, createTeam, createToken, DEFAULT_PASSWORD, registerUser, type TestUser } from './factories/accounts.js';
import { issueEmailToken } from './factories/mail.js';
import { createProject } from './factories/vault.js';
import { sessionFrom } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/**
 * Issue 11, tokens: a removed member's tokens for the org end with the membership; a password change or
 * reset can end every token; revoking an org-scoped token is in the org's audit log; and a user sees
 * their own account activity (sign-ins, password and token changes), which no org's log shows.
 */
describe('account tokens and activity', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  const works = async (token: string) => (await ctx.api.get('/v1/auth/me', { token })).status;

  async function auditOf(owner: TestUser, orgId: string, action: string): Promise<Array<Record<string, any>>> {
    const res = await ctx.api.get(`/v1/audit/${orgId}?action=${action}`, { session: owner.session });
    expect(res.status).toBe(200);
    return res.body.events;
  }

  describe('removing a member', () => {
    it("revokes the member's tokens scoped to the org, so a new invitation does not revive them; other tokens stay", async () => {
      const team = await createTeam(ctx.api);
      const dev = team.developer;
      const orgToken = await createToken(ctx.api, dev, { access: 'read', orgId: team.org.id });
      const ownOrgToken = await createToken(ctx.api, dev, { access: 'read', orgId: dev.personalOrg.id });
      const unscoped = await createToken(ctx.api, dev, { access: 'read' });
      expect((await ctx.api.get(`/v1/projects/${team.org.id}`, { token: orgToken.token })).status).toBe(200);

      expect((await ctx.api.delete(`/v1/members/${team.org.id}/${dev.id}`, { session: team.owner.session })).status).toBe(204);
      expect(await works(orgToken.token)).toBe(401);
      await addMember(ctx.api, team.org, team.owner, dev, 'developer');
      expect(await works(orgToken.token)).toBe(401);
      expect((await ctx.api.get(`/v1/projects/${team.org.id}`, { token: orgToken.token })).status).toBe(401);
      expect(await works(ownOrgToken.token)).toBe(200);
      expect(await works(unscoped.token)).toBe(200);

      const revoked = await auditOf(team.owner, team.org.id, 'token.revoked');
      expect(revoked).toEqual([
        expect.objectContaining({ actorUserId: team.owner.id, metadata: { tokenId: orgToken.id, userId: dev.id, reason: 'member_removed' } }),
      ]);
      const [removed] = await auditOf(team.owner, team.org.id, 'member.removed');
      expect(removed.metadata).toMatchObject({ userId: dev.id, revokedTokens: 1 });
    });
  });

  describe('revoking a token', () => {
    it("audits the revocation of an org-scoped token in that org's log", async () => {
      const user = await registerUser(ctx.api, 'revoker');
      const token = await createToken(ctx.api, user, { access: 'read', orgId: user.personalOrg.id });
      expect((await ctx.api.delete(`/v1/auth/tokens/${token.id}`, { session: user.session })).status).toBe(204);
      const [event] = await auditOf(user, user.personalOrg.id, 'token.revoked');
      expect(event).toMatchObject({ actorUserId: user.id, metadata: { tokenId: token.id } });
    });
  });

  describe('password changes', () => {
    /** Proves the user's mailbox with a verification link, as its owner would. */
    async function verify(user: TestUser): Promise<void> {
      const verified = await ctx.api.post('/v1/auth/verify-email', { token: await issueEmailToken(ctx.db, user.id, 'verify_email') });
      expect(verified.status).toBe(204);
    }

    it('reset-password with revokeTokens ends every API and CLI token, audited; without it they stay', async () => {
      const user = await registerUser(ctx.api, 'reset-tokens');
      await verify(user);
      const tokens = [
        await createToken(ctx.api, user, { access: 'read' }),
        await createToken(ctx.api, user, { access: 'read_write', kind: 'cli' }),
        await createToken(ctx.api, user, { access: 'read', orgId: user.personalOrg.id }),
      ];
      const keep = await ctx.api.post('/v1/auth/reset-password', {
        token: await issueEmailToken(ctx.db, user.id, 'reset_password'),
        password: 'first new passphrase',
      });
      expect(keep.status).toBe(204);
      for (const t of tokens) expect(await works(t.token)).toBe(200);

      const reset = await ctx.api.post('/v1/auth/reset-password', {
        token: await issueEmailToken(ctx.db, user.id, 'reset_password'),
        password: 'second new passphrase',
        revokeTokens: true,
      });
      expect(reset.status).toBe(204);
      for (const t of tokens) expect(await works(t.token)).toBe(401);

      const session = sessionFrom(await ctx.api.post('/v1/auth/login', { email: user.email, password: 'second new passphrase' }));
      const activity = (await ctx.api.get('/v1/auth/activity', { session })).body.events as Array<Record<string, any>>;
      const revokedIds = activity.filter((e) => e.action === 'token.revoked').map((e) => e.metadata.tokenId);
      // The two tokens without an org are in the account's activity; the org-scoped one in its org's log.
      expect(revokedIds.sort()).toEqual([tokens[0].id, tokens[1].id].sort());
      expect(activity.find((e) => e.action === 'auth.password_reset')?.metadata).toEqual({ revokedTokens: 3, deletedOidcTrusts: 0, expiredCliLogins: 0 });
      const [inOrg] = await auditOf({ ...user, session }, user.personalOrg.id, 'token.revoked');
      expect(inOrg.metadata).toEqual({ tokenId: tokens[2].id, userId: user.id, reason: 'password_reset' });
    });

    it("a reset that first proves an unverified address ends every token the account minted before (a squatter's), audited", async () => {
      // Sign-up does not prove the mailbox: someone may have opened the account with another's address.
      const squatted = await registerUser(ctx.api, 'squatted');
      const minted = [await createToken(ctx.api, squatted, { access: 'read_write' }), await createToken(ctx.api, squatted, { access: 'read', kind: 'cli' })];
      // The mailbox's owner resets the password through the mailed link, without asking for revocation.
      const reset = await ctx.api.post('/v1/auth/reset-password', {
        token: await issueEmailToken(ctx.db, squatted.id, 'reset_password'),
        password: 'the owner takes over',
      });
      expect(reset.status).toBe(204);
      for (const t of minted) expect(await works(t.token)).toBe(401);

      const session = sessionFrom(await ctx.api.post('/v1/auth/login', { email: squatted.email, password: 'the owner takes over' }));
      const activity = (await ctx.api.get('/v1/auth/activity', { session })).body.events as Array<Record<string, any>>;
      const revoked = activity.filter((e) => e.action === 'token.revoked');
      expect(revoked.map((e) => e.metadata.tokenId).sort()).toEqual(minted.map((t) => t.id).sort());
      expect(revoked.every((e) => e.metadata.reason === 'address_proven')).toBe(true);

      // Once the address is proven, a later reset keeps tokens unless asked.
      const kept = await createToken(ctx.api, { ...squatted, session }, { access: 'read' });
      const again = await ctx.api.post('/v1/auth/reset-password', {
        token: await issueEmailToken(ctx.db, squatted.id, 'reset_password'),
        password: 'a second new passphrase',
      });
      expect(again.status).toBe(204);
      expect(await works(kept.token)).toBe(200);
    });

    it('change-password with revokeTokens ends every token too, and keeps the current session', async () => {
      const user = await registerUser(ctx.api, 'change-tokens');
      const token = await createToken(ctx.api, user, { access: 'read' });
      const res = await ctx.api.post(
        '/v1/auth/change-password',
        { currentPassword: DEFAULT_PASSWORD, newPassword: 'a changed passphrase', revokeTokens: true },
        { session: user.session },
      );
      expect(res.status).toBe(204);
      expect(await works(token.token)).toBe(401);
      expect((await ctx.api.get('/v1/auth/me', { session: user.session })).status).toBe(200);
    });
  });

  describe('GET /auth/activity', () => {
    it("lists the user's own sign-ins, failures and password changes, newest first, paginated, without any secret", async () => {
      const user = await registerUser(ctx.api, 'active');
      const other = await registerUser(ctx.api, 'other');
      await ctx.api.post('/v1/auth/login', { email: user.email, password: 'not the password at all' });
      await ctx.api.post('/v1/auth/change-password', { currentPassword: DEFAULT_PASSWORD, newPassword: 'an activity passphrase' }, { session: user.session });
      await createProject(ctx.api, user, user.personalOrg); // an org event: in the org's log, not here

      const all = await ctx.api.get('/v1/auth/activity', { session: user.session });
      expect(all.status).toBe(200);
      expect(all.body.events.map((e: { action: string }) => e.action)).toEqual(['auth.password_changed', 'auth.login_failed', 'auth.login', 'user.registered']);
      expect(all.body.events[0]).toMatchObject({ ip: expect.any(String), userAgent: expect.anything() });
      expect(all.body.pagination).toEqual({ limit: 50, offset: 0, total: 4 });
      expect(all.text).not.toContain('not the password at all');
      expect(all.text).not.toContain('an activity passphrase');

      const page = await ctx.api.get('/v1/auth/activity?limit=2&offset=1', { session: user.session });
      expect(page.body.events.map((e: { action: string }) => e.action)).toEqual(['auth.login_failed', 'auth.login']);
      expect(page.body.pagination).toEqual({ limit: 2, offset: 1, total: 4 });

      const theirs = await ctx.api.get('/v1/auth/activity', { session: other.session });
      expect(theirs.body.events.map((e: { action: string }) => e.action)).toEqual(['auth.login', 'user.registered']);
    });

    it('is refused to a token scoped to an org, and open to an unscoped one', async () => {
      const user = await registerUser(ctx.api, 'activity-token');
      const scoped = await createToken(ctx.api, user, { access: 'read_write', orgId: user.personalOrg.id });
      const unscoped = await createToken(ctx.api, user, { access: 'read' });
      expect((await ctx.api.get('/v1/auth/activity', { token: scoped.token })).status).toBe(403);
      const res = await ctx.api.get('/v1/auth/activity', { token: unscoped.token });
      expect(res.status).toBe(200);
      expect(res.body.events[0]).toMatchObject({ action: 'token.created', metadata: expect.objectContaining({ tokenId: unscoped.id }) });
    });

    it('refuses a bad limit or offset with 400', async () => {
      const user = await registerUser(ctx.api, 'activity-bad');
      for (const query of ['limit=0', 'limit=501', 'offset=-1', 'limit=abc']) {
        const res = await ctx.api.get(`/v1/auth/activity?${query}`, { session: user.session });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
    });
  });
});
