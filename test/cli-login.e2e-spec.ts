/**
 * `secr login` through the browser, at the API: the CLI starts a request and polls it with its device
 * code; a signed-in session shows and decides it by its user code (POST /v1/auth/cli-auth).
 * The browser and the real binary are in test/dashboard/dashboard.e2e-spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createToken, DEFAULT_PASSWORD, registerUser, type TestUser } from './factories/accounts.js';
import { issueEmailToken } from './factories/mail.js';
import { startCliLogin } from './factories/cli-login.js';
import type { HttpClient } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

describe('CLI sign-in through the browser', () => {
  let ctx: TestContext;
  let user: TestUser;

  beforeAll(async () => {
    ctx = await startTestContext();
    user = await registerUser(ctx.api, 'cli-login');
  });
  afterAll(() => ctx.close());

  /** A poll as soon as the test wants it: the interval is the rate limit's business, tested on its own below. */
  const poll = async (deviceCode: string, api: HttpClient = ctx.api) => {
    await ctx.db.query('UPDATE cli_login_requests SET last_polled_at = NULL');
    return api.post('/v1/auth/cli-login/poll', { deviceCode });
  };
  const decide = (userCode: string, approve: boolean, as: TestUser = user) => ctx.api.post('/v1/auth/cli-auth', { userCode, approve }, { session: as.session });
  const countTokens = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1', [user.id])).rows[0].n as number;

  it('shows the request to a signed-in session, and after the approval delivers a working secr_cli_ token once', async () => {
    const started = await startCliLogin(ctx.api, 'ada-laptop');
    expect(started.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.deviceCode).toMatch(/^secr_clr_/);
    expect(started.verificationPath).toBe('/cli-login');
    expect(new Date(started.expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(new Date(started.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    expect((await poll(started.deviceCode)).body).toEqual({ status: 'pending' });
    const shown = await ctx.api.get(`/v1/auth/cli-auth/${started.userCode.toLowerCase().replace('-', '')}`, { session: user.session });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ userCode: started.userCode, hostname: 'ada-laptop', ip: expect.any(String) });

    const approved = await decide(started.userCode, true);
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ status: 'approved' });

    const delivered = await poll(started.deviceCode);
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ status: 'approved', token: expect.stringMatching(/^secr_cli_[0-9A-Za-z]{43}$/), email: user.email });
    const me = await ctx.api.get('/v1/auth/me', { token: delivered.body.token });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(user.email);
    const listed = (await ctx.api.get('/v1/auth/tokens', { session: user.session })).body.tokens;
    expect(listed).toContainEqual(expect.objectContaining({ id: delivered.body.tokenId, kind: 'cli', name: 'secr CLI on ada-laptop', access: 'read_write' }));

    const tokensAfter = await countTokens();
    const again = await poll(started.deviceCode);
    expect(again.body).toEqual({ status: 'expired' });
    expect(await countTokens()).toBe(tokensAfter);
  });

  it('answers a poll sooner than the interval with 429 slow_down and Retry-After', async () => {
    const slow = await ctx.startInstance({ CLI_LOGIN_POLL_INTERVAL_SECONDS: '60' });
    const started = await startCliLogin(slow.http);
    expect(started.interval).toBe(60);
    expect((await slow.http.post('/v1/auth/cli-login/poll', { deviceCode: started.deviceCode })).status).toBe(200);
    const tooSoon = await slow.http.post('/v1/auth/cli-login/poll', { deviceCode: started.deviceCode });
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.body.code).toBe('slow_down');
    const retryAfter = Number(tooSoon.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('gives a denied request no token, and refuses to decide it again', async () => {
    const started = await startCliLogin(ctx.api);
    const before = await countTokens();
    expect((await decide(started.userCode, false)).body).toEqual({ status: 'denied' });
    expect((await poll(started.deviceCode)).body).toEqual({ status: 'denied' });
    const late = await decide(started.userCode, true);
    expect(late.status).toBe(409);
    expect((await poll(started.deviceCode)).body).toEqual({ status: 'denied' });
    expect(await countTokens()).toBe(before);
  });

  it('uses a code once: a second approval, by anyone, is refused', async () => {
    const other = await registerUser(ctx.api, 'other');
    const started = await startCliLogin(ctx.api);
    expect((await decide(started.userCode, true)).status).toBe(200);
    const second = await decide(started.userCode, true, other);
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('conflict');
    const delivered = await poll(started.deviceCode);
    expect(delivered.body.email).toBe(user.email);
  });

  it('lets nobody approve an expired request, and an expired request yields no token', async () => {
    const started = await startCliLogin(ctx.api);
    await ctx.db.query(`UPDATE cli_login_requests SET expires_at = now() - interval '1 second' WHERE user_code = $1`, [started.userCode]);
    const before = await countTokens();
    expect((await ctx.api.get(`/v1/auth/cli-auth/${started.userCode}`, { session: user.session })).status).toBe(404);
    const approve = await decide(started.userCode, true);
    expect(approve.status).toBe(404);
    expect(approve.body.message).toMatch(/expired/);
    expect((await poll(started.deviceCode)).body).toEqual({ status: 'expired' });

    // Approved in time but collected too late: nothing either.
    const late = await startCliLogin(ctx.api);
    expect((await decide(late.userCode, true)).status).toBe(200);
    await ctx.db.query(`UPDATE cli_login_requests SET expires_at = now() - interval '1 second' WHERE user_code = $1`, [late.userCode]);
    expect((await poll(late.deviceCode)).body).toEqual({ status: 'expired' });
    expect(await countTokens()).toBe(before);
  });

  it('taking the account back expires the sign-ins it approved that no CLI has collected yet', async () => {
    // Someone with the account (a squatter, a thief with the password) approves a sign-in of their own CLI.
    const owner = await registerUser(ctx.api, 'taken-back');
    const approvedByThief = await startCliLogin(ctx.api, 'thief-laptop');
    const pendingOne = await startCliLogin(ctx.api, 'still-pending');
    expect((await ctx.api.post('/v1/auth/cli-auth', { userCode: approvedByThief.userCode, approve: true }, { session: owner.session })).status).toBe(200);
    // The address's owner resets the password through the mailed link: the first proof of the address.
    const reset = await ctx.api.post('/v1/auth/reset-password', {
      token: await issueEmailToken(ctx.db, owner.id, 'reset_password'),
      password: 'the owner takes it back',
    });
    expect(reset.status).toBe(204);
    expect((await poll(approvedByThief.deviceCode)).body).toEqual({ status: 'expired' });
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1', [owner.id]);
    expect(rows[0].n).toBe(0);
    // A request nobody approved is nobody's: it stays pending.
    expect((await poll(pendingOne.deviceCode)).body).toEqual({ status: 'pending' });
    const [resetRow] = (await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'auth.password_reset' AND actor_user_id = $1`, [owner.id])).rows;
    expect(resetRow.metadata).toMatchObject({ expiredCliLogins: 1 });
  });

  it('a change of password with revokeTokens does too; without it an approved sign-in is still delivered', async () => {
    const owner = await registerUser(ctx.api, 'changes-password');
    const kept = await startCliLogin(ctx.api);
    expect((await ctx.api.post('/v1/auth/cli-auth', { userCode: kept.userCode, approve: true }, { session: owner.session })).status).toBe(200);
    const change = (newPassword: string, revokeTokens: boolean, currentPassword = DEFAULT_PASSWORD) =>
      ctx.api.post('/v1/auth/change-password', { currentPassword, newPassword, revokeTokens }, { session: owner.session });
    expect((await change('first changed passphrase', false)).status).toBe(204);
    expect((await poll(kept.deviceCode)).body.status).toBe('approved');
    const ended = await startCliLogin(ctx.api);
    expect((await ctx.api.post('/v1/auth/cli-auth', { userCode: ended.userCode, approve: true }, { session: owner.session })).status).toBe(200);
    expect((await change('second changed passphrase', true, 'first changed passphrase')).status).toBe(204);
    expect((await poll(ended.deviceCode)).body).toEqual({ status: 'expired' });
  });

  it('delivers the token only to the device code of the approved request', async () => {
    const approvedOne = await startCliLogin(ctx.api);
    const otherOne = await startCliLogin(ctx.api);
    expect((await decide(approvedOne.userCode, true)).status).toBe(200);
    expect((await poll(otherOne.deviceCode)).body).toEqual({ status: 'pending' });
    const unknown = await poll(`secr_clr_${'x'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
    expect((await poll(approvedOne.deviceCode)).body.status).toBe('approved');
  });

  it('is decided by a signed-in session only: not by a bearer token, nor by a cookie without the CSRF header', async () => {
    const started = await startCliLogin(ctx.api);
    const { token } = await createToken(ctx.api, user, { access: 'read_write' });
    expect((await ctx.api.post('/v1/auth/cli-auth', { userCode: started.userCode, approve: true }, { token })).status).toBe(403);
    expect((await ctx.api.post('/v1/auth/cli-auth', { userCode: started.userCode, approve: true }, { session: user.session, csrf: false })).status).toBe(403);
    expect((await ctx.api.post('/v1/auth/cli-auth', { userCode: started.userCode, approve: true })).status).toBe(401);
    expect((await poll(started.deviceCode)).body).toEqual({ status: 'pending' });
  });

  it('audits the decision and the token it mints, with no token or device code in the rows', async () => {
    const someone = await registerUser(ctx.api, 'audited');
    const started = await startCliLogin(ctx.api, 'audited-host');
    expect((await decide(started.userCode, true, someone)).status).toBe(200);
    const delivered = await poll(started.deviceCode);
    const rows = (await ctx.db.query('SELECT action, metadata FROM audit_events WHERE actor_user_id = $1 ORDER BY id', [someone.id])).rows;
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['cli_login.approved', 'token.created']));
    expect(rows.find((r) => r.action === 'cli_login.approved').metadata).toMatchObject({ hostname: 'audited-host' });
    expect(rows.find((r) => r.action === 'token.created').metadata).toMatchObject({ kind: 'cli', via: 'browser_login', tokenId: delivered.body.tokenId });
    const text = JSON.stringify(rows);
    expect(text).not.toContain(delivered.body.token);
    expect(text).not.toContain(started.deviceCode);
  });

  it('refuses bad input with 400 and stores nothing', async () => {
    const count = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM cli_login_requests')).rows[0].n as number;
    const before = await count();
    expect((await ctx.api.post('/v1/auth/cli-login', { hostname: 'two\nlines' })).status).toBe(400);
    expect((await ctx.api.post('/v1/auth/cli-login', { hostname: '' })).status).toBe(400);
    expect((await ctx.api.post('/v1/auth/cli-login', { hostname: 'h', extra: 1 })).status).toBe(400);
    expect((await ctx.api.post('/v1/auth/cli-login/poll', {})).status).toBe(400);
    expect((await ctx.api.post('/v1/auth/cli-login/poll', { deviceCode: 'secr_clr_short' })).status).toBe(400);
    const badCode = await ctx.api.post('/v1/auth/cli-auth', { userCode: 'AEIO-UAEI', approve: true }, { session: user.session });
    expect(badCode.status).toBe(400);
    expect(badCode.body.code).toBe('validation_failed');
    expect(await count()).toBe(before);
  });

  it('limits the requests one address may start, with 429 and Retry-After', async () => {
    const limited = await ctx.startInstance({ CLI_LOGIN_RATE_LIMIT_PER_IP: '2' });
    // The counters live in the database, shared with the other instance: count from what is there.
    await ctx.db.query(`DELETE FROM rate_limit_buckets WHERE key LIKE 'cli-login:%'`);
    expect((await limited.http.post('/v1/auth/cli-login', { hostname: 'a' })).status).toBe(201);
    expect((await limited.http.post('/v1/auth/cli-login', { hostname: 'b' })).status).toBe(201);
    const third = await limited.http.post('/v1/auth/cli-login', { hostname: 'c' });
    expect(third.status).toBe(429);
    expect(third.body.code).toBe('rate_limited');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
