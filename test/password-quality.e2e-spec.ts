import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PASSWORD, registerUser } from './factories/accounts.js';
import { issueEmailToken } from './factories/mail.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/**
 * Issue 11: new passwords follow NIST SP 800-63B on register, change-password and reset-password: at
 * least 10 characters, at most 256, not common or breached, not the address, not a repetition or a
 * sequence, not only spaces. The 400 names the field and what to do, and never echoes the password.
 */
const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;

/** Weak passwords for an account of `email`, each with what the message must say. */
function weakPasswords(email: string): Array<[string, string, RegExp]> {
  return [
    ['too short', 'short pw1', /at least 10 characters.*choose a longer or less common password/],
    ['too long', 'x'.repeat(200) + ' '.repeat(57), /at most 256 characters/],
    ['only spaces', ' '.repeat(12), /only spaces/],
    ['common, with digits appended', 'password12', /too common.*choose a longer or less common password/],
    ['the email address', email, /email address/],
    ['the local part of the address', email.split('@')[0], /email address/],
    ['one character repeated', 'zzzzzzzzzzzz', /one character repeated/],
    ['a sequence', '1234567890', /simple sequence/],
  ];
}

describe('password quality', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  /** The 400 for a weak password: validation_failed, naming `field`, saying `message`, not echoing it. */
  function expectRefused(res: { status: number; body: any; text: string }, field: string, password: string, message: RegExp): void {
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    expect(res.body.errors[0].message.startsWith(field)).toBe(true);
    if (password.trim()) expect(res.text).not.toContain(password);
  }

  describe('register', () => {
    const email = unique('weak');
    it.each(weakPasswords(email))('refuses a password that is %s, and creates no account', async (_what, password, message) => {
      const res = await ctx.api.post('/v1/auth/register', { email, password, name: 'Weak' });
      expectRefused(res, 'password', password, message);
      expect((await ctx.db.query('SELECT 1 FROM users WHERE email = $1', [email])).rows).toEqual([]);
    });

    it('accepts a passphrase, and one of the maximum length', async () => {
      for (const password of ['correct horse battery', 'ÿ'.repeat(128) + 'Ω'.repeat(128)]) {
        const email = unique('strong');
        expect((await ctx.api.post('/v1/auth/register', { email, password, name: 'Strong' })).status).toBe(202);
        expect((await ctx.api.post('/v1/auth/login', { email, password })).status).toBe(200);
      }
    });
  });

  describe('change-password', () => {
    it('refuses a weak new password naming newPassword, and keeps the old one', async () => {
      const user = await registerUser(ctx.api, 'changer');
      for (const [, password, message] of weakPasswords(user.email)) {
        const res = await ctx.api.post('/v1/auth/change-password', { currentPassword: user.password, newPassword: password }, { session: user.session });
        expectRefused(res, 'newPassword', password, message);
      }
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: DEFAULT_PASSWORD })).status).toBe(200);
    });
  });

  describe('reset-password', () => {
    it('refuses a weak password naming password, and leaves the link usable for a good one', async () => {
      const user = await registerUser(ctx.api, 'resetter');
      const token = await issueEmailToken(ctx.db, user.id, 'reset_password');
      for (const [, password, message] of weakPasswords(user.email)) {
        expectRefused(await ctx.api.post('/v1/auth/reset-password', { token, password }), 'password', password, message);
      }
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: DEFAULT_PASSWORD })).status).toBe(200);
      expect((await ctx.api.post('/v1/auth/reset-password', { token, password: 'a much better passphrase' })).status).toBe(204);
      expect((await ctx.api.post('/v1/auth/login', { email: user.email, password: 'a much better passphrase' })).status).toBe(200);
    });
  });
});
