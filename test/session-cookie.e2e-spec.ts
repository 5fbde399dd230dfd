import { describe, expect, it } from '@jest/globals';
import { registerUser } from './factories/accounts.js';
import { startTestContext } from './support/test-app.js';

/**
 * Issue 11: the session cookie is `Secure` whenever secr is reached over https — by its PUBLIC_URL
 * (behind a TLS load balancer without TRUST_PROXY the request itself looks like plain http) or by
 * the request — and only then.
 */
describe('session cookie Secure flag', () => {
  const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith('__secr_session='))!;

  async function loginCookie(env: Record<string, string>, headers: Record<string, string> = {}): Promise<string> {
    const ctx = await startTestContext(env);
    try {
      const user = await registerUser(ctx.api, 'cookie');
      const res = await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password }, { headers });
      expect(res.status).toBe(200);
      const cookie = cookieOf(res);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      return cookie;
    } finally {
      await ctx.close();
    }
  }

  it('is Secure when PUBLIC_URL is https, even over a plain-http request and without TRUST_PROXY', async () => {
    expect(await loginCookie({ PUBLIC_URL: 'https://secr.example.test' })).toMatch(/;\s*Secure/i);
  });

  it('is Secure when the request is https (X-Forwarded-Proto from a trusted proxy), with an http PUBLIC_URL', async () => {
    expect(await loginCookie({ PUBLIC_URL: 'http://localhost:8080', TRUST_PROXY: 'true' }, { 'x-forwarded-proto': 'https' })).toMatch(/;\s*Secure/i);
  });

  it('is not Secure with an http PUBLIC_URL over plain http (local development)', async () => {
    expect(await loginCookie({ PUBLIC_URL: 'http://localhost:8080' })).not.toMatch(/Secure/i);
  });

  it('ignores X-Forwarded-Proto without TRUST_PROXY', async () => {
    expect(await loginCookie({ PUBLIC_URL: 'http://localhost:8080' }, { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/i);
  });
});
