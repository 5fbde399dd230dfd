import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyProviderUnavailableError, KeyUnwrapError, type KeyProvider } from './key-provider.js';
import { KeyProviders } from './key-providers.js';

/** A failed check is run again by a readiness probe at most this often (the KMS may come back, IAM be fixed). */
const RECHECK_INTERVAL_MS = 15_000;

/**
 * The start-up check of the key providers (DESIGN.md §4): every configured provider wraps and unwraps a
 * throw-away key once (for a cloud KMS: the key exists, is enabled, and this server may Encrypt and
 * Decrypt with it), and the stored keys are all wrapped by a provider this server is configured with.
 * A failure is logged as an error naming the key, and /health/ready answers 503 until a re-check passes;
 * the server still starts, and answers 503 to what needs the key, never anything unencrypted.
 */
@Injectable()
export class KeyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(KeyCheck.name);
  private problems: string[] = [];
  private running?: Promise<void>;
  private lastRun = 0;

  constructor(
    private readonly providers: KeyProviders,
    private readonly db: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
  }

  /**
   * What keeps the key providers from being ready, for the public readiness probe: provider names and
   * counts, no key names (those are in the log). A failed check is started again in the background.
   */
  readiness(): string[] {
    if (this.problems.length && !this.running && Date.now() - this.lastRun > RECHECK_INTERVAL_MS) void this.run();
    return this.problems;
  }

  run(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private async check(): Promise<void> {
    this.lastRun = Date.now();
    const problems = (await Promise.all(this.providers.all.map((p) => this.roundTrip(p)))).filter((p): p is string => p !== undefined);
    problems.push(...(await this.unknownWrappers()));
    this.problems = problems;
    if (!problems.length) this.logger.log(`Key providers ready: ${this.providers.all.map((p) => `${p.name} (${p.masterKeyId})`).join(', ')}`);
  }

  private async roundTrip(provider: KeyProvider): Promise<string | undefined> {
    const probe = randomBytes(32);
    try {
      const wrapped = await provider.wrap(probe, { check: true });
      const unwrapped = await provider.unwrap(wrapped, { check: true });
      if (!unwrapped.equals(probe)) throw new KeyUnwrapError('the unwrapped key differs from the one wrapped');
      return undefined;
    } catch (error) {
      if (error instanceof KeyProviderUnavailableError && !error.refusal) {
        this.logger.error(
          `Key check: the key management service (${provider.name}) did not answer for ${provider.masterKeyId}; requests that need it answer 503`,
        );
        return `key provider ${provider.name}: unreachable`;
      }
      const reason = error instanceof KeyProviderUnavailableError ? error.refusal : (error as Error).message;
      this.logger.error(
        `Key check: the ${provider.name} key ${provider.masterKeyId} cannot be used (${reason}); check KMS_PROVIDER and its key setting, and the permissions of this server's identity`,
      );
      return `key provider ${provider.name}: the configured key was refused`;
    }
  }

  /** Stored keys wrapped by a provider or master key this server does not have: they cannot be read. */
  private async unknownWrappers(): Promise<string[]> {
    let rows: { provider: string; master_key: string; n: number }[];
    try {
      rows = await this.db.query(
        `SELECT provider, master_key, count(*)::int AS n FROM project_keys WHERE wrapped_key IS NOT NULL GROUP BY 1, 2
         UNION ALL SELECT secret_provider, secret_master_key, count(*)::int FROM webhooks GROUP BY 1, 2
         UNION ALL SELECT provider, master_key_id, count(*)::int FROM audit_signing_keys GROUP BY 1, 2`,
      );
    } catch (error) {
      this.logger.warn(`Key check: could not count the stored keys by provider (${(error as Error).message})`);
      return [];
    }
    const unknown = rows.filter((r) => !this.providers.find(r.provider, r.master_key));
    for (const r of unknown) {
      this.logger.error(
        `Key check: ${r.n} stored key(s) are wrapped by ${r.provider}/${r.master_key}, which this server is not configured with: they cannot be read`,
      );
    }
    const total = unknown.reduce((sum, r) => sum + r.n, 0);
    return total ? [`${total} stored key(s) are wrapped by a key provider this server is not configured with`] : [];
  }
}
