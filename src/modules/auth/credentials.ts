import { hash, verify } from '@node-rs/argon2';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenKind } from './api-token.entity.js';

/** argon2id with the OWASP-recommended minimums; runs on libuv's thread pool, never blocking the event loop. */
// `Algorithm` is an ambient const enum (unusable under isolatedModules): 2 = Argon2id.
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Spends the time a real verification would, so unknown accounts cannot be told apart by timing. */
let dummyHash: Promise<string> | undefined;
export async function burnPasswordVerification(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(await dummyHash, password);
}

export const TOKEN_PREFIX: Readonly<Record<TokenKind, string>> = { api: 'secr_tok_', cli: 'secr_cli_' };
const TOKEN_PATTERN = /^secr_(tok|cli)_[0-9A-Za-z]{43}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 32 random bytes as exactly 43 base62 characters (62^43 > 2^256). */
export function randomBase62(bytes = 32): string {
  let n = BigInt(`0x${randomBytes(bytes).toString('hex')}`);
  let out = '';
  const length = Math.ceil((bytes * 8) / Math.log2(62));
  for (let i = 0; i < length; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export interface NewToken {
  /** Shown once to its owner; never stored, logged or audited. */
  token: string;
  hash: Buffer;
  hint: string;
}

export function generateToken(kind: TokenKind): NewToken {
  const token = TOKEN_PREFIX[kind] + randomBase62();
  return { token, hash: sha256(token), hint: `${token.slice(0, TOKEN_PREFIX[kind].length + 4)}…` };
}

export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
