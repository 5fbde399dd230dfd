import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { KeyUnwrapError } from './key-provider.js';
import { LocalKeyProvider } from './local-key-provider.js';

const masterKey = randomBytes(32).toString('base64');
const provider = new LocalKeyProvider(masterKey);
const context = { projectId: '5b0e7c3e-0d8f-4a0b-9f1e-000000000001', version: 1 };

describe('LocalKeyProvider', () => {
  it('unwraps what it wrapped, and the wrapped form does not contain the key', async () => {
    const dek = randomBytes(32);
    const wrapped = await provider.wrap(dek, context);
    expect(wrapped.includes(dek)).toBe(false);
    expect((await provider.unwrap(wrapped, context)).equals(dek)).toBe(true);
  });

  it('uses a fresh IV each time, so one key wraps to different bytes', async () => {
    const dek = randomBytes(32);
    expect((await provider.wrap(dek, context)).equals(await provider.wrap(dek, context))).toBe(false);
  });

  it('refuses to unwrap a key under another project', async () => {
    const wrapped = await provider.wrap(randomBytes(32), context);
    await expect(provider.unwrap(wrapped, { ...context, projectId: '5b0e7c3e-0d8f-4a0b-9f1e-000000000002' })).rejects.toThrow(KeyUnwrapError);
  });

  it('refuses to unwrap a key under another key version', async () => {
    const wrapped = await provider.wrap(randomBytes(32), context);
    await expect(provider.unwrap(wrapped, { ...context, version: 2 })).rejects.toThrow(KeyUnwrapError);
  });

  it('refuses to unwrap with another master key', async () => {
    const wrapped = await provider.wrap(randomBytes(32), context);
    const other = new LocalKeyProvider(randomBytes(32).toString('base64'));
    await expect(other.unwrap(wrapped, context)).rejects.toThrow(KeyUnwrapError);
  });

  it.each([0, 12, 40, -1])('refuses a wrapped key with byte %i flipped', async (index) => {
    const wrapped = await provider.wrap(randomBytes(32), context);
    wrapped[index < 0 ? wrapped.length + index : index] ^= 0x01;
    await expect(provider.unwrap(wrapped, context)).rejects.toThrow(KeyUnwrapError);
  });

  it('refuses a truncated wrapped key', async () => {
    await expect(provider.unwrap(Buffer.alloc(10), context)).rejects.toThrow(KeyUnwrapError);
  });

  it('names the project and version in the error, never the key material', async () => {
    const dek = randomBytes(32);
    const wrapped = await provider.wrap(dek, context);
    const error = await provider.unwrap(wrapped, { ...context, version: 2 }).catch((e: Error) => e);
    expect((error as Error).message).toContain(context.projectId);
    expect((error as Error).message).not.toContain(masterKey);
    expect((error as Error).message).not.toContain(dek.toString('base64'));
  });

  it('identifies its master key by a stable fingerprint that does not contain the key', () => {
    expect(provider.name).toBe('local');
    expect(provider.masterKeyId).toMatch(/^local:[0-9a-f]{16}$/);
    expect(new LocalKeyProvider(masterKey).masterKeyId).toBe(provider.masterKeyId);
    expect(new LocalKeyProvider(randomBytes(32).toString('base64')).masterKeyId).not.toBe(provider.masterKeyId);
    const raw = Buffer.from(masterKey, 'base64');
    expect(provider.masterKeyId).not.toContain(masterKey);
    expect(provider.masterKeyId).not.toContain(raw.toString('hex').slice(0, 16));
  });

  it('wraps a webhook signing secret bound to its webhook, never usable as a project key or by another webhook', async () => {
    const secret = Buffer.from('whsec_example');
    const webhook = { webhookId: '5b0e7c3e-0d8f-4a0b-9f1e-00000000000a' };
    const wrapped = await provider.wrap(secret, webhook);
    expect(wrapped.includes(secret)).toBe(false);
    expect((await provider.unwrap(wrapped, webhook)).equals(secret)).toBe(true);
    await expect(provider.unwrap(wrapped, { webhookId: '5b0e7c3e-0d8f-4a0b-9f1e-00000000000b' })).rejects.toThrow(/signing secret of webhook/);
    await expect(provider.unwrap(wrapped, { projectId: webhook.webhookId, version: 1 })).rejects.toThrow(KeyUnwrapError);
    await expect(provider.unwrap(await provider.wrap(secret, { projectId: webhook.webhookId, version: 1 }), webhook)).rejects.toThrow(KeyUnwrapError);
  });

  it.each([16, 31, 33])('refuses a %i-byte master key', (bytes) => {
    expect(() => new LocalKeyProvider(randomBytes(bytes).toString('base64'))).toThrow(/32 bytes/);
  });
});
