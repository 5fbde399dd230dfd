import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PreparedSql } from '../../database/prepared-sql.js';

/** The PostgreSQL channel every instance listens on (one connection each: ChangeFeed). */
export const CHANGES_CHANNEL = 'secr_secret_changes';

export type ChangeType = 'set' | 'import' | 'rollback' | 'promotion' | 'restore' | 'delete';

/** One key a change touched: its new version, or null when it was deleted. */
export interface KeyChange {
  key: string;
  version: number | null;
}

/** A committed change to an environment's secrets, as the change stream sends it. Names and versions, never values. */
export interface SecretChangeEvent {
  seq: string;
  environmentId: string;
  type: ChangeType;
  changes: KeyChange[];
  /** ISO 8601, UTC. */
  at: string;
}

interface ChangeRow {
  seq: string;
  environment_id: string;
  type: ChangeType;
  changes: KeyChange[];
  at: string;
}

const COLUMNS = `seq::text AS seq, environment_id, type, changes,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`;

const toEvent = (r: ChangeRow): SecretChangeEvent => ({ seq: r.seq, environmentId: r.environment_id, type: r.type, changes: r.changes, at: r.at });

/**
 * SQL over `secret_changes`: the durable, per-environment log of committed secret writes that the
 * change stream replays to a reconnecting watcher and announces (NOTIFY) to every instance.
 */
/**
 * The environment's version as SQL (text): the position of its latest logged change, or the horizon its
 * pruned log reached. Exported for the pull's own statement (SecretsRepository.readPull), which reads it
 * with the rows in one snapshot and one round trip; the text stays here, with the table's other SQL.
 */
export function environmentVersionSql(environmentIdParam: string): string {
  return `GREATEST(
         (SELECT max(seq) FROM secret_changes WHERE environment_id = ${environmentIdParam}),
         (SELECT pruned_through FROM secret_change_horizons WHERE environment_id = ${environmentIdParam}), 0)::text`;
}

@Injectable()
export class ChangeLogRepository {
  constructor(private readonly sql: PreparedSql) {}

  /**
   * Called by SecretWriter in the write's transaction, once the change is made: logs it and notifies
   * every instance (PostgreSQL delivers a NOTIFY only if, and when, the transaction commits, in commit
   * order). The per-environment lock, held until the commit, makes `seq` follow commit order within an
   * environment, so a watcher that has seen seq n has seen every change of that environment before n.
   * Returns the change's position: the environment's version once it commits.
   */
  async record(em: EntityManager, environmentId: string, type: ChangeType, changes: KeyChange[]): Promise<string> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('secret_changes/' || $1::text, 0))`, [environmentId]);
    // The whole change rides in the notification when it fits (NOTIFY payloads are < 8000 bytes):
    // listeners then need no read. A bigger one (a bulk write of many keys) carries only its seq.
    const [row]: Array<{ seq: string }> = await em.query(
      `WITH logged AS (
         INSERT INTO secret_changes (environment_id, type, changes) VALUES ($1, $2, $3::jsonb) RETURNING ${COLUMNS}),
       note AS (SELECT seq, json_build_object('seq', seq, 'environmentId', environment_id, 'type', type, 'changes', changes, 'at', at)::text AS whole,
                       json_build_object('seq', seq, 'environmentId', environment_id)::text AS brief FROM logged)
       SELECT seq, pg_notify($4, CASE WHEN octet_length(whole) < 7900 THEN whole ELSE brief END) FROM note`,
      [environmentId, type, JSON.stringify(changes), CHANGES_CHANNEL],
    );
    return row.seq;
  }

  /**
   * The environment's version: the position of its latest change (or the highest pruned from its log,
   * when that is all there is; 0: never written). Read with `em` inside a write, or on the pool.
   */
  async environmentVersion(environmentId: string, em?: EntityManager): Promise<string> {
    const text = `SELECT ${environmentVersionSql('$1')} AS v`;
    const [row] = em ? await em.query(text, [environmentId]) : await this.sql.query<{ v: string }>('secret-changes-version', text, [environmentId]);
    return row.v;
  }

  /**
   * Which of `keys` a change after position `since` wrote or deleted, in a write's transaction (the keys
   * locked). 'unknown' when changes after `since` were pruned from the log: which keys they touched is
   * no longer known.
   */
  async keysChangedSince(em: EntityManager, environmentId: string, since: string, keys: readonly string[]): Promise<string[] | 'unknown'> {
    const rows: Array<{ key: string | null; pruned: boolean }> = await em.query(
      `SELECT NULL AS key, true AS pruned FROM secret_change_horizons WHERE environment_id = $1 AND pruned_through > $2::bigint
       UNION ALL
       SELECT DISTINCT k.key, false FROM secret_changes c, jsonb_to_recordset(c.changes) AS k(key text)
        WHERE c.environment_id = $1 AND c.seq > $2::bigint AND k.key = ANY($3::text[])`,
      [environmentId, since, keys],
    );
    if (rows.some((r) => r.pruned)) return 'unknown';
    return rows.map((r) => r.key!).sort();
  }

  /**
   * The changes of an environment after `afterSeq`, oldest first, at most `limit`, and its horizon (the
   * highest position pruned from its log, '0': none) read in the same statement, so that a pass pruning
   * meanwhile cannot make a replay look complete: when `afterSeq` is below `floor`, changes were lost.
   */
  async since(environmentId: string, afterSeq: string, limit: number): Promise<{ floor: string; changes: SecretChangeEvent[] }> {
    const rows = await this.sql.query<ChangeRow & { floor: string }>(
      'secret-changes-since',
      `WITH h AS (SELECT COALESCE((SELECT pruned_through FROM secret_change_horizons WHERE environment_id = $1), 0)::text AS floor)
       SELECT h.floor, c.* FROM h LEFT JOIN LATERAL (
         SELECT ${COLUMNS} FROM secret_changes WHERE environment_id = $1 AND seq > $2::bigint ORDER BY secret_changes.seq LIMIT $3) c ON true`,
      [environmentId, afterSeq, limit],
    );
    return { floor: rows[0].floor, changes: rows.filter((r) => r.seq !== null).map(toEvent) };
  }

  /** The changes with these sequence numbers (announced by NOTIFY), oldest first. */
  async bySeq(seqs: string[]): Promise<SecretChangeEvent[]> {
    const rows = await this.sql.query<ChangeRow>(
      'secret-changes-by-seq',
      `SELECT ${COLUMNS} FROM secret_changes WHERE seq = ANY($1::bigint[]) ORDER BY secret_changes.seq`,
      [seqs],
    );
    return rows.map(toEvent);
  }

  /**
   * Where an environment's log stands: `environment`, its version (its latest change, or the highest
   * position pruned from its log when that is all there is; '0': never written); `all`, the highest
   * position issued that this database still knows of.
   */
  async head(environmentId: string): Promise<{ environment: string; all: string }> {
    const [row] = await this.sql.query<{ environment: string; all: string }>(
      'secret-changes-head',
      `SELECT GREATEST((SELECT max(seq) FROM secret_changes WHERE environment_id = $1),
                       (SELECT pruned_through FROM secret_change_horizons WHERE environment_id = $1), 0)::text AS environment,
              GREATEST((SELECT max(seq) FROM secret_changes), (SELECT max(pruned_through) FROM secret_change_horizons), 0)::text AS "all"`,
      [environmentId],
    );
    return row;
  }

  /** Org deletion: deletes up to `limit` logged changes of the environments; returns how many. */
  async purge(environmentIds: string[], limit: number): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      'purge-secret-changes',
      `WITH doomed AS (SELECT seq FROM secret_changes WHERE environment_id = ANY($1::uuid[]) LIMIT $2),
            gone AS (DELETE FROM secret_changes c USING doomed WHERE c.seq = doomed.seq RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [environmentIds, limit],
    );
    return row.n;
  }

  /**
   * Deletes, oldest first, at most `batch` logged changes made before `before`; each environment's
   * horizon moves to the highest position deleted from its log. Returns how many were deleted.
   */
  async pruneOlderThan(before: Date, batch: number): Promise<number> {
    return this.prune(
      'secret-changes-prune-age',
      `SELECT seq FROM secret_changes WHERE created_at < $1 ORDER BY created_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [before, batch],
    );
  }

  /** The environments whose logs hold more than `keep` changes. */
  async environmentsOver(keep: number): Promise<string[]> {
    const rows = await this.sql.query<{ environment_id: string }>(
      'secret-changes-over',
      'SELECT environment_id FROM secret_changes GROUP BY environment_id HAVING count(*) > $1',
      [keep],
    );
    return rows.map((r) => r.environment_id);
  }

  /** Deletes at most `batch` of the environment's logged changes older than its latest `keep`; returns how many. */
  async pruneBeyond(environmentId: string, keep: number, batch: number): Promise<number> {
    return this.prune(
      'secret-changes-prune-count',
      `SELECT seq FROM secret_changes
        WHERE environment_id = $1
          AND seq <= (SELECT seq FROM secret_changes WHERE environment_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)
        ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [environmentId, keep, batch],
    );
  }

  /** One pruning statement: deletes the rows `doomed` selects and raises their environments' horizons. */
  private async prune(name: string, doomed: string, values: unknown[]): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      name,
      `WITH doomed AS (${doomed}),
       gone AS (DELETE FROM secret_changes c USING doomed d WHERE c.seq = d.seq RETURNING c.environment_id, c.seq),
       raised AS (
         INSERT INTO secret_change_horizons (environment_id, pruned_through)
         SELECT environment_id, max(seq) FROM gone GROUP BY environment_id
         ON CONFLICT (environment_id) DO UPDATE
           SET pruned_through = GREATEST(secret_change_horizons.pruned_through, EXCLUDED.pruned_through))
       SELECT count(*)::int AS n FROM gone`,
      values,
    );
    return row.n;
  }
}
