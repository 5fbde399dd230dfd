import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { LogMailer } from './log-mailer.js';
import { invitationMail, passwordResetMail, verificationMail } from './messages.js';
import { smtpOptionsFrom } from './smtp-mailer.js';

describe('smtpOptionsFrom', () => {
  it('speaks TLS from the first byte for smtps:// or ?secure=true, and STARTTLS-when-offered otherwise', () => {
    expect(smtpOptionsFrom('smtps://smtp.example.com')).toMatchObject({ host: 'smtp.example.com', port: 465, secure: true, requireTLS: false });
    expect(smtpOptionsFrom('smtp://smtp.example.com:2465?secure=true')).toMatchObject({ port: 2465, secure: true });
    expect(smtpOptionsFrom('smtp://smtp.example.com')).toMatchObject({ port: 587, secure: false, requireTLS: false, auth: undefined });
    expect(smtpOptionsFrom('smtp://smtp.example.com:587?requireTLS=true')).toMatchObject({ secure: false, requireTLS: true });
  });

  it('percent-decodes the user and password', () => {
    expect(smtpOptionsFrom('smtp://apikey:p%40ss%3Aw%2Frd%25@[::1]:25').auth).toEqual({ user: 'apikey', pass: 'p@ss:w/rd%' });
    expect(smtpOptionsFrom('smtp://u:p@[::1]:25').host).toBe('::1');
  });
});

describe('mail messages', () => {
  const to = { email: 'ada@example.com', name: 'Ada <script>' };

  it('has a text and an HTML part with the same link, the token in the fragment', () => {
    for (const mail of [verificationMail('https://secr.example.com', to, 'TOKEN123', 24), passwordResetMail('https://secr.example.com', to, 'TOKEN123', 1)]) {
      const link = /https:\/\/secr\.example\.com\/[a-z-]+#token=TOKEN123/.exec(mail.text)?.[0];
      expect(link).toBeDefined();
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.to).toBe('ada@example.com');
    }
  });

  it('escapes names in HTML and keeps control characters out of the subject', () => {
    const mail = invitationMail(
      'https://secr.example.com',
      'grace@example.com',
      { orgName: 'Evil\r\nBcc: x@example.com <b>', inviterName: 'Ada <script>', role: 'viewer', expiresAt: new Date(0) },
      'T',
    );
    expect(mail.subject).toBe('Join Evil Bcc: x@example.com <b> on secr');
    expect(mail.html).not.toMatch(/<script>|<b>/);
    expect(mail.html).toContain('Ada &lt;script&gt;');
    expect(mail.text).toContain('Ada <script> invites you');
  });
});

describe('LogMailer', () => {
  it('writes the whole plain-text mail to the log and says it was not sent', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      const mailer = new LogMailer();
      expect(mailer.delivers).toBe(false);
      await mailer.send(verificationMail('http://localhost:8080', { email: 'ada@example.com', name: 'Ada' }, 'TOKEN123', 24), 'secr <no-reply@localhost>');
      const [message] = log.mock.calls[0] as [string];
      expect(message).toContain('SMTP_URL is unset');
      expect(message).toContain('To: ada@example.com');
      expect(message).toContain('http://localhost:8080/verify-email#token=TOKEN123');
    } finally {
      log.mockRestore();
    }
  });
});
