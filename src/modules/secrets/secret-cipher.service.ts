import { queriesOn } from '../../database/queries-on.js';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DecryptionWorkers } from '../keys/decryption-workers.js';
import { decryptValue, DecryptionError, encryptValue } from '../keys/envelope.js';
import { DataIntegrityError, KeyVersionDestroyedError, ProjectKeys } from '../keys/project-keys.service.js';
import type { StoredValue } from './secrets.repository.js';

/** Below this many values a pull decrypts on the main thread. */
const OFFLOAD_MIN_VALUES = 8;

/** Encrypts and decrypts secret values of a project with its DEKs (DESIGN.md §4). */
@Injectable()
export class SecretCipher {
  private readonly logger = new Logger(SecretCipher.name);

  constructor(
    private readonly keys: ProjectKeys,
    private readonly workers: DecryptionWorkers,
  ) {}

  /** `em`: the caller's transaction, if any (see ProjectKeys.get). */
  async encrypt(projectId: string, keyVersion: number, entries: ReadonlyArray<{ key: string; value: string }>, em?: EntityManager): Promise<Buffer[]> {
    const dek = await this.keys.get(projectId, keyVersion, em);
    return entries.map((e) => encryptValue(dek, projectId, e.key, e.value));
  }

  /** Each row's value under `keyVersion` (a key rotation), in order; `em`: the caller's transaction. */
  async reencrypt(projectId: string, keyVersion: number, rows: ReadonlyArray<StoredValue & { key: string }>, em: EntityManager): Promise<Buffer[]> {
    const values = await this.decrypt(projectId, rows, em);
    return this.encrypt(
      projectId,
      keyVersion,
      rows.map((r, i) => ({ key: r.key, value: values[i] })),
      em,
    );
  }

  /**
   * Plaintext of each row, in order. Rows may be under different key versions (mid-rotation). Many
   * values are decrypted on the worker threads, a few right here (a thread's round trip costs more).
   */
  async decrypt(projectId: string, rows: ReadonlyArray<StoredValue & { key: string }>, em?: EntityManager): Promise<string[]> {
    const versions = [...new Set(rows.map((r) => r.keyVersion))];
    const deks = new Map(
      await queriesOn(
        em,
        versions.map((v) => async () => [v, await this.keys.get(projectId, v, em)] as const),
      ),
    );
    try {
      if (rows.length >= OFFLOAD_MIN_VALUES && this.workers.enabled) {
        return await this.workers.decrypt(
          projectId,
          rows.map((r) => ({ key: r.key, ciphertext: r.ciphertext, dek: deks.get(r.keyVersion)! })),
        );
      }
      return rows.map((row) => decryptValue(deks.get(row.keyVersion)!, projectId, row.key, row.ciphertext));
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      const row = rows.find((r) => r.key === error.key);
      this.logger.error({ projectId, key: error.key, keyVersion: row?.keyVersion }, 'Stored secret failed authentication');
      throw new DataIntegrityError(error.message);
    }
  }
}

/**
 * Runs a read again when a key rotation destroyed the key version of a row it had just read: the
 * second read sees the re-encrypted rows. Reads keep working during a rotation.
 */
export async function readThroughRotation<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof KeyVersionDestroyedError) return read();
    throw error;
  }
}
