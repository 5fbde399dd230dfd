import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from '../../common/crypto/random.js';

/**
 * Webhook signatures (spec/README.md): `X-Secr-Signature: sha256=<hex HMAC-SHA256 of the raw body>`,
 * keyed with the webhook's signing secret — the whole `whsec_…` string, as UTF-8 bytes, exactly as
 * its owner was shown it. `X-Secr-Timestamp-Signature` covers `<X-Secr-Timestamp>.<raw body>` the
 * same way, so a receiver can also trust the timestamp it uses to refuse replays.
 */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** `whsec_` + 32 random bytes in base62: shown once, at creation. */
export function generateSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + randomBase62(32);
}

/** Enough of a secret to tell two apart, far too little to use. */
export function secretHint(secret: string): string {
  return `${secret.slice(0, SIGNING_SECRET_PREFIX.length + 4)}…`;
}

function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex');
}

/** The X-Secr-Signature value of a body. */
export function signBody(secret: string, body: string): string {
  return `sha256=${hmacHex(secret, body)}`;
}

/** The X-Secr-Timestamp-Signature value: the timestamp (unix seconds) and the body, signed together. */
export function signTimestamped(secret: string, timestamp: number, body: string): string {
  return `sha256=${hmacHex(secret, `${timestamp}.${body}`)}`;
}

/** Constant-time comparison of a received `sha256=<hex>` header with the expected one. */
export function signatureMatches(expected: string, received: string | undefined): boolean {
  if (typeof received !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
