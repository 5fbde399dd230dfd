import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../../common/auth/actor.js';
import type { AuditPageDto, AuditQueryDto } from './audit.dto.js';

const DEFAULT_PAGE = 50;

export interface AuditEntry {
  action: string;
  orgId?: string | null;
  /** `null` for events without a signed-in caller (a failed login). */
  actor: Pick<Actor, 'userId' | 'token'> | null;
  meta: RequestMeta;
  /** Names, counts, roles, ids: never a secret value, password or token. */
  metadata?: Record<string, unknown>;
}

/**
 * Writes audit rows inside the caller's transaction, so a change and its audit row commit or fail
 * together (DESIGN.md §5: fail closed).
 */
@Injectable()
export class AuditService {
  constructor(private readonly db: DataSource) {}

  async query(orgId: string, query: AuditQueryDto): Promise<AuditPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const offset = query.offset ?? 0;
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `SELECT a.id::text, a.created_at, a.action, a.actor_user_id, u.email, a.actor_token_id, a.ip, a.user_agent,
              a.request_id, a.metadata, count(*) OVER () AS total
         FROM audit_events a LEFT JOIN users u ON u.id = a.actor_user_id
        WHERE a.org_id = $1 AND ($2::text IS NULL OR a.action = $2)
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $3 OFFSET $4`,
      [orgId, query.action ?? null, limit, offset],
    );
    const total = rows.length
      ? Number(rows[0].total)
      : Number((await this.db.query(
          'SELECT count(*) AS n FROM audit_events WHERE org_id = $1 AND ($2::text IS NULL OR action = $2)',
          [orgId, query.action ?? null],
        ))[0].n);
    return {
      events: rows.map((r) => ({
        id: r.id as string,
        createdAt: r.created_at as Date,
        action: r.action as string,
        actorUserId: r.actor_user_id as string | null,
        actorEmail: r.email as string | null,
        actorTokenId: r.actor_token_id as string | null,
        ip: r.ip as string | null,
        userAgent: r.user_agent as string | null,
        requestId: r.request_id as string | null,
        metadata: r.metadata as Record<string, unknown>,
      })),
      pagination: { limit, offset, total },
    };
  }

  async record(em: EntityManager, entry: AuditEntry): Promise<void> {
    const { sql, params } = auditInsert(entry, 1);
    await em.query(sql, params);
  }


}

/**
 * The INSERT of one audit row as SQL whose parameters start at `$<first>`, so that a read and its audit
 * row can go to PostgreSQL as one statement (the pull does). `metadataSql` is an SQL expression of
 * jsonb merged into the metadata (for counts only the statement knows).
 */
export function auditInsert(entry: AuditEntry, first: number, metadataSql?: string): { sql: string; params: unknown[] } {
  const p = (i: number) => `$${first + i}`;
  const metadata = metadataSql ? `${p(7)}::jsonb || ${metadataSql}` : `${p(7)}::jsonb`;
  return {
    sql: `INSERT INTO audit_events (action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata)
          SELECT ${p(0)}, ${p(1)}::uuid, ${p(2)}::uuid, ${p(3)}::uuid, ${p(4)}, ${p(5)}, ${p(6)}, ${metadata}`,
    params: [
      entry.action,
      entry.orgId ?? null,
      entry.actor?.userId ?? null,
      entry.actor?.token?.id ?? null,
      entry.meta.ip,
      entry.meta.userAgent,
      entry.meta.requestId,
      JSON.stringify(entry.metadata ?? {}),
    ],
  };
}
