import { describe, expect, it } from '@jest/globals';
import { DEFAULT_PASSWORD_HASH_COST } from '../../config/config.js';
import { hashPassword, verifyPassword } from './credentials.js';

const PASSWORD = 'correct horse battery staple';
const CHEAP = { memoryKiB: 64, timeCost: 1 };

describe('password hashes', () => {
  it('are argon2id at the configured cost, recorded in the hash', async () => {
    const [standard, cheap] = await Promise.all([hashPassword(PASSWORD, DEFAULT_PASSWORD_HASH_COST), hashPassword(PASSWORD, CHEAP)]);
    expect(standard).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(cheap).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
  });

  it('made under one cost still verify after the cost changes, and refuse a wrong password', async () => {
    // verifyPassword takes no cost: it reads the one each hash was made with.
    const [standard, cheap] = await Promise.all([hashPassword(PASSWORD, DEFAULT_PASSWORD_HASH_COST), hashPassword(PASSWORD, CHEAP)]);
    expect(await verifyPassword(standard, PASSWORD)).toBe(true);
    expect(await verifyPassword(cheap, PASSWORD)).toBe(true);
    expect(await verifyPassword(standard, `${PASSWORD}!`)).toBe(false);
    expect(await verifyPassword(cheap, `${PASSWORD}!`)).toBe(false);
    expect(await verifyPassword('not a hash', PASSWORD)).toBe(false);
  });
});
