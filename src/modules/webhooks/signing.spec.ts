import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { generateSigningSecret, secretHint, signatureMatches, signBody, signTimestamped } from './signing.js';

describe('webhook signing', () => {
  it('generates whsec_ secrets of 32 random bytes in base62, never the same twice', () => {
    const secrets = Array.from({ length: 50 }, generateSigningSecret);
    for (const secret of secrets) expect(secret).toMatch(/^whsec_[0-9A-Za-z]{43}$/);
    expect(new Set(secrets).size).toBe(50);
    expect(secretHint(secrets[0])).toBe(`${secrets[0].slice(0, 10)}…`);
  });

  it('signs the raw body with HMAC-SHA256 keyed by the whole secret, as the README recipe computes it', () => {
    const secret = 'whsec_test';
    const body = '{"event":"secret.updated","key":"Ü"}';
    expect(signBody(secret, body)).toBe(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    expect(signTimestamped(secret, 1_700_000_000, body)).toBe(`sha256=${createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex')}`);
    expect(signBody(secret, body)).not.toBe(signBody('whsec_other', body));
  });

  it('compares signatures exactly', () => {
    const expected = signBody('whsec_test', '{}');
    expect(signatureMatches(expected, expected)).toBe(true);
    expect(signatureMatches(expected, expected.toUpperCase())).toBe(false);
    expect(signatureMatches(expected, expected.slice(0, -1))).toBe(false);
    expect(signatureMatches(expected, undefined)).toBe(false);
  });
});
