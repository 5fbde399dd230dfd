import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { registerUser } from './factories/accounts.js';
import { startTestContext, type TestContext } from './support/test-app.js';

const WRONG = 'definitely not the password';

describe('login abuse limits', () => {
  describe('account lock-out', () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await startTestContext({ LOGIN_RATE_LIMIT_PER_IP: '1000', LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000' });
    });
    afterAll(() => ctx.close());

    it('locks an account for 15 minutes after 5 wrong passwords, even against the right one', async () => {
      const user = await registerUser(ctx.api, 'locked');
      for (let i = 0; i < 5; i++) {
        expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: WRONG })).status).toBe(401);
      }
      const res = await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password });
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('rate_limited');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(14 * 60);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    });

    it('unlocks once the lock-out has run out', async () => {
      const user = await registerUser(ctx.api, 'unlock');
      for (let i = 0; i < 5; i++) await ctx.api.post('/v1/auth/login', { email: user.email, password: WRONG });
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(429);
      await ctx.db.query(`UPDATE rate_limit_buckets SET reset_at = now() - interval '1 second' WHERE key = $1`, [`login:failures:${user.email}`]);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    });

    it('clears the failure count on a success, so failures before it do not add to failures after it', async () => {
      const user = await registerUser(ctx.api, 'reset');
      // 4 + 4 failures inside one window: only a reset by the success in between keeps this under the lock-out of 5.
      for (let i = 0; i < 4; i++) expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: WRONG })).status).toBe(401);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: WRONG })).status).toBe(401);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    });

    it('lets no more than 5 concurrent wrong passwords be tried before the lock-out', async () => {
      const user = await registerUser(ctx.api, 'burst');
      const answers = await Promise.all(Array.from({ length: 20 }, () => ctx.api.post('/v1/auth/login', { email: user.email, password: WRONG })));
      expect(answers.filter((r) => r.status === 401)).toHaveLength(5);
      expect(answers.filter((r) => r.status === 429)).toHaveLength(15);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(429);
    });

    it('locks unknown addresses the same way, so a lock-out reveals no account', async () => {
      const email = 'nobody-at-all@example.com';
      for (let i = 0; i < 5; i++) await ctx.api.post('/v1/auth/login', { email, password: WRONG });
      const res = await ctx.api.post('/v1/auth/login', { email, password: WRONG });
      expect(res.status).toBe(429);
    });
  });

  describe('per-account rate limit', () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await startTestContext({ LOGIN_RATE_LIMIT_PER_ACCOUNT: '3', LOGIN_RATE_LIMIT_PER_IP: '1000' });
    });
    afterAll(() => ctx.close());

    it('answers 429 with Retry-After past the limit of attempts for one address', async () => {
      const user = await registerUser(ctx.api, 'busy'); // signs in once: the first of the 3 attempts
      for (let i = 0; i < 2; i++) {
        expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
      }
      const res = await ctx.api.post('/v1/auth/login', { email: user.email, password: user.password });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('per-IP rate limit', () => {
    it('counts attempts per peer address and ignores X-Forwarded-For without TRUST_PROXY', async () => {
      const ctx = await startTestContext({ LOGIN_RATE_LIMIT_PER_IP: '4', LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000' });
      try {
        for (let i = 0; i < 4; i++) {
          const res = await ctx.api.post('/v1/auth/login', { email: `ip${i}@example.com`, password: WRONG });
          expect(res.status).toBe(401);
        }
        const spoofed = await ctx.api.post(
          '/v1/auth/login',
          { email: 'ip-x@example.com', password: WRONG },
          { headers: { 'x-forwarded-for': '203.0.113.77' } },
        );
        expect(spoofed.status).toBe(429);
        expect(Number(spoofed.headers.get('retry-after'))).toBeGreaterThan(0);
      } finally {
        await ctx.close();
      }
    });

    it('keys on the forwarded client address when TRUST_PROXY is set', async () => {
      const ctx = await startTestContext({ LOGIN_RATE_LIMIT_PER_IP: '2', LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000', TRUST_PROXY: 'true' });
      try {
        const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
        const attempt = (ip: string) => ctx.api.post('/v1/auth/login', { email: 'proxy@example.com', password: WRONG }, from(ip));
        expect((await attempt('203.0.113.1')).status).toBe(401);
        expect((await attempt('203.0.113.1')).status).toBe(401);
        expect((await attempt('203.0.113.1')).status).toBe(429);
        expect((await attempt('203.0.113.2')).status).toBe(401);
      } finally {
        await ctx.close();
      }
    });
  });
});
