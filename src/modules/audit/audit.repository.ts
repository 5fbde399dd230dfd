import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PreparedSql } from '../../database/prepared-sql.js';
import type { AuditFilterDto } from './audit.dto.js';

/** An audit row as stored, with its place in the org's chain. */
export interface AuditRow {
  id: string;
  seq: string;
  created_at: Date;
  action: string;
  actor_user_id: string | null;
  actor_token_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  metadata: Record<string, unknown>;
}

/** A row as the verifier reads it: its position, stored hash and canonical content (what the hash covers). */
export interface ChainLink {
  id: string;
  seq: string;
  hash: Buffer;
  content: string;
  created_at: Date;
}

export interface CheckpointRow {
  seq: string;
  hash: Buffer;
  kind: 'periodic' | 'retention';
  key_id: number;
  mac: Buffer;
}

export interface SigningKeyRow {
  id: number;
  provider: string;
  master_key_id: string;
  wrapped: Buffer;
}

/** The values of an audit row to insert, in the column order of the INSERTs below. */
export type AuditValues = readonly [
  action: string,
  orgId: string | null,
  actorUserId: string | null,
  actorTokenId: string | null,
  ip: string | null,
  userAgent: string | null,
  requestId: string | null,
  metadataJson: string,
];

const COLUMN_LIST = 'action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata';
const INSERT_ONE = `INSERT INTO audit_events (${COLUMN_LIST}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
/**
 * One group-committed INSERT, linked in the same call (migration 1764920000000): rows in org order (byOrg),
 * so two batches (two instances) take the orgs' chain heads in the same order and never wait on each other
 * in a cycle; each org's head is locked and written back once per batch.
 */
const INSERT_MANY = `SELECT audit_insert_linked($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`;

const COLUMNS = COLUMN_LIST.split(', ');

/** Org ids as PostgreSQL orders uuids (lowercase hex text sorts as the bytes do), rows without one first. */
function byOrg(a: AuditValues, b: AuditValues): number {
  if (a[1] === b[1]) return 0;
  if (a[1] === null) return -1;
  if (b[1] === null) return 1;
  return a[1].toLowerCase() < b[1].toLowerCase() ? -1 : 1;
}

const ROW_COLUMNS = `a.id::text, a.chain_seq::text AS seq, a.created_at, a.action, a.actor_user_id, a.actor_token_id, a.ip,
  a.user_agent, a.request_id, a.metadata`;

const MAX_SEQ = '9223372036854775807';

/** SQL of `audit_events`, `audit_event_keys`, `audit_chain_heads`, `audit_checkpoints`, `audit_signing_keys` and `audit_retention`. */
@Injectable()
export class AuditRepository {
  constructor(
    private readonly db: DataSource,
    private readonly sql: PreparedSql,
  ) {}

  insert(em: EntityManager, values: AuditValues): Promise<unknown> {
    return em.query(INSERT_ONE, [...values]);
  }

  /** Rows of a group commit: sent in org order (nulls first, then as given), the order audit_insert_linked needs. */
  insertMany(rows: readonly AuditValues[]): Promise<unknown> {
    const ordered = [...rows].sort(byOrg);
    return this.sql.query(
      'audit-insert-many',
      INSERT_MANY,
      COLUMNS.map((_, i) => ordered.map((r) => r[i])),
    );
  }

  /** Rows of an org matching `filter`, by chain position (pageQuery). */
  page(orgId: string, filter: AuditFilterDto, position: PagePosition, limit: number): Promise<AuditRow[]> {
    const { text, params } = pageQuery(orgId, filter, position, limit);
    return this.db.query(text, params);
  }

  /**
   * The number of the org's rows without counting them: positions are contiguous, so it is the head's
   * position less the positions a retention pass deleted (its last checkpoint). Exact unless rows were
   * deleted some other way (which `verify` reports) or a retention pass is deleting right now.
   */
  async orgRowCount(orgId: string): Promise<number> {
    const rows: Array<{ n: string }> = await this.db.query(
      `SELECT (h.seq - COALESCE((SELECT max(c.chain_seq) FROM audit_checkpoints c WHERE c.org_id = h.org_id AND c.kind = 'retention'), 0))::text AS n
         FROM audit_chain_heads h WHERE h.org_id = $1`,
      [orgId],
    );
    return rows.length ? Math.max(0, Number(rows[0].n)) : 0;
  }

  async count(orgId: string, filter: AuditFilterDto): Promise<number> {
    const { from, where, params } = orgFilter(orgId, filter);
    // A key alone is counted on its entries (each has its row: the foreign key), without visiting the rows.
    const keyOnly = filter.key && Object.entries(filter).every(([name, value]) => name === 'key' || value === undefined);
    const rows = keyOnly ? 'audit_event_keys k' : from;
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM ${rows} WHERE ${where.join(' AND ')}`, params);
    return row.n;
  }

  /** A page of rows without an org whose actor is the user (account activity), newest first, with the total. */
  async accountPage(userId: string, limit: number, offset: number): Promise<{ rows: AuditRow[]; total: number }> {
    const rows: Array<AuditRow & { total: string }> = await this.db.query(
      `SELECT ${ROW_COLUMNS}, count(*) OVER () AS total FROM audit_events a
        WHERE a.actor_user_id = $1 AND a.org_id IS NULL
        ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3`,
      [userId, limit, offset],
    );
    const total = rows.length
      ? Number(rows[0].total)
      : Number((await this.db.query('SELECT count(*) AS n FROM audit_events a WHERE a.actor_user_id = $1 AND a.org_id IS NULL', [userId]))[0].n);
    return { rows, total };
  }

  /** The org's chain head: its last position and hash (0 and empty before the first row). */
  async head(orgId: string): Promise<{ seq: string; hash: Buffer }> {
    const rows = await this.db.query('SELECT seq::text, hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
    return rows[0] ?? { seq: '0', hash: Buffer.alloc(0) };
  }

  /** The chain positions of the first row at or after `from` and the last row before `to` (time grows with position). */
  async seqRange(orgId: string, from?: string, to?: string): Promise<{ lo: string; hi: string }> {
    const [row] = await this.db.query(
      `SELECT COALESCE((SELECT chain_seq FROM audit_events WHERE org_id = $1 AND created_at >= $2 ORDER BY created_at, chain_seq LIMIT 1), ${MAX_SEQ})::text AS lo,
              COALESCE((SELECT chain_seq FROM audit_events WHERE org_id = $1 AND created_at < $3 ORDER BY created_at DESC, chain_seq DESC LIMIT 1), 0)::text AS hi`,
      [orgId, from ?? '-infinity', to ?? 'infinity'],
    );
    return row;
  }

  /** Chain rows with positions in (after, upTo], in order, at most `limit`, with what each hash covers. */
  links(orgId: string, after: string, upTo: string, limit: number): Promise<ChainLink[]> {
    return this.db.query(
      `SELECT a.id::text, a.chain_seq::text AS seq, a.hash, audit_event_content(a) AS content, a.created_at
         FROM audit_events a WHERE a.org_id = $1 AND a.chain_seq > $2 AND a.chain_seq <= $3
        ORDER BY a.chain_seq LIMIT $4`,
      [orgId, after, upTo, limit],
    );
  }

  /** The stored hash at one position of the chain, if that row exists. */
  async hashAt(orgId: string, seq: string): Promise<Buffer | undefined> {
    const rows = await this.db.query('SELECT hash FROM audit_events WHERE org_id = $1 AND chain_seq = $2', [orgId, seq]);
    return rows[0]?.hash;
  }

  checkpoints(orgId: string): Promise<CheckpointRow[]> {
    return this.db.query('SELECT chain_seq::text AS seq, hash, kind, key_id, mac FROM audit_checkpoints WHERE org_id = $1 ORDER BY chain_seq', [orgId]);
  }

  async addCheckpoint(orgId: string, point: Omit<CheckpointRow, 'kind'>, kind: CheckpointRow['kind']): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_checkpoints (org_id, chain_seq, hash, kind, key_id, mac) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org_id, chain_seq) DO UPDATE SET kind = CASE WHEN EXCLUDED.kind = 'retention' THEN 'retention' ELSE audit_checkpoints.kind END`,
      [orgId, point.seq, point.hash, kind, point.key_id, point.mac],
    );
  }

  /** Heads of orgs whose chain grew since their last checkpoint (read as committed: each head's row exists). */
  uncheckpointedHeads(limit: number): Promise<Array<{ org_id: string; seq: string; hash: Buffer }>> {
    return this.db.query(
      `SELECT h.org_id, h.seq::text, h.hash FROM audit_chain_heads h
        WHERE h.seq > COALESCE((SELECT max(c.chain_seq) FROM audit_checkpoints c WHERE c.org_id = h.org_id), 0)
        LIMIT $1`,
      [limit],
    );
  }

  async signingKey(): Promise<SigningKeyRow | undefined> {
    const rows = await this.db.query('SELECT id, provider, master_key_id, wrapped FROM audit_signing_keys ORDER BY id DESC LIMIT 1');
    return rows[0];
  }

  async signingKeyById(id: number): Promise<SigningKeyRow | undefined> {
    const rows = await this.db.query('SELECT id, provider, master_key_id, wrapped FROM audit_signing_keys WHERE id = $1', [id]);
    return rows[0];
  }

  /** Stores the first signing key; another instance may have stored one first (then theirs is used). */
  async addSigningKey(key: SigningKeyRow): Promise<void> {
    await this.db.query('INSERT INTO audit_signing_keys (id, provider, master_key_id, wrapped) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
      key.id,
      key.provider,
      key.master_key_id,
      key.wrapped,
    ]);
  }

  /** Orgs with their own retention period (days). */
  async retentionOverrides(): Promise<Map<string, number>> {
    const rows: Array<{ org_id: string; days: number }> = await this.db.query('SELECT org_id, days FROM audit_retention WHERE days IS NOT NULL');
    return new Map(rows.map((r) => [r.org_id, r.days]));
  }

  async retention(em: EntityManager, orgId: string): Promise<number | null> {
    const rows: Array<{ days: number | null }> = await em.query('SELECT days FROM audit_retention WHERE org_id = $1', [orgId]);
    return rows[0]?.days ?? null;
  }

  async setRetention(em: EntityManager, orgId: string, days: number | null): Promise<void> {
    await em.query('INSERT INTO audit_retention (org_id, days) VALUES ($1, $2) ON CONFLICT (org_id) DO UPDATE SET days = EXCLUDED.days', [orgId, days]);
  }

  /** Orgs with chained rows older than `before`, and the last such position of each. */
  expired(orgId: string, before: Date): Promise<{ seq: string } | undefined> {
    return this.db
      .query(`SELECT chain_seq::text AS seq FROM audit_events WHERE org_id = $1 AND created_at < $2 ORDER BY created_at DESC, chain_seq DESC LIMIT 1`, [
        orgId,
        before,
      ])
      .then((rows: Array<{ seq: string }>) => rows[0]);
  }

  /** Orgs that have a chain. */
  async chainedOrgs(): Promise<string[]> {
    const rows: Array<{ org_id: string }> = await this.db.query('SELECT org_id FROM audit_chain_heads');
    return rows.map((r) => r.org_id);
  }

  /** Deletes up to `batch` of the org's rows at positions ≤ upTo; returns how many it deleted. */
  async deleteUpTo(orgId: string, upTo: string, batch: number): Promise<number> {
    const [row] = await this.db.query(
      `WITH doomed AS (SELECT id FROM audit_events WHERE org_id = $1 AND chain_seq <= $2 ORDER BY chain_seq LIMIT $3),
            gone AS (DELETE FROM audit_events a USING doomed WHERE a.id = doomed.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [orgId, upTo, batch],
    );
    return row.n;
  }

  /** Org deletion: deletes up to `limit` of the org's rows, oldest first; returns how many. */
  async purgeOrg(orgId: string, limit: number): Promise<number> {
    const [row] = await this.db.query(
      `WITH doomed AS (SELECT id FROM audit_events WHERE org_id = $1 ORDER BY chain_seq LIMIT $2),
            gone AS (DELETE FROM audit_events a USING doomed WHERE a.id = doomed.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [orgId, limit],
    );
    return row.n;
  }
}

/** Where a page starts: below a position (newest first), above one (oldest first), or at an offset. */
export interface PagePosition {
  below?: string;
  above?: string;
  offset?: number;
}

/**
 * The statement of a page of an org's rows matching `filter`, by chain position: `below` (exclusive)
 * newest first, or `above` (exclusive) oldest first; `offset` only without either. Each filter has its
 * index (migration 1764830000000); `npm run bench:audit` prints the plans.
 */
export function pageQuery(orgId: string, filter: AuditFilterDto, position: PagePosition, limit: number): { text: string; params: unknown[] } {
  const { from, seq, where, params } = orgFilter(orgId, filter);
  const ascending = position.above !== undefined;
  if (position.below !== undefined) where.push(`${seq} < $${params.push(position.below)}`);
  if (ascending) where.push(`${seq} > $${params.push(position.above)}`);
  const text = `SELECT ${ROW_COLUMNS} FROM ${from} WHERE ${where.join(' AND ')}
    ORDER BY ${seq} ${ascending ? 'ASC' : 'DESC'} LIMIT $${params.push(limit)} OFFSET $${params.push(position.offset ?? 0)}`;
  return { text, params };
}

/**
 * The rows (`from`, audit rows as `a`) and WHERE clauses of an org's filter, with the column of the chain
 * position to order and bound by (`seq`). A `key` filter walks that key's entries in `audit_event_keys`
 * (in position order, migration 1764920000000) and joins each to its row, so bounds go on the entries.
 */
function orgFilter(orgId: string, filter: AuditFilterDto): { from: string; seq: string; where: string[]; params: unknown[] } {
  const params: unknown[] = [orgId];
  const keyed = filter.key !== undefined && filter.key !== '';
  const from = keyed ? 'audit_event_keys k JOIN audit_events a ON a.org_id = k.org_id AND a.chain_seq = k.chain_seq' : 'audit_events a';
  const seq = keyed ? 'k.chain_seq' : 'a.chain_seq';
  const where = [keyed ? 'k.org_id = $1' : 'a.org_id = $1'];
  const p = (value: unknown) => `$${params.push(value)}`;
  if (filter.action) where.push(`a.action = ${p(filter.action)}`);
  if (filter.actor) where.push(`a.actor_user_id = ${p(filter.actor)}`);
  if (filter.projectId) where.push(`a.metadata ? 'projectId' AND a.metadata->>'projectId' = ${p(filter.projectId)}`);
  if (filter.environmentId) where.push(`a.metadata ? 'environmentId' AND a.metadata->>'environmentId' = ${p(filter.environmentId)}`);
  if (keyed) where.push(`k.key = ${p(filter.key)}`);
  if (filter.from || filter.to) {
    // Within an org, time grows with the chain position: a time range is a range of positions (two index probes).
    const from = p(filter.from ?? '-infinity');
    const to = p(filter.to ?? 'infinity');
    where.push(
      `${seq} >= COALESCE((SELECT f.chain_seq FROM audit_events f WHERE f.org_id = $1 AND f.created_at >= ${from}::timestamptz ORDER BY f.created_at, f.chain_seq LIMIT 1), ${MAX_SEQ})`,
      `${seq} <= COALESCE((SELECT t.chain_seq FROM audit_events t WHERE t.org_id = $1 AND t.created_at < ${to}::timestamptz ORDER BY t.created_at DESC, t.chain_seq DESC LIMIT 1), 0)`,
      `a.created_at >= ${from}::timestamptz AND a.created_at < ${to}::timestamptz`,
    );
  }
  return { from, seq, where, params };
}
