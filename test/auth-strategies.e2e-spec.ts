import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { registerUser } from './factories/accounts.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** What the passport strategies answer (modules/auth): which credential decides, and the 401s' messages. */
describe('authentication strategies', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  it('answers 401 asking to sign in again for the cookie of a signed-out session', async () => {
    const user = await registerUser(ctx.api, 'signed-out');
    expect((await ctx.api.post('/v1/auth/logout', undefined, { session: user.session })).status).toBe(204);
    const res = await ctx.api.get('/v1/auth/me', { session: user.session });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', message: 'Session expired or signed out; sign in again' });
  });

  it('answers 401 asking to sign in again for a session cookie whose signature does not verify', async () => {
    const user = await registerUser(ctx.api, 'forged');
    const [header, payload, signature] = user.session.split('.');
    const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const res = await ctx.api.get('/v1/auth/me', { session: forged });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', message: 'Session expired or signed out; sign in again' });
  });

  it('answers 401 without a credential, and a valid cookie does not rescue an invalid bearer token', async () => {
    expect((await ctx.api.get('/v1/auth/me')).status).toBe(401);
    const user = await registerUser(ctx.api, 'both');
    const res = await ctx.api.get('/v1/auth/me', { session: user.session, headers: { authorization: `Bearer secr_tok_${'x'.repeat(43)}` } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', message: 'Invalid, expired or revoked token' });
  });
});
