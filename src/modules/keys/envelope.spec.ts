import { describe, expect, it } from '@jest/globals';
import { createSecretKey, randomBytes } from 'node:crypto';
import { decryptValue, DecryptionError, encryptValue } from './envelope.js';

const dek = createSecretKey(randomBytes(32));
const project = '5b0e7c3e-0d8f-4a0b-9f1e-000000000001';

describe('value encryption', () => {
  it('round-trips a value, including multi-byte text', () => {
    const stored = encryptValue(dek, project, 'API_KEY', 'sk-😀-ünïcode');
    expect(decryptValue(dek, project, 'API_KEY', stored)).toBe('sk-😀-ünïcode');
  });

  it('uses a fresh IV each time, so equal values give different ciphertexts', () => {
    expect(encryptValue(dek, project, 'A', 'same').equals(encryptValue(dek, project, 'A', 'same'))).toBe(false);
  });

  it('refuses a ciphertext moved to another key name', () => {
    const stored = encryptValue(dek, project, 'A', 'value');
    expect(() => decryptValue(dek, project, 'B', stored)).toThrow(DecryptionError);
  });

  it('refuses a ciphertext moved to another project', () => {
    const stored = encryptValue(dek, project, 'A', 'value');
    expect(() => decryptValue(dek, '5b0e7c3e-0d8f-4a0b-9f1e-000000000002', 'A', stored)).toThrow(DecryptionError);
  });

  it.each([0, 12, 20, -1])('refuses a ciphertext with byte %i flipped', (index) => {
    const stored = encryptValue(dek, project, 'A', 'value');
    const i = index < 0 ? stored.length + index : index;
    stored[i] ^= 0x01;
    expect(() => decryptValue(dek, project, 'A', stored)).toThrow(/failed authentication/);
  });

  it('refuses a truncated ciphertext', () => {
    expect(() => decryptValue(dek, project, 'A', Buffer.alloc(10))).toThrow(DecryptionError);
  });

  it('refuses another DEK', () => {
    const stored = encryptValue(dek, project, 'A', 'value');
    expect(() => decryptValue(createSecretKey(randomBytes(32)), project, 'A', stored)).toThrow(DecryptionError);
  });
});
