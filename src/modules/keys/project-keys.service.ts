import { Inject, Injectable, Logger } from '@nestjs/common';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { KeyProvider, KeyUnwrapError } from './key-provider.js';
import { KeyProviders } from './key-providers.js';

/** Stored data that fails its integrity check: tampering, or the wrong master key configured. */
export class DataIntegrityError extends DomainError {
  readonly status = 500;
  readonly code = 'internal_error';
}

/**
 * The version was destroyed by a key rotation between reading a row and loading its key: the row has
 * since been re-encrypted, so reading it again succeeds.
 */
export class KeyVersionDestroyedError extends DataIntegrityError {
  readonly detail: string;
  constructor(projectId: string, version: number) {
    super('A project key version has been destroyed');
    this.detail = `project ${projectId}, key v${version}`;
  }
}

interface CachedKey {
  dek: Promise<KeyObject>;
  expiresAt: number;
}

/**
 * Project data-encryption keys: created wrapped by the KeyProvider, unwrapped on demand and cached in
 * memory per (project, version) for DEK_CACHE_TTL_SECONDS. A (project, version) never changes its key
 * material, so the cache is safe across app instances; concurrent misses share one KMS call.
 */
@Injectable()
export class ProjectKeys {
  private readonly logger = new Logger(ProjectKeys.name);
  private readonly cache = new Map<string, CachedKey>();
  private readonly ttlMs: number;

  constructor(
    private readonly db: DataSource,
    private readonly provider: KeyProvider,
    private readonly providers: KeyProviders,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.ttlMs = config.kms.dekCacheTtlSeconds * 1000;
  }

  /**
   * Generates DEK `version` of a project and stores it wrapped, in the caller's transaction. The
   * plaintext DEK is returned for immediate use but not cached: the transaction may still roll back.
   */
  async create(em: EntityManager, projectId: string, version: number): Promise<KeyObject> {
    const material = randomBytes(32);
    const wrapped = await this.provider.wrap(material, { projectId, version });
    await em.query(`INSERT INTO project_keys (project_id, version, provider, master_key, wrapped_key) VALUES ($1, $2, $3, $4, $5)`, [
      projectId,
      version,
      this.provider.name,
      this.provider.masterKeyId,
      wrapped,
    ]);
    return toKeyObject(material);
  }

  /**
   * The plaintext DEK `version` of a project. A caller inside a transaction passes its EntityManager:
   * a cache miss then loads on the connection it already holds. Waiting for a second pool connection
   * while holding one starves the pool under load (every connection held by a writer that waits for
   * the key): the server hangs. The version must be committed already: what `em` reads is cached for
   * everyone, and a version created in a transaction that rolls back must never be.
   */
  get(projectId: string, version: number, em: EntityManager = this.db.manager): Promise<KeyObject> {
    const id = `${projectId}:${version}`;
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.expiresAt > now) return hit.dek;

    const dek = this.load(projectId, version, em);
    this.cache.set(id, { dek, expiresAt: now + this.ttlMs });
    dek.catch(() => this.cache.delete(id)); // a failure (KMS down) is not cached
    if (this.cache.size > 10_000) this.evictExpired(now);
    return dek;
  }

  /** How many versions older than `version` still have their key (an unfinished rotation when > 0). */
  async countLiveBelow(em: EntityManager, projectId: string, version: number): Promise<number> {
    const [row]: Array<{ live: number }> = await em.query(
      'SELECT count(*)::int AS live FROM project_keys WHERE project_id = $1 AND version < $2 AND wrapped_key IS NOT NULL',
      [projectId, version],
    );
    return row.live;
  }

  /** Destroys every version older than `version` that still has its key; returns them, ascending. */
  async destroyBelow(em: EntityManager, projectId: string, version: number): Promise<number[]> {
    const destroyed: Array<{ version: number }> = await em.query(
      `WITH destroyed AS (
         UPDATE project_keys SET wrapped_key = NULL, destroyed_at = now()
          WHERE project_id = $1 AND version < $2 AND wrapped_key IS NOT NULL
          RETURNING version)
       SELECT version FROM destroyed`,
      [projectId, version],
    );
    return destroyed.map((d) => d.version).sort((a, b) => a - b);
  }

  /** Drops a destroyed version from this instance's cache. */
  forget(projectId: string, version: number): void {
    this.cache.delete(`${projectId}:${version}`);
  }

  private async load(projectId: string, version: number, em: EntityManager): Promise<KeyObject> {
    const [row] = await em.query('SELECT wrapped_key, provider, master_key FROM project_keys WHERE project_id = $1 AND version = $2', [projectId, version]);
    if (!row) {
      this.logger.error(`Project key v${version} of project ${projectId} is missing`);
      throw new DataIntegrityError('A project key is missing');
    }
    if (!row.wrapped_key) throw new KeyVersionDestroyedError(projectId, version);
    // The provider that wrapped it: the primary, or one still configured beside it during a move (kms:rewrap).
    const provider = this.providers.find(row.provider, row.master_key);
    if (!provider) {
      this.logger.error(
        `Project key v${version} of ${projectId} was wrapped by ${row.provider}/${row.master_key}, but this server uses ${this.provider.name}/${this.provider.masterKeyId}`,
      );
      throw new DataIntegrityError('A project key cannot be unwrapped with the configured key provider');
    }
    try {
      return toKeyObject(await provider.unwrap(row.wrapped_key, { projectId, version }));
    } catch (error) {
      if (error instanceof KeyUnwrapError) {
        this.logger.error(error.message);
        throw new DataIntegrityError('A project key failed its integrity check');
      }
      throw error;
    }
  }

  private evictExpired(now: number): void {
    for (const [id, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(id);
  }
}

/** Key material lives on in the KeyObject only; the Buffer copy is wiped. */
function toKeyObject(material: Buffer): KeyObject {
  const key = createSecretKey(material);
  material.fill(0);
  return key;
}
