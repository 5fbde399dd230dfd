import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Secret values under a project DEK (DESIGN.md §4): AES-256-GCM, a fresh 12-byte IV per encryption, a
 * 16-byte tag, and AAD `secr:v1:<projectId>:<key>` binding the ciphertext to its project and key name.
 * The environment is not in the AAD, so promotion can copy ciphertext between environments.
 * Stored form: iv | ciphertext | tag. DEKs are KeyObjects: Node handles a KeyObject several times faster
 * than a raw key Buffer, which it converts on every cipher it creates (the pull path makes 50 per request).
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {
  readonly key: string;

  constructor(key: string) {
    super(`The stored value of '${key}' failed authentication: it was altered, moved, or encrypted under another key`);
    this.key = key;
    this.name = 'DecryptionError';
  }
}

export function valueAad(projectId: string, key: string): Buffer {
  return Buffer.from(`secr:v1:${projectId}:${key}`, 'utf8');
}

export function encryptValue(dek: KeyObject, projectId: string, key: string, plaintext: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dek, iv);
  cipher.setAAD(valueAad(projectId, key));
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

export function decryptValue(dek: KeyObject, projectId: string, key: string, stored: Buffer): string {
  if (stored.length < IV_BYTES + TAG_BYTES) throw new DecryptionError(key);
  try {
    const decipher = createDecipheriv('aes-256-gcm', dek, stored.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(valueAad(projectId, key));
    decipher.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
    const plaintext = decipher.update(stored.subarray(IV_BYTES, stored.length - TAG_BYTES));
    decipher.final(); // verifies the tag; GCM emits no further bytes
    return plaintext.toString('utf8');
  } catch {
    throw new DecryptionError(key);
  }
}
