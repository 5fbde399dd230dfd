import { afterAll, describe, expect, it } from '@jest/globals';
import { createSecretKey, randomBytes } from 'node:crypto';
import type { AppConfig } from '../../config/config.js';
import { DecryptionWorkers, type EncryptedValue } from './decryption-workers.js';
import { DecryptionError, encryptValue } from './envelope.js';

const project = '5b0e7c3e-0d8f-4a0b-9f1e-000000000001';
const [dekV1, dekV2] = [createSecretKey(randomBytes(32)), createSecretKey(randomBytes(32))];

/**
 * Values as a pull in the middle of a key rotation reads them: some under each key version, of varied
 * lengths with multi-byte characters (up to 100 'é', so a large count stays a few MB, not hundreds).
 */
function values(count: number, prefix = 'value'): { encrypted: EncryptedValue[]; plaintexts: string[] } {
  const plaintexts = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${'é'.repeat(i % 101)}`);
  const encrypted = plaintexts.map((plaintext, i) => {
    const dek = i % 3 ? dekV1 : dekV2;
    return { key: `KEY_${i}`, dek, ciphertext: encryptValue(dek, project, `KEY_${i}`, plaintext) };
  });
  return { encrypted, plaintexts };
}

describe('DecryptionWorkers', () => {
  const workers = new DecryptionWorkers({ decryptWorkers: 2 } as AppConfig);
  afterAll(() => workers.onApplicationShutdown());

  it('decrypts values under several keys on a worker thread, in order', async () => {
    const { encrypted, plaintexts } = values(50);
    await expect(workers.decrypt(project, encrypted)).resolves.toEqual(plaintexts);
  });

  it('answers concurrent jobs each with its own values', async () => {
    const jobs = Array.from({ length: 6 }, (_, j) => values(10 + j, `job${j}`));
    const results = await Promise.all(jobs.map((job) => workers.decrypt(project, job.encrypted)));
    expect(results).toEqual(jobs.map((job) => job.plaintexts));
  });

  it('rejects with a DecryptionError naming the first value that fails authentication', async () => {
    const { encrypted } = values(12);
    const tampered = Buffer.from(encrypted[7].ciphertext);
    tampered[20] ^= 1;
    encrypted[7] = { ...encrypted[7], ciphertext: tampered };
    const error = await workers.decrypt(project, encrypted).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).key).toBe('KEY_7');
  });

  it('refuses a value bound to another project, as on the main thread', async () => {
    const { encrypted } = values(9);
    const error = await workers.decrypt('5b0e7c3e-0d8f-4a0b-9f1e-000000000002', encrypted).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
  });

  it('fails the jobs of a thread that dies, and starts a new thread for the next ones', async () => {
    const threads = (workers as unknown as { threads: Array<{ worker: { terminate(): Promise<number> } }> }).threads;
    // 20,000 values are still being decrypted when the thread dies: it is terminated in the same turn
    // of the event loop that posted them, and decrypting them takes the thread tens of milliseconds.
    const big = values(20_000).encrypted;
    const inFlight = workers.decrypt(project, big);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    await expect(inFlight).rejects.toThrow(/exited/);
    const { encrypted, plaintexts } = values(10);
    await expect(workers.decrypt(project, encrypted)).resolves.toEqual(plaintexts);
  });
});
