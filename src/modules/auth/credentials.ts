import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { randomBase62 } from '../../common/crypto/random.js';
import { sha256 } from '../../common/crypto/hash.js';
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
