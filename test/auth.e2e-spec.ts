import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createOrg, createToken, DEFAULT_PASSWORD, registerUser } from './factories/accounts.js';
import { createProject, secretsPath } from './factories/vault.js';
import { PreparedSql } from '../src/database/prepared-sql.js';
import { TokensService } from '../src/modules/auth/tokens.service.js';
import { sessionFrom } from './support/http.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from './support/in-process-app.js';

describe('auth', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  describe('register', () => {
    it('creates the user and a personal org the user owns, answers 202 without a session, and the user then signs in', async () => {
      const res = await ctx.api.post('/v1/auth/register', { email: 'Grace@Example.COM', password: DEFAULT_PASSWORD, name: 'Grace' });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ message: expect.stringContaining('sign in') });
      expect(res.headers.getSetCookie()).toEqual([]);

      const login = await ctx.api.post('/v1/auth/login', { email: 'grace@example.com', password: DEFAULT_PASSWORD });
      expect(login.status).toBe(200);
      expect(login.body.user).toMatchObject({ email: 'grace@example.com', name: 'Grace', emailVerified: false, isAdmin: false });
      const me = await ctx.api.get('/v1/auth/me', { session: sessionFrom(login) });
      expect(me.status).toBe(200);
      expect(me.body.orgs).toEqual([expect.objectContaining({ role: 'owner', slug: 'grace-s-org' })]);
    });

    it('stores an argon2id hash, never the password', async () => {
      const user = await registerUser(ctx.api, 'hash');
      const { rows } = await ctx.db.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
      expect(rows[0].password_hash).not.toContain(DEFAULT_PASSWORD);
    });

    it('signs in with a hash made under another argon2 cost, and hashes new passwords at the configured cost (by default m=19456, t=2)', async () => {
      const hashOf = async (id: string) => (await ctx.db.query('SELECT password_hash FROM users WHERE id = $1', [id])).rows[0].password_hash as string;
      // Test apps hash cheaply (ARGON2_MEMORY_KIB=64, ARGON2_TIME_COST=1: test-app.ts); this instance has the product's defaults.
      const cheap = await registerUser(ctx.api, 'cheap-cost');
      const standard = await ctx.startInstance({ ARGON2_MEMORY_KIB: '', ARGON2_TIME_COST: '' });
      try {
        expect(await hashOf(cheap.id)).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
        expect((await standard.http.post('/v1/auth/login', { email: cheap.email, password: DEFAULT_PASSWORD })).status).toBe(200);
        const strong = await registerUser(standard.http, 'default-cost');
        expect(await hashOf(strong.id)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect((await ctx.api.post('/v1/auth/login', { email: strong.email, password: DEFAULT_PASSWORD })).status).toBe(200);
        expect((await ctx.api.post('/v1/auth/login', { email: strong.email, password: `${DEFAULT_PASSWORD}!` })).status).toBe(401);
      } finally {
        await standard.close();
      }
    });

    it('creates no second account with the same address, in any case, and keeps the first one as it was', async () => {
      const user = await registerUser(ctx.api, 'dupe');
      const res = await ctx.api.post('/v1/auth/register', { email: user.email.toUpperCase(), password: 'another fine passphrase', name: 'X' });
      expect(res.status).toBe(202);
      const { rows } = await ctx.db.query('SELECT id, name FROM users WHERE email = $1', [user.email]);
      expect(rows).toEqual([{ id: user.id, name: 'dupe' }]);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: 'another fine passphrase' })).status).toBe(401);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    });

    it('gives two people with the same name distinct personal org slugs', async () => {
      const a = await registerUser(ctx.api, 'twin');
      const b = await registerUser(ctx.api, 'twin');
      expect(a.personalOrg.slug).not.toBe(b.personalOrg.slug);
    });
  });

  describe('login and sessions', () => {
    it('sets an HttpOnly SameSite=Lax session cookie on login', async () => {
      const user = await registerUser(ctx.api, 'cookie');
      const res = await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password });
      expect(res.status).toBe(200);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__secr_session='))!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      expect(res.text).not.toContain(user.password);
    });

    it('answers a wrong password and an unknown address the same way', async () => {
      const user = await registerUser(ctx.api, 'wrong');
      const wrong = await ctx.api.post('/v1/auth/login', { email: user.email, password: 'not the password' });
      const unknown = await ctx.api.post('/v1/auth/login', { email: 'nobody-here@example.com', password: 'not the password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body.message).toBe(unknown.body.message);
    });

    it('ends the session server-side on logout', async () => {
      const user = await registerUser(ctx.api, 'logout');
      expect((await ctx.api.post('/v1/auth/logout', undefined, { session: user.session })).status).toBe(204);
      const me = await ctx.api.get('/v1/auth/me', { session: user.session });
      expect(me.status).toBe(401);
    });

    it('rejects a tampered session cookie', async () => {
      const user = await registerUser(ctx.api, 'tamper');
      const [h, p, s] = user.session.split('.');
      const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
      expect((await ctx.api.get('/v1/auth/me', { session: flipped })).status).toBe(401);
    });

    it('refuses a cookie-authenticated mutation without X-Requested-With: secr (CSRF)', async () => {
      const user = await registerUser(ctx.api, 'csrf');
      const res = await ctx.api.post('/v1/orgs', { name: 'No CSRF' }, { session: user.session, csrf: false });
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/X-Requested-With/);
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM orgs WHERE name = 'No CSRF'`);
      expect(rows[0].n).toBe(0);
    });

    it('does not need the CSRF header for safe methods', async () => {
      const user = await registerUser(ctx.api, 'safe');
      expect((await ctx.api.get('/v1/auth/me', { session: user.session, csrf: false })).status).toBe(200);
    });
  });

  describe('change-password', () => {
    it('changes the password and revokes every other session, keeping the current one', async () => {
      const user = await registerUser(ctx.api, 'change');
      const other = sessionFrom(await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password }));
      const res = await ctx.api.post(
        '/v1/auth/change-password',
        { currentPassword: user.password, newPassword: 'a brand new passphrase' },
        { session: user.session },
      );
      expect(res.status).toBe(204);
      expect((await ctx.api.get('/v1/auth/me', { session: other })).status).toBe(401);
      expect((await ctx.api.get('/v1/auth/me', { session: user.session })).status).toBe(200);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(401);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: 'a brand new passphrase' })).status).toBe(200);
    });

    it('refuses a wrong current password and changes nothing', async () => {
      const user = await registerUser(ctx.api, 'change-wrong');
      const res = await ctx.api.post(
        '/v1/auth/change-password',
        { currentPassword: 'not it at all', newPassword: 'a brand new passphrase' },
        { session: user.session },
      );
      expect(res.status).toBe(401);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    });

    it('cannot be done with a bearer token', async () => {
      const user = await registerUser(ctx.api, 'change-token');
      const { token } = await createToken(ctx.api, user, { access: 'read_write' });
      const res = await ctx.api.post('/v1/auth/change-password', { currentPassword: user.password, newPassword: 'a brand new passphrase' }, { token });
      expect(res.status).toBe(403);
    });
  });

  describe('tokens', () => {
    it('creates a secr_tok_ token shown once, stored only as its SHA-256', async () => {
      const user = await registerUser(ctx.api, 'tok');
      const res = await ctx.api.post('/v1/auth/token', { name: 'ci', access: 'read' }, { session: user.session });
      expect(res.status).toBe(201);
      expect(res.body.token).toMatch(/^secr_tok_[0-9A-Za-z]{43}$/);
      const { rows } = await ctx.db.query('SELECT token_hash, hint FROM api_tokens WHERE id = $1', [res.body.id]);
      expect(rows[0].token_hash.equals(createHash('sha256').update(res.body.token).digest())).toBe(true);
      const list = await ctx.api.get('/v1/auth/tokens', { session: user.session });
      expect(list.text).not.toContain(res.body.token);
      expect(list.body.tokens).toEqual([expect.objectContaining({ id: res.body.id, name: 'ci', access: 'read', hint: rows[0].hint })]);
    });

    it('mints secr_cli_ tokens too, and both kinds authenticate', async () => {
      const user = await registerUser(ctx.api, 'cli');
      const cli = await createToken(ctx.api, user, { access: 'read_write', kind: 'cli' });
      const api = await createToken(ctx.api, user, { access: 'read' });
      expect(cli.token).toMatch(/^secr_cli_/);
      expect((await ctx.api.get('/v1/auth/me', { token: cli.token })).body.user.id).toBe(user.id);
      expect((await ctx.api.get('/v1/auth/me', { token: api.token })).body.user.id).toBe(user.id);
    });

    it('expires tokens after 90 days by default', async () => {
      const user = await registerUser(ctx.api, 'expiry');
      const res = await ctx.api.post('/v1/auth/token', { name: 'x', access: 'read' }, { session: user.session });
      const days = (Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)) / 86_400_000;
      expect(Math.round(days)).toBe(90);
    });

    it('rejects an expired token with 401', async () => {
      const user = await registerUser(ctx.api, 'expired');
      const { id, token } = await createToken(ctx.api, user, { access: 'read' });
      await ctx.db.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
      expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(401);
    });

    it('rejects a revoked token with 401 and drops it from the list', async () => {
      const user = await registerUser(ctx.api, 'revoke');
      const { id, token } = await createToken(ctx.api, user, { access: 'read' });
      expect((await ctx.api.delete(`/v1/auth/tokens/${id}`, { session: user.session })).status).toBe(204);
      expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(401);
      expect((await ctx.api.get('/v1/auth/tokens', { session: user.session })).body.tokens).toEqual([]);
    });

    it('does not let one user revoke another user’s token', async () => {
      const alice = await registerUser(ctx.api, 'alice');
      const mallory = await registerUser(ctx.api, 'mallory');
      const { id, token } = await createToken(ctx.api, alice, { access: 'read' });
      expect((await ctx.api.delete(`/v1/auth/tokens/${id}`, { session: mallory.session })).status).toBe(404);
      expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(200);
    });

    it('rejects malformed bearer credentials with 401 rather than falling back to the cookie', async () => {
      const user = await registerUser(ctx.api, 'malformed');
      const res = await ctx.api.get('/v1/auth/me', { session: user.session, headers: { authorization: 'Bearer secr_tok_nope' } });
      expect(res.status).toBe(401);
    });

    it('logs out a bearer token by revoking it', async () => {
      const user = await registerUser(ctx.api, 'tok-logout');
      const { token } = await createToken(ctx.api, user, { access: 'read_write', kind: 'cli' });
      expect((await ctx.api.post('/v1/auth/logout', undefined, { token })).status).toBe(204);
      expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(401);
    });

    it('lets a read-only token revoke itself by logging out, but not other tokens', async () => {
      const user = await registerUser(ctx.api, 'read-logout');
      const other = await createToken(ctx.api, user, { access: 'read' });
      const { token } = await createToken(ctx.api, user, { access: 'read' });
      expect((await ctx.api.delete(`/v1/auth/tokens/${other.id}`, { token })).status).toBe(403);
      expect((await ctx.api.post('/v1/auth/logout', undefined, { token })).status).toBe(204);
      expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(401);
      expect((await ctx.api.get('/v1/auth/me', { token: other.token })).status).toBe(200);
    });

    it('never lets a token mint a token that outlives it', async () => {
      const user = await registerUser(ctx.api, 'outlive');
      const parent = await ctx.api.post('/v1/auth/token', { name: 'p', access: 'read_write', expiresInDays: 1 }, { session: user.session });
      const child = await ctx.api.post('/v1/auth/token', { name: 'c', access: 'read', expiresInDays: 365 }, { token: parent.body.token });
      expect(child.status).toBe(201);
      expect(Date.parse(child.body.expiresAt)).toBeLessThanOrEqual(Date.parse(parent.body.expiresAt));
    });

    it('shows and revokes, for an org-scoped token, only tokens of that org', async () => {
      const user = await registerUser(ctx.api, 'org-tokens');
      const other = await createOrg(ctx.api, user, 'Elsewhere');
      const scoped = await createToken(ctx.api, user, { access: 'read_write', orgId: user.personalOrg.id });
      const elsewhere = await createToken(ctx.api, user, { access: 'read', orgId: other.id });
      const listed = await ctx.api.get('/v1/auth/tokens', { token: scoped.token });
      expect(listed.body.tokens.map((t: { id: string }) => t.id)).toEqual([scoped.id]);
      expect((await ctx.api.delete(`/v1/auth/tokens/${elsewhere.id}`, { token: scoped.token })).status).toBe(404);
      expect((await ctx.api.get('/v1/auth/me', { token: elsewhere.token })).status).toBe(200);
    });

    it('refuses to scope a token to an org the user is not a member of', async () => {
      const user = await registerUser(ctx.api, 'scope');
      const stranger = await registerUser(ctx.api, 'stranger');
      const res = await ctx.api.post('/v1/auth/token', { name: 'x', access: 'read', orgId: stranger.personalOrg.id }, { session: user.session });
      expect(res.status).toBe(403);
    });

    it('lets an org-scoped token mint only tokens for the same org', async () => {
      const user = await registerUser(ctx.api, 'mint');
      const other = await createOrg(ctx.api, user, 'Other');
      const scoped = await createToken(ctx.api, user, { access: 'read_write', orgId: user.personalOrg.id });
      const broader = await ctx.api.post('/v1/auth/token', { name: 'x', access: 'read' }, { token: scoped.token });
      const elsewhere = await ctx.api.post('/v1/auth/token', { name: 'x', access: 'read', orgId: other.id }, { token: scoped.token });
      const same = await ctx.api.post('/v1/auth/token', { name: 'x', access: 'read', orgId: user.personalOrg.id }, { token: scoped.token });
      expect([broader.status, elsewhere.status, same.status]).toEqual([403, 403, 201]);
    });

    // Concurrent token lookups go to PostgreSQL as one statement: each request must still get its own answer.
    it('answers concurrent requests each by its own token and membership', async () => {
      const alice = await registerUser(ctx.api, 'batch-alice');
      const bob = await registerUser(ctx.api, 'batch-bob');
      const [aliceToken, bobToken, revoked] = [
        await createToken(ctx.api, alice, { access: 'read' }),
        await createToken(ctx.api, bob, { access: 'read' }),
        await createToken(ctx.api, bob, { access: 'read' }),
      ];
      await ctx.api.delete(`/v1/auth/tokens/${revoked.id}`, { session: bob.session });
      const alicePull = secretsPath(alice.personalOrg, await createProject(ctx.api, alice, alice.personalOrg), 'development'); // org by slug
      const bobPull = secretsPath(bob.personalOrg, await createProject(ctx.api, bob, bob.personalOrg), 'development');
      const aliceProjects = `/v1/projects/${alice.personalOrg.id}`; // org by id
      const cases: Array<[string, string, number, string?]> = [];
      for (let round = 0; round < 5; round++) {
        cases.push(
          ['/v1/auth/me', aliceToken.token, 200, alice.email],
          ['/v1/auth/me', bobToken.token, 200, bob.email],
          ['/v1/auth/me', revoked.token, 401],
          [alicePull, aliceToken.token, 200],
          [alicePull, bobToken.token, 403],
          [bobPull, bobToken.token, 200],
          [bobPull, aliceToken.token, 403],
          [alicePull, revoked.token, 401],
          [aliceProjects, aliceToken.token, 200],
          [aliceProjects, bobToken.token, 403],
        );
      }
      const responses = await Promise.all(cases.map(([path, token]) => ctx.api.get(path, { token })));
      const seen = responses.map((res, i) => [cases[i][0], res.status, res.status === 200 && cases[i][0] === '/v1/auth/me' ? res.body.user.email : undefined]);
      expect(seen).toEqual(cases.map(([path, , status, email]) => [path, status, email]));
    });

    it('resolves lookups made together in one statement per kind of org reference, each to its own row', async () => {
      const alice = await registerUser(ctx.api, 'one-batch-alice');
      const bob = await registerUser(ctx.api, 'one-batch-bob');
      const aliceToken = await createToken(ctx.api, alice, { access: 'read' });
      const bobToken = await createToken(ctx.api, bob, { access: 'read' });
      const app = ctx.instances[0].app;
      const sql = app.get(PreparedSql);
      const query = sql.query.bind(sql);
      const executions: string[] = [];
      sql.query = ((name: string, text: string, values: unknown[]) => {
        executions.push(name);
        return query(name, text, values);
      }) as typeof sql.query;
      try {
        const tokens = app.get(TokensService);
        const bySlug = (org: { slug: string }) => ({ by: 'slug' as const, value: org.slug });
        const byId = (org: { id: string }) => ({ by: 'id' as const, value: org.id });
        // All made in one event-loop turn: one execution per kind of reference.
        const results = await Promise.all([
          tokens.verify(aliceToken.token, bySlug(alice.personalOrg)),
          tokens.verify(bobToken.token, bySlug(alice.personalOrg)),
          tokens.verify(aliceToken.token, bySlug(bob.personalOrg)),
          tokens.verify(bobToken.token, bySlug(bob.personalOrg)),
          tokens.verify('secr_tok_' + 'x'.repeat(43), bySlug(bob.personalOrg)),
          tokens.verify(bobToken.token, byId(bob.personalOrg)),
          tokens.verify(aliceToken.token, byId(bob.personalOrg)),
          tokens.verify(aliceToken.token),
          tokens.verify(bobToken.token),
        ]);
        expect(results.map((r) => r && [r.actor.email, r.membership?.slug ?? null])).toEqual([
          [alice.email, alice.personalOrg.slug],
          [bob.email, null],
          [alice.email, null],
          [bob.email, bob.personalOrg.slug],
          null,
          [bob.email, bob.personalOrg.slug],
          [alice.email, null],
          [alice.email, null],
          [bob.email, null],
        ]);
        expect(executions.sort()).toEqual(['token-verify-account', 'token-verify-id', 'token-verify-slug']);
      } finally {
        sql.query = query;
      }
    });
  });

  it('writes audit rows for logins, token changes and password changes, with no secret in them', async () => {
    const user = await registerUser(ctx.api, 'audited');
    await ctx.api.post('/v1/auth/login', { email: user.email, password: 'wrong password!' });
    await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password });
    const { id, token } = await createToken(ctx.api, user, { access: 'read' });
    await ctx.api.delete(`/v1/auth/tokens/${id}`, { session: user.session });
    const newPassword = 'an audited new passphrase';
    const changed = await ctx.api.post('/v1/auth/change-password', { currentPassword: user.password, newPassword }, { session: user.session });
    expect(changed.status).toBe(204);
    const { rows } = await ctx.db.query(`SELECT action, metadata::text AS metadata FROM audit_events WHERE actor_user_id = $1 ORDER BY id`, [user.id]);
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['user.registered', 'org.created', 'auth.login_failed', 'auth.login', 'token.created', 'token.revoked', 'auth.password_changed']),
    );
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(user.password);
    expect(dump).not.toContain(newPassword);
  });
});
