import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createToken, registerUser } from './factories/accounts.js';
import type { HttpClient } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** DESIGN.md §3: everything replicas must agree on lives in PostgreSQL. */
describe('two app instances on one database', () => {
  let ctx: TestContext;
  let a: HttpClient;
  let b: HttpClient;
  beforeAll(async () => {
    ctx = await startTestContext({ LOGIN_RATE_LIMIT_PER_IP: '1000' });
    a = ctx.api;
    b = (await ctx.startInstance()).http;
  });
  afterAll(() => ctx.close());

  it('accepts on one instance a session created on the other, and honours a logout made on either', async () => {
    const user = await registerUser(a, 'replica');
    expect((await b.get('/v1/auth/me', { session: user.session })).status).toBe(200);
    expect((await a.post('/v1/auth/logout', undefined, { session: user.session })).status).toBe(204);
    expect((await b.get('/v1/auth/me', { session: user.session })).status).toBe(401);
  });

  it('rejects on both instances a token revoked on one', async () => {
    const user = await registerUser(a, 'revoker');
    const { id, token } = await createToken(a, user, { access: 'read' });
    expect((await b.get('/v1/auth/me', { token })).status).toBe(200);
    expect((await b.delete(`/v1/auth/tokens/${id}`, { session: user.session })).status).toBe(204);
    expect((await a.get('/v1/auth/me', { token })).status).toBe(401);
    expect((await b.get('/v1/auth/me', { token })).status).toBe(401);
  });

  it('shares login lock-outs between instances', async () => {
    const user = await registerUser(a, 'shared-lock');
    for (let i = 0; i < 5; i++) {
      const api = i % 2 ? a : b;
      await api.post('/v1/auth/login', { email: user.email, password: 'wrong password here' });
    }
    expect((await a.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(429);
    expect((await b.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(429);
  });
});
