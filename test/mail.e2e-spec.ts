import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Role } from '../src/common/auth/permissions.js';
import { addMember, createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { HttpClient, sessionFrom } from './support/http.js';
import { TestMailServer, tokenOf, type ReceivedMail } from './support/mail-server.js';
import { startTestContext, type HostedApp, type TestContext } from './support/test-app.js';

/**
 * Accounts by email (issue 6) over real SMTP: the app sends through nodemailer to an SMTP server in
 * this process, and every token used here is the one read from a delivered mail.
 */
const PUBLIC_URL = 'https://secr.example.test';
const MAIL_FROM = 'secr tests <no-reply@secr.example.test>';
const NEW_PASSWORD = 'a fresh and long passphrase';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const suffix = () => randomBytes(3).toString('hex');

describe('accounts by email', () => {
  let smtp: TestMailServer;
  let ctx: TestContext<HostedApp>;
  let api: HttpClient;

  beforeAll(async () => {
    smtp = await TestMailServer.start();
    ctx = await startTestContext({ SMTP_URL: smtp.url, PUBLIC_URL, MAIL_FROM });
    api = ctx.api;
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.stop();
  });

  /** Mails other than the welcome every sign-up sends. */
  const notWelcome = (mails: ReceivedMail[]) => mails.filter((m) => !/^Welcome to secr$/.test(m.subject));

  /** Waits until the app has finished the mail work it does after responding. */
  const settled = () => Promise.all(ctx.instances.map((i) => i.call('MailOutbox', 'idle')));

  /** The only link of a mail, checked to be the same in both parts and built from PUBLIC_URL. */
  function linkOf(mail: ReceivedMail, path: string): string {
    expect(mail.links).toHaveLength(1);
    const [link] = mail.links;
    expect(link.startsWith(`${PUBLIC_URL}${path}#token=`)).toBe(true);
    expect(mail.html).toContain(`href="${link}"`);
    return link;
  }

  async function auditActions(userId: string): Promise<{ actions: string[]; dump: string }> {
    const { rows } = await ctx.db.query('SELECT action, metadata FROM audit_events WHERE actor_user_id = $1 ORDER BY id', [userId]);
    return { actions: rows.map((r) => r.action), dump: JSON.stringify(rows) };
  }

  describe('verification', () => {
    it('mails a link in text and HTML whose token verifies the address, which /auth/me then shows', async () => {
      const user = await registerUser(api, 'verify');
      expect((await api.get('/v1/auth/me', { session: user.session })).body.user.emailVerified).toBe(false);

      expect((await api.post('/v1/auth/send-verification', undefined, { session: user.session })).status).toBe(204);
      const mail = await smtp.next(user.email, /Confirm your email address/);
      expect(mail.from).toBe('no-reply@secr.example.test');
      expect(mail.text).toContain('24 hours');
      const token = tokenOf(linkOf(mail, '/verify-email'));

      // Stored as its hash only, for 24 hours (next to the one of the welcome mail sent at sign-up).
      const { rows } = await ctx.db.query(
        'SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM email_tokens WHERE user_id = $1 AND token_hash = $2',
        [user.id, sha256(token)],
      );
      expect(rows).toEqual([{ ttl: 24 * 3600 }]);
      expect((await ctx.db.query('SELECT 1 FROM email_tokens WHERE token_hash = $1', [token])).rows).toEqual([]);

      expect((await api.post('/v1/auth/verify-email', { token })).status).toBe(204);
      expect((await api.get('/v1/auth/me', { session: user.session })).body.user.emailVerified).toBe(true);
      const audit = await auditActions(user.id);
      expect(audit.actions).toContain('user.email_verified');
      expect(audit.dump).not.toContain(token);

      const again = await api.post('/v1/auth/send-verification', undefined, { session: user.session });
      expect([again.status, again.body.code]).toEqual([409, 'conflict']);
    });

    it('refuses a verification token a second time, once expired, or as a reset token, with one message', async () => {
      const user = await registerUser(api, 'verify-once');
      const send = async (skip: number) => {
        expect((await api.post('/v1/auth/send-verification', undefined, { session: user.session })).status).toBe(204);
        return tokenOf((await smtp.next(user.email, /Confirm/, { skip })).links[0]);
      };
      const expired = await send(0);
      await ctx.db.query(`UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [sha256(expired)]);
      const wrongPurpose = await api.post('/v1/auth/reset-password', { token: await send(1), password: NEW_PASSWORD });
      const stale = await api.post('/v1/auth/verify-email', { token: expired });
      for (const res of [wrongPurpose, stale]) {
        expect([res.status, res.body.code]).toEqual([400, 'bad_request']);
        expect(res.body.message).toBe('This link is invalid, has expired or was already used; ask for a new one');
      }
      expect((await api.get('/v1/auth/me', { session: user.session })).body.user.emailVerified).toBe(false);
      const valid = await send(2);
      expect((await api.post('/v1/auth/verify-email', { token: valid })).status).toBe(204);
      const reused = await api.post('/v1/auth/verify-email', { token: valid });
      expect(reused.body.message).toBe(stale.body.message);
    });
  });

  describe('password reset', () => {
    it('mails a link whose token sets the password, ends every session, is audited, and a notice follows', async () => {
      const user = await registerUser(api, 'reset');
      const other = sessionFrom(await api.post('/v1/auth/login', { email: user.email, password: user.password }));

      expect((await api.post('/v1/auth/forgot-password', { email: user.email.toUpperCase() })).status).toBe(202);
      const mail = await smtp.next(user.email, /Reset your secr password/);
      expect(mail.text).toContain('an hour');
      const token = tokenOf(linkOf(mail, '/reset-password'));
      const { rows } = await ctx.db.query(`SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM email_tokens WHERE token_hash = $1`, [
        sha256(token),
      ]);
      expect(rows[0].ttl).toBe(3600);

      expect((await api.post('/v1/auth/reset-password', { token, password: NEW_PASSWORD })).status).toBe(204);
      for (const session of [user.session, other]) expect((await api.get('/v1/auth/me', { session })).status).toBe(401);
      expect((await api.post('/v1/auth/login', { email: user.email, password: user.password })).status).toBe(401);
      const signedIn = await api.post('/v1/auth/login', { email: user.email, password: NEW_PASSWORD });
      expect(signedIn.status).toBe(200);
      // Following the link proved the mailbox.
      expect(signedIn.body.user.emailVerified).toBe(true);

      const audit = await auditActions(user.id);
      expect(audit.actions).toEqual(expect.arrayContaining(['auth.password_reset_requested', 'auth.password_reset']));
      for (const secret of [token, NEW_PASSWORD]) expect(audit.dump).not.toContain(secret);

      const notice = await smtp.next(user.email, /password was changed/);
      expect(notice.text).toContain('reset with a link');
      expect(notice.html).toContain('reset with a link');
    });

    it('ends a lock-out: after five wrong passwords a reset by mail lets the owner sign in at once', async () => {
      const user = await registerUser(api, 'locked');
      for (let i = 0; i < 5; i++) expect((await api.post('/v1/auth/login', { email: user.email, password: `wrong guess ${i}` })).status).toBe(401);
      const locked = await api.post('/v1/auth/login', { email: user.email, password: user.password });
      expect([locked.status, locked.body.code]).toEqual([429, 'rate_limited']);

      expect((await api.post('/v1/auth/forgot-password', { email: user.email })).status).toBe(202);
      const token = tokenOf((await smtp.next(user.email, /Reset your secr password/)).links[0]);
      expect((await api.post('/v1/auth/reset-password', { token, password: NEW_PASSWORD })).status).toBe(204);
      expect((await api.post('/v1/auth/login', { email: user.email, password: NEW_PASSWORD })).status).toBe(200);
    });

    it('keeps the token when the new password is too weak, and refuses it once expired or used', async () => {
      const user = await registerUser(api, 'reset-rules');
      const request = async (skip: number) => {
        expect((await api.post('/v1/auth/forgot-password', { email: user.email })).status).toBe(202);
        return tokenOf((await smtp.next(user.email, /Reset your/, { skip })).links[0]);
      };
      const first = await request(0);
      const weak = await api.post('/v1/auth/reset-password', { token: first, password: 'short' });
      expect([weak.status, weak.body.code, weak.body.errors[0].field]).toEqual([400, 'validation_failed', 'password']);

      const second = await request(1);
      await ctx.db.query(`UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [sha256(second)]);
      expect((await api.post('/v1/auth/reset-password', { token: second, password: NEW_PASSWORD })).status).toBe(400);

      expect((await api.post('/v1/auth/reset-password', { token: first, password: NEW_PASSWORD })).status).toBe(204);
      const reused = await api.post('/v1/auth/reset-password', { token: first, password: 'yet another passphrase' });
      expect([reused.status, reused.body.code]).toEqual([400, 'bad_request']);
      expect((await api.post('/v1/auth/login', { email: user.email, password: NEW_PASSWORD })).status).toBe(200);
    });

    it('answers an unknown address exactly like a known one, and mails it nothing', async () => {
      const user = await registerUser(api, 'known');
      const unknownEmail = `nobody-${suffix()}@example.com`;
      const known = await api.post('/v1/auth/forgot-password', { email: user.email });
      const unknown = await api.post('/v1/auth/forgot-password', { email: unknownEmail });
      await settled();

      expect(known.status).toBe(202);
      expect(known.body.message).toMatch(/^If an account uses this address/);
      expect([unknown.status, unknown.text]).toEqual([known.status, known.text]);
      const headers = (res: typeof known) => [...res.headers].filter(([name]) => !['date', 'x-request-id'].includes(name));
      expect(headers(unknown)).toEqual(headers(known));
      expect(notWelcome(smtp.to(user.email))).toHaveLength(1);
      expect(smtp.to(unknownEmail)).toEqual([]);
    });

    it('answers before the mail server has taken the mail, so the time says nothing about the account', async () => {
      // A mail server that takes each mail only once the HTTP response has arrived: if the app waited
      // for it, neither would ever come (a 20 s deadline turns that deadlock into a failure).
      let responded!: (by: string) => void;
      const answerMail = new Promise<string>((resolve) => (responded = resolve));
      const deadline = setTimeout(() => responded('the deadline'), 20_000);
      const taken: string[] = [];
      const holding = new SMTPServer({
        authOptional: true,
        hideSTARTTLS: true,
        logger: false,
        closeTimeout: 200,
        onData(stream, session, callback) {
          stream.resume();
          stream.on('end', () => void answerMail.then(() => (taken.push(...session.envelope.rcptTo.map((r) => r.address)), callback())));
        },
      });
      await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
      try {
        const held = (await ctx.startInstance({ SMTP_URL: `smtp://127.0.0.1:${(holding.server.address() as AddressInfo).port}` })).http;
        const user = await registerUser(api, 'timing');
        await settled(); // the welcome mail, through the other mail server
        const res = await held.post('/v1/auth/forgot-password', { email: user.email });
        responded('the response');
        expect(res.status).toBe(202);
        expect(await answerMail).toBe('the response');
        await settled();
        expect(taken).toEqual([user.email]);
      } finally {
        clearTimeout(deadline);
        await new Promise<void>((resolve) => holding.close(() => resolve()));
      }
    });

    it('mails a notice when the password is changed, and voids reset links sent before', async () => {
      const user = await registerUser(api, 'changed');
      await api.post('/v1/auth/forgot-password', { email: user.email });
      const token = tokenOf((await smtp.next(user.email, /Reset your/)).links[0]);
      const res = await api.post('/v1/auth/change-password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, { session: user.session });
      expect(res.status).toBe(204);
      const notice = await smtp.next(user.email, /password was changed/);
      expect(notice.text).toMatch(/was changed on .* from the address 127\.0\.0\.1/);
      expect(notice.links).toEqual([`${PUBLIC_URL}/forgot-password`]);
      expect((await api.post('/v1/auth/reset-password', { token, password: 'the attacker wins' })).status).toBe(400);
    });
  });

  describe('invitations', () => {
    const invite = (org: TestOrg, by: TestUser, email: string, role: Role) =>
      api.post(`/v1/members/${org.id}/invite`, { email, role }, { session: by.session });

    /** Invites by mail and accepts with the mailed token. */
    const join = (org: TestOrg, by: TestUser, user: TestUser, role: Role) => addMember(api, org, by, user, role, { mail: smtp });

    it('mails the invitation with a link whose token lets the invited person join; the response has no token', async () => {
      const owner = await registerUser(api, 'Ada');
      const invitee = await registerUser(api, 'invitee');
      const org = await createOrg(api, owner, 'Mailed');
      const res = await invite(org, owner, invitee.email.toUpperCase(), 'developer');
      expect(res.status).toBe(201);
      expect(res.body.token).toBeUndefined();
      expect(Math.round((Date.parse(res.body.invite.expiresAt) - Date.parse(res.body.invite.createdAt)) / 86_400_000)).toBe(7);

      const mail = await smtp.next(invitee.email, /^Join Mailed /);
      expect(mail.text).toContain('Ada invites you');
      expect(mail.text).toContain('as developer');
      const token = tokenOf(linkOf(mail, '/invite'));
      const { rows } = await ctx.db.query('SELECT token_hash FROM org_invites WHERE id = $1', [res.body.invite.id]);
      expect(rows[0].token_hash.equals(sha256(token))).toBe(true);

      const accepted = await api.post(`/v1/members/invite/${token}/accept`, undefined, { session: invitee.session });
      expect([accepted.status, accepted.body.role]).toEqual([200, 'developer']);
      expect((await api.post(`/v1/members/invite/${token}/accept`, undefined, { session: invitee.session })).status).toBe(404);
    });

    it('lets an owner or admin revoke a pending invitation, after which its link no longer works', async () => {
      const [owner, admin, developer, invitee] = await Promise.all(['owner', 'admin', 'developer', 'invitee'].map((n) => registerUser(api, n)));
      const org = await createOrg(api, owner, 'Revoking');
      await join(org, owner, admin, 'admin');
      await join(org, owner, developer, 'developer');
      const revoke = (id: string, by: TestUser) => api.delete(`/v1/members/${org.id}/invites/${id}`, { session: by.session });

      const pending = (await invite(org, owner, invitee.email, 'viewer')).body.invite.id;
      const token = tokenOf((await smtp.next(invitee.email, /^Join /)).links[0]);
      expect((await revoke(pending, developer)).status).toBe(403);
      expect((await revoke(pending, admin)).status).toBe(204);
      expect((await api.post(`/v1/members/invite/${token}/accept`, undefined, { session: invitee.session })).status).toBe(404);
      expect((await api.get(`/v1/members/${org.id}`, { session: owner.session })).body.invites).toEqual([]);
      const again = await revoke(pending, owner);
      expect([again.status, again.body.code]).toEqual([404, 'not_found']);

      const forOwner = (await invite(org, owner, invitee.email, 'owner')).body.invite.id;
      expect((await revoke(forOwner, admin)).status).toBe(403);
      expect((await revoke(forOwner, owner)).status).toBe(204);

      const { rows } = await ctx.db.query(
        `SELECT actor_user_id, metadata FROM audit_events WHERE org_id = $1 AND action = 'member.invite_revoked' ORDER BY id`,
        [org.id],
      );
      expect(rows).toEqual([
        { actor_user_id: admin.id, metadata: { inviteId: pending, email: invitee.email, role: 'viewer' } },
        { actor_user_id: owner.id, metadata: { inviteId: forOwner, email: invitee.email, role: 'owner' } },
      ]);
    });

    it('with REQUIRE_VERIFIED_EMAIL, lets only a verified address accept', async () => {
      const strict = (await ctx.startInstance({ REQUIRE_VERIFIED_EMAIL: 'true' })).http;
      const owner = await registerUser(api, 'strict-owner');
      const invitee = await registerUser(api, 'unverified');
      const org = await createOrg(api, owner, 'Strict');
      await invite(org, owner, invitee.email, 'viewer');
      const token = tokenOf((await smtp.next(invitee.email, /^Join /)).links[0]);

      const refused = await strict.post(`/v1/members/invite/${token}/accept`, undefined, { session: invitee.session });
      expect([refused.status, refused.body.code]).toEqual([403, 'forbidden']);
      expect(refused.body.message).toMatch(/Verify your email address/);

      await strict.post('/v1/auth/send-verification', undefined, { session: invitee.session });
      const verification = tokenOf((await smtp.next(invitee.email, /Confirm/)).links[0]);
      expect((await strict.post('/v1/auth/verify-email', { token: verification })).status).toBe(204);
      expect((await strict.post(`/v1/members/invite/${token}/accept`, undefined, { session: invitee.session })).status).toBe(200);
    });

    it('creates no invitation when the mail server refuses its mail (503)', async () => {
      const owner = await registerUser(api, 'refused');
      const org = await createOrg(api, owner, 'Refused');
      smtp.refuse = true;
      try {
        const res = await invite(org, owner, `refused-${suffix()}@example.com`, 'viewer');
        expect([res.status, res.body.code]).toEqual([503, 'service_unavailable']);
      } finally {
        smtp.refuse = false;
      }
      const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM org_invites WHERE org_id = $1', [org.id]);
      expect(rows[0].n).toBe(0);
    });
  });

  describe('limits', () => {
    let limited: HttpClient;
    beforeAll(async () => {
      limited = (await ctx.startInstance({ TRUST_PROXY: 'true', MAIL_RATE_LIMIT_PER_ADDRESS: '2', MAIL_RATE_LIMIT_PER_IP: '3' })).http;
    });
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

    it('limits forgot-password per address, known or not, with 429 and Retry-After', async () => {
      const user = await registerUser(api, 'limited');
      for (const email of [user.email, `nobody-${suffix()}@example.com`]) {
        const statuses = [];
        for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
          const res = await limited.post('/v1/auth/forgot-password', { email }, from(ip));
          statuses.push(res.status);
          if (res.status === 429) {
            expect(res.body.code).toBe('rate_limited');
            const retryAfter = Number(res.headers.get('retry-after'));
            expect(retryAfter).toBeGreaterThan(3500);
            expect(retryAfter).toBeLessThanOrEqual(3600);
          }
        }
        expect(statuses).toEqual([202, 202, 429]);
      }
    });

    it('limits forgot-password per client address', async () => {
      const ip = '198.51.100.7';
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await limited.post('/v1/auth/forgot-password', { email: `spray-${i}-${suffix()}@example.com` }, from(ip))).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
      expect((await limited.post('/v1/auth/forgot-password', { email: `spray-x-${suffix()}@example.com` }, from('198.51.100.8'))).status).toBe(202);
    });

    it('limits verification mails per address', async () => {
      const user = await registerUser(api, 'verify-limit');
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.post('/v1/auth/send-verification', undefined, { session: user.session })).status);
      expect(statuses).toEqual([204, 204, 429]);
    });
  });

  describe('transport', () => {
    it('signs in to an SMTP server that requires it, and answers 503 with nothing stored when the login is refused', async () => {
      const guarded = await TestMailServer.start({ auth: { user: 'secr@example.test', pass: 'p@ss:w/rd%' } });
      try {
        const good = (await ctx.startInstance({ SMTP_URL: guarded.url })).http;
        const badUrl = guarded.url.replace(encodeURIComponent('p@ss:w/rd%'), 'wrong');
        const bad = (await ctx.startInstance({ SMTP_URL: badUrl })).http;
        const user = await registerUser(api, 'auth-smtp');
        await settled(); // the welcome mail's token is stored by now
        const tokens = async () => (await ctx.db.query('SELECT count(*)::int AS n FROM email_tokens WHERE user_id = $1', [user.id])).rows[0].n;
        const before = await tokens();

        const refused = await bad.post('/v1/auth/send-verification', undefined, { session: user.session });
        expect([refused.status, refused.body.code]).toEqual([503, 'service_unavailable']);
        expect(refused.text).not.toContain('wrong');
        expect(await tokens()).toBe(before);

        expect((await good.post('/v1/auth/send-verification', undefined, { session: user.session })).status).toBe(204);
        const mail = await guarded.next(user.email, /Confirm/);
        expect((await api.post('/v1/auth/verify-email', { token: tokenOf(mail.links[0]) })).status).toBe(204);
      } finally {
        await Promise.all(ctx.instances.slice(1).map((i) => i.call('MailOutbox', 'idle')));
        await guarded.stop();
      }
    });
  });
});
