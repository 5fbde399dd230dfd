import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { decryptValue, DecryptionError, encryptValue } from '../keys/envelope.js';
import { DataIntegrityError, KeyVersionDestroyedError, ProjectKeys } from '../keys/project-keys.service.js';
import type { StoredValue } from './secrets.repository.js';

/** Encrypts and decrypts secret values of a project with its DEKs (DESIGN.md §4). */
@Injectable()
export class SecretCipher {
  private readonly logger = new Logger(SecretCipher.name);

  constructor(private readonly keys: ProjectKeys) {}

  /** `em`: the caller's transaction, if any (see ProjectKeys.get). */
  async encrypt(projectId: string, keyVersion: number, entries: ReadonlyArray<{ key: string; value: string }>, em?: EntityManager): Promise<Buffer[]> {
    const dek = await this.keys.get(projectId, keyVersion, em);
    return entries.map((e) => encryptValue(dek, projectId, e.key, e.value));
  }

  /** Plaintext of each row, in order. Rows may be under different key versions (mid-rotation). */
  async decrypt(projectId: string, rows: ReadonlyArray<StoredValue & { key: string }>): Promise<string[]> {
    const versions = [...new Set(rows.map((r) => r.keyVersion))];
    const deks = new Map(await Promise.all(versions.map(async (v) => [v, await this.keys.get(projectId, v)] as const)));
    return rows.map((row) => {
      try {
        return decryptValue(deks.get(row.keyVersion)!, projectId, row.key, row.ciphertext);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        this.logger.error({ projectId, key: row.key, keyVersion: row.keyVersion }, 'Stored secret failed authentication');
        throw new DataIntegrityError(error.message);
      }
    });
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
