import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { registerUser } from './factories/accounts.js';
import { startTestContext, type TestContext } from './support/test-app.js';

describe('HTTP basics', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  it.each([
    ['a public route', '/health'],
    ['an authenticated route', '/v1/auth/me'],
    ['an error', '/v1/no-such-route'],
  ])('sends the security headers on %s', async (_what, path) => {
    const user = await registerUser(ctx.api, 'headers');
    const res = await ctx.api.get(path, { session: user.session });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});
