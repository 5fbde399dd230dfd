import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { randomBase62 } from '../../common/crypto/random.js';
import { sha256 } from '../../common/crypto/hash.js';
import type { PasswordHashCost } from '../../config/config.js';
import type { TokenKind } from './api-token.entity.js';

/**
 * argon2id at the configured cost (config.passwordHashCost: OWASP's minimums unless raised; tests lower it);
 * runs on libuv's thread pool, never blocking the event loop. The hash records its cost, so hashes made
 * under an earlier cost still verify.
 */
export function hashPassword(password: string, cost: PasswordHashCost): Promise<string> {
  // `Algorithm` is an ambient const enum (unusable under isolatedModules): 2 = Argon2id.
  return hash(password, { algorithm: 2, memoryCost: cost.memoryKiB, timeCost: cost.timeCost, parallelism: 1 });
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Spends the time a real verification would, so unknown accounts cannot be told apart by timing. */
const dummyHashes = new Map<string, Promise<string>>();
export async function burnPasswordVerification(password: string, cost: PasswordHashCost): Promise<void> {
  const key = `${cost.memoryKiB}/${cost.timeCost}`;
  let dummy = dummyHashes.get(key);
  if (!dummy) dummyHashes.set(key, (dummy = hashPassword(randomBytes(16).toString('hex'), cost)));
  await verifyPassword(await dummy, password);
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
