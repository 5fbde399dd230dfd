import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PreparedSql } from '../../database/prepared-sql.js';
import { StatementBatcher } from '../../database/statement-batcher.js';
import { environmentVersionSql } from '../changes/change-log.repository.js';

/** A stored value: ciphertext and the project-key version it is under. */
export interface StoredValue {
  keyVersion: number;
  ciphertext: Buffer;
}

export interface CurrentSecretRow extends StoredValue {
  key: string;
  description: string | null;
  version: number;
  /** ISO 8601, UTC, milliseconds. */
  updatedAt: string;
}

export interface HistoryRow extends StoredValue {
  version: number;
  description: string | null;
  source: string;
  createdAt: Date;
  /** The author's user id. */
  createdBy: string | null;
}

export interface NewVersion extends StoredValue {
  key: string;
  description: string | null;
}

/** A stored value under an old key version, to re-encrypt. */
export interface StaleValue extends StoredValue {
  secretId: string;
  version: number;
  key: string;
}

/** A key's row as the write pipeline sees it once the key is locked. */
export interface CurrentState extends StoredValue {
  key: string;
  version: number;
  deleted: boolean;
  description: string | null;
}

export interface WrittenSecret {
  key: string;
  version: number;
  created: boolean;
}

export interface Author {
  userId: string;
  tokenId: string | null;
}

export interface ListOptions {
  limit?: number;
  offset?: number;
  search?: string;
  /** Exact key names (comma-separated, as the query has them). */
  keys?: string;
}

/**
 * The timestamp as JavaScript's Date#toISOString writes it. Formatting it in SQL spares the pull path
 * parsing 50 dates into Date objects and serialising them back (the largest CPU cost of a pull).
 */
const ISO_UPDATED_AT = `to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at`;

/**
 * Sorted by key in byte order (COLLATE "C"): the same on every database, whatever its locale. Built
 * once per variant, not per request: with values (a pull) or without (the key list), and with the
 * `keys` filter or without. A pull without `?keys=` keeps a statement without the filter (a clause
 * `$5 IS NULL OR key = ANY($5)` would be planned and evaluated on every pull for nothing).
 */
function currentSecretsSql(withValues: boolean, withKeys: boolean): string {
  return `SELECT s.key, s.description, s.current_version, ${ISO_UPDATED_AT}
                 ${withValues ? ', v.key_version, v.ciphertext' : ''}
            FROM secrets s
                 ${withValues ? 'JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version' : ''}
           WHERE s.environment_id = $1 AND s.deleted_at IS NULL AND ($2::text IS NULL OR starts_with(s.key, $2))
                 ${withKeys ? 'AND s.key = ANY($5::text[])' : ''}
           ORDER BY s.key COLLATE "C"
           LIMIT $3 OFFSET $4`;
}

/**
 * A pull's statement: the environment's version (one row even when no secret matches) and, beside it,
 * the current secrets with their stored values, in one snapshot: the answer is exactly as new as the
 * version. One round trip instead of two on the hottest path.
 */
function pullSql(withKeys: boolean): string {
  return `SELECT ev.environment_version, c.*
            FROM (SELECT ${environmentVersionSql('$1')} AS environment_version) ev
            LEFT JOIN LATERAL (${currentSecretsSql(true, withKeys)}) c ON true
           ORDER BY c.key COLLATE "C"`;
}

const PULLS = { 'secrets-pull-versioned': pullSql(false), 'secrets-pull-keys-versioned': pullSql(true) } as const;

/** The prepared statements of readCurrent, by name. */
const CURRENT_SECRETS = {
  'secrets-pull': currentSecretsSql(true, false),
  'secrets-pull-keys': currentSecretsSql(true, true),
  'secrets-list': currentSecretsSql(false, false),
  'secrets-list-keys': currentSecretsSql(false, true),
} as const;

/**
 * The current secrets, with their stored values, of every environment in $1: the whole-environment
 * reads (no filter, no page) that arrive together, in one statement (readCurrent). By environment,
 * then by key in byte order, as currentSecretsSql sorts one environment.
 */
const WHOLE_ENVIRONMENTS = `SELECT s.environment_id, s.key, s.description, s.current_version, ${ISO_UPDATED_AT}, v.key_version, v.ciphertext
                              FROM secrets s
                              JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
                             WHERE s.environment_id = ANY($1::uuid[]) AND s.deleted_at IS NULL
                             ORDER BY s.environment_id, s.key COLLATE "C"`;

/**
 * Environments one WHOLE_ENVIRONMENTS statement reads, at most: bounds its rows (and so the time its
 * statement time-out covers). A batch asking for more runs several such statements at once.
 */
const WHOLE_ENVIRONMENTS_PER_STATEMENT = 16;

/** A read of readCurrent that WHOLE_ENVIRONMENTS answers: with values, no search, no named keys, no page. */
function isWholeEnvironment(options: ListOptions, withValues: boolean): boolean {
  return withValues && options.keys === undefined && !options.search && options.limit === undefined && !options.offset;
}

/** The parameters of currentSecretsSql ($5, the named keys, only in its `-keys` statements). */
function currentParams(environmentId: string, options: ListOptions): unknown[] {
  const params: unknown[] = [environmentId, options.search ?? null, options.limit ?? null, options.offset ?? 0];
  if (options.keys !== undefined) params.push(options.keys.split(','));
  return params;
}

function toCurrentRow(r: Record<string, unknown>): CurrentSecretRow {
  return {
    key: r.key as string,
    description: r.description as string | null,
    version: r.current_version as number,
    updatedAt: r.updated_at as string,
    keyVersion: r.key_version as number,
    ciphertext: r.ciphertext as Buffer,
  };
}

/**
 * SQL over `secrets` (one row per key and environment, pointing at its current version) and
 * `secret_versions` (every value ever written). Callers own the transaction.
 */
@Injectable()
export class SecretsRepository {
  /**
   * Whole-environment reads made while one is in flight go as one statement after it (StatementBatcher:
   * each call's rows are read by an execution that starts after the call), and an environment that
   * several of them ask for is read once. Under load that is one round trip, and one plan and scan,
   * for many pulls: most pulls are of whole environments, and deployments pull the same one at once.
   */
  private readonly wholeEnvironments = new StatementBatcher<string, CurrentSecretRow[]>(async (environmentIds) => {
    const distinct = [...new Set(environmentIds)];
    const byEnvironment = new Map<string, CurrentSecretRow[]>(distinct.map((id) => [id, []]));
    const statements = [];
    for (let i = 0; i < distinct.length; i += WHOLE_ENVIRONMENTS_PER_STATEMENT)
      statements.push(this.sql.query('secrets-pull-environments', WHOLE_ENVIRONMENTS, [distinct.slice(i, i + WHOLE_ENVIRONMENTS_PER_STATEMENT)]));
    for (const found of await Promise.all(statements)) for (const row of found) byEnvironment.get(row.environment_id as string)?.push(toCurrentRow(row));
    // Each call gets its own array (callers may reorder or extend theirs); the rows themselves are shared.
    return environmentIds.map((id) => [...byEnvironment.get(id)!]);
  });

  constructor(private readonly sql: PreparedSql) {}

  /** The current secrets of an environment, with their stored values (a pull) or without (the key list). */
  async readCurrent(environmentId: string, options: ListOptions, withValues: boolean): Promise<CurrentSecretRow[]> {
    if (isWholeEnvironment(options, withValues)) return this.wholeEnvironments.run(environmentId);
    const name = `${withValues ? 'secrets-pull' : 'secrets-list'}${options.keys === undefined ? '' : '-keys'}` as const;
    return (await this.sql.query(name, CURRENT_SECRETS[name], currentParams(environmentId, options))).map(toCurrentRow);
  }

  /** A pull's rows (as readCurrent with values) and the environment's version they are exactly as new as. */
  async readPull(environmentId: string, options: ListOptions): Promise<{ rows: CurrentSecretRow[]; environmentVersion: string }> {
    const name = options.keys === undefined ? 'secrets-pull-versioned' : 'secrets-pull-keys-versioned';
    const result = await this.sql.query(name, PULLS[name], currentParams(environmentId, options));
    // No secret matched: the one row holds the version only.
    const rows = result[0].key === null ? [] : result.map(toCurrentRow);
    return { rows, environmentVersion: result[0].environment_version as string };
  }

  async countCurrent(em: EntityManager, environmentId: string, search?: string, keys?: string[]): Promise<number> {
    const [row] = await em.query(
      `SELECT count(*)::int AS n FROM secrets
        WHERE environment_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR starts_with(key, $2))
              AND ($3::text[] IS NULL OR key = ANY($3::text[]))`,
      [environmentId, search ?? null, keys ?? null],
    );
    return row.n;
  }

  /**
   * Transaction-scoped advisory locks on (environment, key), taken by the write pipeline (SecretWriter)
   * before writeVersions, lockVersion or softDelete touch the rows, all at once and in one global
   * order (by lock id): concurrent writers of overlapping keys queue instead of deadlocking. Row locks
   * alone cannot give that order: a key that does not exist yet has no row to lock, so a writer locked
   * the existing keys first and met the new ones later, out of order (PostgreSQL 40P01 under load).
   * The planner evaluates the volatile lock function after the sort (EXPLAIN VERBOSE shows it above it).
   */
  async lockKeys(em: EntityManager, environmentId: string, keys: string[]): Promise<void> {
    await em.query(
      `SELECT pg_advisory_xact_lock(id)
         FROM (SELECT DISTINCT hashtextextended($1::text || '/' || k, 0) AS id FROM unnest($2::text[]) AS k) ids
        ORDER BY id`,
      [environmentId, keys],
    );
  }

  /**
   * The project's reference lock (transaction-scoped advisory lock), taken by a write whose values hold a
   * reference before it checks the references it would store (ReferenceResolver.assertWritable): two such
   * writes in one project, whatever their environments and keys, check one after the other, so the second
   * sees what the first committed and cannot close a cycle (or deepen a chain) with it. Taken after
   * every other lock of the write pipeline (SecretWriter's order), so it adds no deadlock.
   */
  async lockReferenceGraph(em: EntityManager, projectId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('references/' || $1::text, 0))`, [projectId]);
  }

  /**
   * Writes a new version of each key (version 1 for new keys), in one statement per table. The caller
   * (SecretWriter) has locked the keys (lockKeys), so concurrent writers of the same keys queue instead of deadlocking,
   * and each gets the next version number: no gap, no duplicate, no lost update.
   */
  async writeVersions(
    em: EntityManager,
    target: { projectId: string; environmentId: string },
    values: NewVersion[],
    source: string,
    author: Author,
    /** A null description keeps the current one (set, import); `exact`: it is written as is (rollback). */
    descriptions: 'keep-when-null' | 'exact' = 'keep-when-null',
  ): Promise<WrittenSecret[]> {
    const sorted = [...values].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const keys = sorted.map((v) => v.key);
    const existing: Array<{ key: string; deleted: boolean }> = await em.query(
      `SELECT key, deleted_at IS NOT NULL AS deleted FROM secrets
        WHERE environment_id = $1 AND key = ANY($2::text[]) ORDER BY key FOR UPDATE`,
      [target.environmentId, keys],
    );
    const revived = new Set(existing.filter((r) => r.deleted).map((r) => r.key));

    const upserted: Array<{ id: string; key: string; current_version: number; inserted: boolean }> = await em.query(
      `INSERT INTO secrets (project_id, environment_id, key, current_version, description)
       SELECT $1, $2, k, 1, d FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(k, d, i) ORDER BY i
       ON CONFLICT (environment_id, key) DO UPDATE SET
         current_version = secrets.current_version + 1,
         description     = CASE WHEN $5::boolean THEN EXCLUDED.description ELSE COALESCE(EXCLUDED.description, secrets.description) END,
         updated_at      = now(),
         deleted_at      = NULL
       RETURNING id, key, current_version, (xmax = 0) AS inserted`,
      [target.projectId, target.environmentId, keys, sorted.map((v) => v.description), descriptions === 'exact'],
    );
    const byKey = new Map(upserted.map((r) => [r.key, r]));

    await em.query(
      `INSERT INTO secret_versions
         (secret_id, version, project_id, key_version, ciphertext, description, source, created_by, created_by_token)
       SELECT u.id, u.version, $1, u.key_version, u.ciphertext, s.description, $2, $3, $4
         FROM unnest($5::uuid[], $6::int[], $7::int[], $8::bytea[]) AS u(id, version, key_version, ciphertext)
         JOIN secrets s ON s.id = u.id`,
      [
        target.projectId,
        source,
        author.userId,
        author.tokenId,
        sorted.map((v) => byKey.get(v.key)!.id),
        sorted.map((v) => byKey.get(v.key)!.current_version),
        sorted.map((v) => v.keyVersion),
        sorted.map((v) => v.ciphertext),
      ],
    );
    return sorted.map((v) => {
      const row = byKey.get(v.key)!;
      return { key: v.key, version: row.current_version, created: row.inserted || revived.has(v.key) };
    });
  }

  async history(em: EntityManager, environmentId: string, key: string): Promise<{ deleted: boolean; versions: HistoryRow[] } | null> {
    const rows: Array<Record<string, unknown>> = await em.query(
      `SELECT s.deleted_at IS NOT NULL AS deleted, v.version, v.key_version, v.ciphertext, v.description, v.source,
              v.created_at, v.created_by
         FROM secrets s
         JOIN secret_versions v ON v.secret_id = s.id
        WHERE s.environment_id = $1 AND s.key = $2
        ORDER BY v.version DESC`,
      [environmentId, key],
    );
    if (!rows.length) return null;
    return {
      deleted: rows[0].deleted as boolean,
      versions: rows.map((r) => ({
        version: r.version as number,
        keyVersion: r.key_version as number,
        ciphertext: r.ciphertext as Buffer,
        description: r.description as string | null,
        source: r.source as string,
        createdAt: r.created_at as Date,
        createdBy: r.created_by as string | null,
      })),
    };
  }

  /** One version of a key (locked by the caller), with the row lock on the key held until the transaction ends. */
  async lockVersion(
    em: EntityManager,
    environmentId: string,
    key: string,
    version: number,
  ): Promise<(StoredValue & { description: string | null }) | null | 'no-key'> {
    const [secret] = await em.query(`SELECT id FROM secrets WHERE environment_id = $1 AND key = $2 FOR UPDATE`, [environmentId, key]);
    if (!secret) return 'no-key';
    const [row] = await em.query('SELECT key_version, ciphertext, description FROM secret_versions WHERE secret_id = $1 AND version = $2', [
      secret.id,
      version,
    ]);
    return row ? { keyVersion: row.key_version, ciphertext: row.ciphertext, description: row.description } : null;
  }

  /** The current stored value of each set key (all, or those named), for copying without decrypting. */
  async currentStored(em: EntityManager, environmentId: string, keys?: string[]): Promise<Array<NewVersion>> {
    const rows: Array<{ key: string; description: string | null; key_version: number; ciphertext: Buffer }> = await em.query(
      `SELECT s.key, s.description, v.key_version, v.ciphertext
         FROM secrets s JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
        WHERE s.environment_id = $1 AND s.deleted_at IS NULL AND ($2::text[] IS NULL OR s.key = ANY($2::text[]))
        ORDER BY s.key COLLATE "C"`,
      [environmentId, keys ?? null],
    );
    return rows.map((r) => ({ key: r.key, description: r.description, keyVersion: r.key_version, ciphertext: r.ciphertext }));
  }

  /**
   * The current state of each of `keys` that has a row (set or soft-deleted): version, description,
   * stored value. For the write pipeline's preconditions, with the keys locked.
   */
  async currentOf(em: EntityManager, environmentId: string, keys: string[]): Promise<Map<string, CurrentState>> {
    const rows: Array<{
      key: string;
      current_version: number;
      deleted: boolean;
      description: string | null;
      key_version: number;
      ciphertext: Buffer;
    }> = await em.query(
      `SELECT s.key, s.current_version, s.deleted_at IS NOT NULL AS deleted, s.description, v.key_version, v.ciphertext
           FROM secrets s JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
          WHERE s.environment_id = $1 AND s.key = ANY($2::text[])`,
      [environmentId, keys],
    );
    return new Map(
      rows.map((r) => [
        r.key,
        {
          key: r.key,
          version: r.current_version,
          deleted: r.deleted,
          description: r.description,
          keyVersion: r.key_version,
          ciphertext: r.ciphertext,
        },
      ]),
    );
  }

  /**
   * The environment as it was at `at`: each key that was set then, with the version current then and
   * its stored value. A key counts as set at `at` when it had a version by then and was not deleted
   * after that version and by then.
   */
  async stateAt(em: EntityManager, environmentId: string, at: Date, keys?: string[]): Promise<Array<NewVersion & { version: number }>> {
    const rows: Array<{ key: string; version: number; description: string | null; key_version: number; ciphertext: Buffer }> = await em.query(
      `SELECT s.key, v.version, v.description, v.key_version, v.ciphertext
         FROM secrets s
         JOIN LATERAL (SELECT * FROM secret_versions sv WHERE sv.secret_id = s.id AND sv.created_at <= $2
                        ORDER BY sv.version DESC LIMIT 1) v ON true
        WHERE s.environment_id = $1 AND ($3::text[] IS NULL OR s.key = ANY($3::text[]))
          AND NOT EXISTS (SELECT 1 FROM secret_deletions d
                           WHERE d.secret_id = s.id AND d.deleted_at <= $2 AND d.deleted_at >= v.created_at)
        ORDER BY s.key COLLATE "C"`,
      [environmentId, at, keys ?? null],
    );
    return rows.map((r) => ({ key: r.key, version: r.version, description: r.description, keyVersion: r.key_version, ciphertext: r.ciphertext }));
  }

  /** Which of `keys` (all when undefined) are set (not deleted) in the environment. */
  async setKeys(em: EntityManager, environmentId: string, keys: string[] | undefined): Promise<Set<string>> {
    const rows: Array<{ key: string }> = await em.query(
      'SELECT key FROM secrets WHERE environment_id = $1 AND deleted_at IS NULL AND ($2::text[] IS NULL OR key = ANY($2::text[]))',
      [environmentId, keys ?? null],
    );
    return new Set(rows.map((r) => r.key));
  }

  /** Soft-deletes the keys that are set (locked by the caller); returns those it deleted. */
  async softDelete(em: EntityManager, environmentId: string, keys: string[]): Promise<string[]> {
    // Wrapped in a CTE: TypeORM returns [rows, count] for a bare UPDATE … RETURNING.
    const rows: Array<{ key: string }> = await em.query(
      `WITH deleted AS (
         UPDATE secrets SET deleted_at = now(), updated_at = now()
          WHERE environment_id = $1 AND key = ANY($2::text[]) AND deleted_at IS NULL
          RETURNING id, key),
       logged AS (INSERT INTO secret_deletions (secret_id) SELECT id FROM deleted)
       SELECT key FROM deleted`,
      [environmentId, keys],
    );
    return rows.map((r) => r.key);
  }

  /** How many keys are set (not deleted) in the environment: what secretsPerEnvironment counts. */
  async countSet(em: EntityManager, environmentId: string): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query('SELECT count(*)::int AS n FROM secrets WHERE environment_id = $1 AND deleted_at IS NULL', [
      environmentId,
    ]);
    return row.n;
  }

  /** How many keys are set in each of the environments (those with none are absent). */
  async countSetByEnvironment(environmentIds: string[]): Promise<Map<string, number>> {
    const rows: Array<{ environment_id: string; n: number }> = await this.sql.query(
      'secrets-count-by-environment',
      `SELECT environment_id, count(*)::int AS n FROM secrets
        WHERE environment_id = ANY($1::uuid[]) AND deleted_at IS NULL GROUP BY environment_id`,
      [environmentIds],
    );
    return new Map(rows.map((r) => [r.environment_id, r.n]));
  }

  /** How many keys are set in each of the projects (those with none are absent). */
  async countSetByProject(em: EntityManager, projectIds: string[]): Promise<Map<string, number>> {
    const rows: Array<{ project_id: string; n: number }> = await em.query(
      'SELECT project_id, count(*)::int AS n FROM secrets WHERE project_id = ANY($1::uuid[]) AND deleted_at IS NULL GROUP BY project_id',
      [projectIds],
    );
    return new Map(rows.map((r) => [r.project_id, r.n]));
  }

  /** How many keys are set, in every environment of every project. */
  async countAllSet(em: EntityManager): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query('SELECT count(*)::int AS n FROM secrets WHERE deleted_at IS NULL');
    return row.n;
  }

  /** Every key set in the environment, in byte order. */
  async keysOf(environmentId: string): Promise<string[]> {
    const rows: Array<{ key: string }> = await this.sql.query(
      'secrets-keys-of',
      'SELECT key FROM secrets WHERE environment_id = $1 AND deleted_at IS NULL ORDER BY key COLLATE "C"',
      [environmentId],
    );
    return rows.map((r) => r.key);
  }

  /**
   * A batch of a project's stored values under a key version older than `keyVersion` (a rotation),
   * current and history, row-locked (SKIP LOCKED: concurrent rotations share the work).
   */
  async lockStale(em: EntityManager, projectId: string, keyVersion: number, limit: number): Promise<StaleValue[]> {
    const rows: Array<{ secret_id: string; version: number; key_version: number; ciphertext: Buffer; key: string }> = await em.query(
      `SELECT v.secret_id, v.version, v.key_version, v.ciphertext, s.key
         FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
        WHERE v.project_id = $1 AND v.key_version < $2
        LIMIT $3
          FOR UPDATE OF v SKIP LOCKED`,
      [projectId, keyVersion, limit],
    );
    return rows.map((r) => ({ secretId: r.secret_id, version: r.version, key: r.key, keyVersion: r.key_version, ciphertext: r.ciphertext }));
  }

  /** Stores re-encrypted values (`ciphertexts[i]` is `rows[i]`'s) under `keyVersion`. */
  async replaceCiphertexts(em: EntityManager, keyVersion: number, rows: readonly StaleValue[], ciphertexts: readonly Buffer[]): Promise<void> {
    await em.query(
      `UPDATE secret_versions v SET ciphertext = u.ciphertext, key_version = $1
         FROM unnest($2::uuid[], $3::int[], $4::bytea[]) AS u(secret_id, version, ciphertext)
        WHERE v.secret_id = u.secret_id AND v.version = u.version`,
      [keyVersion, rows.map((r) => r.secretId), rows.map((r) => r.version), ciphertexts],
    );
  }

  /** How many of a project's stored values are still under a key version older than `keyVersion`. */
  async countStale(em: EntityManager, projectId: string, keyVersion: number): Promise<number> {
    const [row]: Array<{ remaining: number }> = await em.query(
      'SELECT count(*)::int AS remaining FROM secret_versions WHERE project_id = $1 AND key_version < $2',
      [projectId, keyVersion],
    );
    return row.remaining;
  }

  // ── org deletion (OrgPurge): one bounded statement each, so no transaction or lock grows with the data ──

  /** Deletes up to `limit` stored versions of the project's secrets; returns how many. */
  async purgeVersions(projectId: string, limit: number): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      'purge-secret-versions',
      `WITH doomed AS (SELECT secret_id, version FROM secret_versions WHERE project_id = $1 LIMIT $2),
            gone AS (DELETE FROM secret_versions v USING doomed WHERE v.secret_id = doomed.secret_id AND v.version = doomed.version RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [projectId, limit],
    );
    return row.n;
  }

  /** Deletes up to `limit` of the project's secrets (their deletion records go with them); returns how many. */
  async purgeSecrets(projectId: string, limit: number): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      'purge-secrets',
      `WITH doomed AS (SELECT id FROM secrets WHERE project_id = $1 LIMIT $2),
            gone AS (DELETE FROM secrets s USING doomed WHERE s.id = doomed.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [projectId, limit],
    );
    return row.n;
  }
}
