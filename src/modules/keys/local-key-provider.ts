import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { describeKeyContext, KeyContext, keyContextAad, KeyProvider, KeyUnwrapError } from './key-provider.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM key wrapping with a 32-byte master key from SECR_MASTER_KEY (or, in embedded development
 * mode only, `.secr-data/master.key`). Wrapped form: iv | ciphertext | tag; AAD binds it to its project
 * and DEK version.
 */
export class LocalKeyProvider extends KeyProvider {
  readonly name = 'local';
  readonly masterKeyId: string;
  private readonly masterKey: Buffer;

  constructor(masterKeyBase64: string) {
    super();
    this.masterKey = Buffer.from(masterKeyBase64, 'base64');
    if (this.masterKey.length !== 32) throw new Error('The local master key must be 32 bytes');
    this.masterKeyId = `local:${createHash('sha256').update(this.masterKey).digest('hex').slice(0, 16)}`;
  }

  async wrap(dek: Buffer, context: KeyContext): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    cipher.setAAD(keyContextAad(context));
    return Buffer.concat([iv, cipher.update(dek), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrap(wrapped: Buffer, context: KeyContext): Promise<Buffer> {
    try {
      if (wrapped.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(keyContextAad(context));
      decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
      return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KeyUnwrapError(`${describeKeyContext(context)} does not unwrap with ${this.masterKeyId}`);
    }
  }
}
