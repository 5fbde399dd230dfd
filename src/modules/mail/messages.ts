import type { OutgoingMail } from './mailer.js';

/**
 * The mails secr sends. Each has a plain-text and an HTML part with the same content; links are built
 * from PUBLIC_URL, with the token in the fragment (`#token=…`), which browsers never send to a server:
 * it stays out of access logs and Referer headers. The page there posts it to the API.
 */

export interface Recipient {
  readonly email: string;
  readonly name: string;
}

export const LINK_PATHS = {
  verifyEmail: '/verify-email',
  resetPassword: '/reset-password',
  invitation: '/invite',
  forgotPassword: '/forgot-password',
} as const;

export function tokenLink(publicUrl: string, path: string, token: string): string {
  return `${publicUrl}${path}#token=${encodeURIComponent(token)}`;
}

export function verificationMail(publicUrl: string, to: Recipient, token: string, validHours: number): OutgoingMail {
  return compose({
    to: to.email,
    subject: 'Confirm your email address for secr',
    greeting: `Hello ${to.name},`,
    paragraphs: [`Confirm that ${to.email} is your address by opening this link within ${hours(validHours)}:`],
    action: { label: 'Confirm my address', url: tokenLink(publicUrl, LINK_PATHS.verifyEmail, token) },
    after: ['If you did not ask for this, you can ignore this mail.'],
  });
}

/** To a new account: welcome, and the link that verifies its address. */
export function welcomeMail(publicUrl: string, to: Recipient, token: string, validHours: number): OutgoingMail {
  return compose({
    to: to.email,
    subject: 'Welcome to secr',
    greeting: `Hello ${to.name},`,
    paragraphs: [
      `Your secr account ${to.email} is ready: sign in at ${publicUrl} with the password you chose.`,
      `Confirm that ${to.email} is your address by opening this link within ${hours(validHours)}:`,
    ],
    action: { label: 'Confirm my address', url: tokenLink(publicUrl, LINK_PATHS.verifyEmail, token) },
    after: ['If you did not create this account, you can ignore this mail.'],
  });
}

/** To an existing account whose address someone tried to register again (sign-up never says "taken"). */
export function registrationAttemptMail(publicUrl: string, to: Recipient): OutgoingMail {
  return compose({
    to: to.email,
    subject: 'Someone tried to create a secr account with your address',
    greeting: `Hello ${to.name},`,
    paragraphs: [
      `Someone tried to create a new secr account with ${to.email}, which already has one. No new account was created.`,
      `If it was you, sign in at ${publicUrl} with your password, or choose a new one at ${publicUrl}${LINK_PATHS.forgotPassword}.`,
    ],
    after: ['If it was not you, you can ignore this mail: your account has not changed.'],
  });
}

export function passwordResetMail(publicUrl: string, to: Recipient, token: string, validHours: number): OutgoingMail {
  return compose({
    to: to.email,
    subject: 'Reset your secr password',
    greeting: `Hello ${to.name},`,
    paragraphs: [`Someone asked to reset the password of the secr account ${to.email}. Choose a new password within ${hours(validHours)}:`],
    action: { label: 'Choose a new password', url: tokenLink(publicUrl, LINK_PATHS.resetPassword, token) },
    after: [
      'The link works once. Resetting the password signs you out everywhere.',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ],
  });
}

export function passwordChangedMail(publicUrl: string, to: Recipient, change: { how: 'changed' | 'reset'; at: Date; ip: string }): OutgoingMail {
  const what = change.how === 'reset' ? 'reset with a link sent to this address' : 'changed';
  return compose({
    to: to.email,
    subject: 'Your secr password was changed',
    greeting: `Hello ${to.name},`,
    paragraphs: [`The password of your secr account ${to.email} was ${what} on ${change.at.toUTCString()} from the address ${change.ip}.`],
    after: [`If this was not you, reset your password now at ${publicUrl}${LINK_PATHS.forgotPassword} and review your API tokens.`],
  });
}

export function invitationMail(
  publicUrl: string,
  to: string,
  invite: { orgName: string; inviterName: string | null; role: string; expiresAt: Date },
  token: string,
): OutgoingMail {
  const who = invite.inviterName ? `${invite.inviterName} invites you` : 'You are invited';
  return compose({
    to,
    subject: `Join ${invite.orgName} on secr`,
    paragraphs: [
      `${who} to join the organization "${invite.orgName}" on secr as ${invite.role}.`,
      `Sign in (or create an account) with ${to}, then accept the invitation before ${invite.expiresAt.toUTCString()}:`,
    ],
    action: { label: 'Accept the invitation', url: tokenLink(publicUrl, LINK_PATHS.invitation, token) },
    after: ['If you do not know why you got this, you can ignore it.'],
  });
}

interface Content {
  to: string;
  subject: string;
  greeting?: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  after?: string[];
}

function compose(c: Content): OutgoingMail {
  const blocks = [c.greeting, ...c.paragraphs].filter((b): b is string => b !== undefined);
  const after = c.after ?? [];
  const text = [...blocks, ...(c.action ? [c.action.url] : []), ...after, '— secr'].join('\n\n') + '\n';
  const p = (s: string) => `<p style="margin:0 0 16px">${escapeHtml(s)}</p>`;
  const action = c.action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(c.action.url)}" style="background:#111;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${escapeHtml(c.action.label)}</a></p>` +
      `<p style="margin:0 0 16px;font-size:13px;color:#555">Or paste this link into your browser:<br><span style="word-break:break-all">${escapeHtml(c.action.url)}</span></p>`
    : '';
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(c.subject)}</title></head>` +
    `<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#111;max-width:560px;margin:0 auto;padding:24px">` +
    blocks.map(p).join('') +
    action +
    after.map(p).join('') +
    `<p style="margin:24px 0 0;color:#555">— secr</p></body></html>`;
  return { to: c.to, subject: oneLine(c.subject), text, html };
}

function hours(n: number): string {
  return n === 1 ? 'an hour' : `${n} hours`;
}

/** Names come from users: no control characters in a header. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}
