import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { KeyProvider, KeyUnwrapError } from '../keys/key-provider.js';
import { KeyProviders } from '../keys/key-providers.js';

/** A signing secret as stored: wrapped by the KeyProvider, with the provider and master key that wrapped it. */
export interface SealedSecret {
  ciphertext: Buffer;
  provider: string;
  masterKey: string;
}

/** The stored signing secret of a webhook cannot be read: another master key, or tampered bytes. */
export class SigningSecretUnreadableError extends Error {
  constructor(webhookId: string) {
    super(`The signing secret of webhook ${webhookId} cannot be read with this server's master key`);
    this.name = 'SigningSecretUnreadableError';
  }
}

interface Cached {
  secret: Promise<string>;
  expiresAt: number;
}

/**
 * Webhook signing secrets at rest. A secret must be readable again to sign every delivery, so it is
 * encrypted, not hashed: wrapped by the KeyProvider (the local master key, or Cloud KMS) with the
 * webhook's id as additional authenticated data, so a ciphertext copied to another webhook does not
 * unwrap. A webhook's secret never changes, so an unwrapped one may stay in memory for
 * DEK_CACHE_TTL_SECONDS, like a project key.
 */
@Injectable()
export class WebhookSecrets {
  private readonly logger = new Logger(WebhookSecrets.name);
  private readonly cache = new Map<string, Cached>();
  private readonly ttlMs: number;

  constructor(
    private readonly provider: KeyProvider,
    private readonly providers: KeyProviders,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.ttlMs = config.kms.dekCacheTtlSeconds * 1000;
  }

  async seal(webhookId: string, secret: string): Promise<SealedSecret> {
    const ciphertext = await this.provider.wrap(Buffer.from(secret, 'utf8'), { webhookId });
    return { ciphertext, provider: this.provider.name, masterKey: this.provider.masterKeyId };
  }

  open(webhookId: string, sealed: SealedSecret): Promise<string> {
    const now = Date.now();
    const hit = this.cache.get(webhookId);
    if (hit && hit.expiresAt > now) return hit.secret;
    const secret = this.unwrap(webhookId, sealed);
    this.cache.set(webhookId, { secret, expiresAt: now + this.ttlMs });
    secret.catch(() => this.cache.delete(webhookId)); // a KMS outage is not cached
    if (this.cache.size > 10_000) for (const [id, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(id);
    return secret;
  }

  private async unwrap(webhookId: string, sealed: SealedSecret): Promise<string> {
    const provider = this.providers.find(sealed.provider, sealed.masterKey); // kms:rewrap moves it to the primary
    if (!provider) {
      this.logger.error(
        `The signing secret of webhook ${webhookId} was wrapped by ${sealed.provider}/${sealed.masterKey}, but this server uses ${this.provider.name}/${this.provider.masterKeyId}`,
      );
      throw new SigningSecretUnreadableError(webhookId);
    }
    try {
      return (await provider.unwrap(sealed.ciphertext, { webhookId })).toString('utf8');
    } catch (error) {
      if (error instanceof KeyUnwrapError) {
        this.logger.error(error.message);
        throw new SigningSecretUnreadableError(webhookId);
      }
      throw error;
    }
  }
}
