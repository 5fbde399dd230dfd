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
@Injectable()
export class ChangeLogRepository {
  constructor(private readonly sql: PreparedSql) {}

  /**
   * Called by SecretWriter last in the write's transaction: logs the change and notifies every
   * instance (PostgreSQL delivers a NOTIFY only if, and when, the transaction commits, in commit
   * order). The per-environment lock, held until the commit, makes `seq` follow commit order within an
   * environment, so a watcher that has seen seq n has seen every change of that environment before n.
   */
  async record(em: EntityManager, environmentId: string, type: ChangeType, changes: KeyChange[]): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('secret_changes/' || $1::text, 0))`, [environmentId]);
    // The whole change rides in the notification when it fits (NOTIFY payloads are < 8000 bytes):
    // listeners then need no read. A bigger one (a bulk write of many keys) carries only its seq.
    await em.query(
      `WITH logged AS (
         INSERT INTO secret_changes (environment_id, type, changes) VALUES ($1, $2, $3::jsonb) RETURNING ${COLUMNS}),
       note AS (SELECT json_build_object('seq', seq, 'environmentId', environment_id, 'type', type, 'changes', changes, 'at', at)::text AS whole,
                       json_build_object('seq', seq, 'environmentId', environment_id)::text AS brief FROM logged)
       SELECT pg_notify($4, CASE WHEN octet_length(whole) < 7900 THEN whole ELSE brief END) FROM note`,
      [environmentId, type, JSON.stringify(changes), CHANGES_CHANNEL],
    );
  }

  /** The changes of an environment after `afterSeq`, oldest first, at most `limit`. */
  async since(environmentId: string, afterSeq: string, limit: number): Promise<SecretChangeEvent[]> {
    const rows = await this.sql.query<ChangeRow>(
      'secret-changes-since',
      `SELECT ${COLUMNS} FROM secret_changes WHERE environment_id = $1 AND seq > $2::bigint ORDER BY secret_changes.seq LIMIT $3`,
      [environmentId, afterSeq, limit],
    );
    return rows.map(toEvent);
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

  /** The sequence number of the environment's latest change ('0': none yet), and the highest one of all. */
  async head(environmentId: string): Promise<{ environment: string; all: string }> {
    const [row] = await this.sql.query<{ environment: string; all: string }>(
      'secret-changes-head',
      `SELECT COALESCE((SELECT max(seq) FROM secret_changes WHERE environment_id = $1), 0)::text AS environment,
              COALESCE((SELECT max(seq) FROM secret_changes), 0)::text AS "all"`,
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
}
