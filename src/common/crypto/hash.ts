import { createHash, timingSafeEqual } from 'node:crypto';

/** For credentials that are stored only as their hash (API tokens, mail links, invitations). */
export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
