import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PreparedSql } from '../../database/prepared-sql.js';
import { StatementBatcher } from '../../database/statement-batcher.js';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import type { PageQueryDto, PaginationDto } from '../../common/pagination/pagination.dto.js';
import { UsersRepository } from '../auth/users.repository.js';
import type { AccountActivityPageDto, AccountActivityQueryDto, AuditEventDto, AuditPageDto, AuditQueryDto } from './audit.dto.js';

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
 * Writes audit rows (DESIGN.md §5: fail closed). A change writes its row inside its own transaction, so
 * both commit or neither does; a read, which changes nothing, commits its row before it answers.
 */
@Injectable()
export class AuditService {
  /** Concurrent reads' rows go in one INSERT and one commit: every pull writes one, under load too. */
  private readonly reads = new StatementBatcher<AuditEntry, void>(async (entries) => {
    await this.sql.query(
      'audit-insert-many',
      INSERT_MANY,
      AUDIT_COLUMNS.map((column) => entries.map(column)),
    );
    return entries.map(() => undefined);
  });

  constructor(
    private readonly db: DataSource,
    private readonly sql: PreparedSql,
    private readonly users: UsersRepository,
  ) {}

  async query(orgId: string, query: AuditQueryDto): Promise<AuditPageDto> {
    return this.page('a.org_id = $1 AND ($2::text IS NULL OR a.action = $2)', [orgId, query.action ?? null], query, (event) => event);
  }

  /**
   * A user's own account activity: the rows without an org whose actor is the user (sign-ins, failed
   * sign-ins, password changes and resets, tokens not scoped to an org, sign-up attempts with the address).
   */
  async forUser(userId: string, query: AccountActivityQueryDto): Promise<AccountActivityPageDto> {
    return this.page('a.actor_user_id = $1 AND a.org_id IS NULL', [userId], query, ({ actorUserId, actorEmail, requestId, ...event }) => event);
  }

  /** One page of audit rows matching `where` (SQL on alias `a`, parameters from $1), newest first. */
  private async page<T>(
    where: string,
    params: unknown[],
    query: PageQueryDto,
    shape: (event: AuditEventDto) => T,
  ): Promise<{ events: T[]; pagination: PaginationDto }> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const offset = query.offset ?? 0;
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `SELECT a.id::text, a.created_at, a.action, a.actor_user_id, a.actor_token_id, a.ip, a.user_agent,
              a.request_id, a.metadata, count(*) OVER () AS total
         FROM audit_events a
        WHERE ${where}
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    const total = rows.length ? Number(rows[0].total) : Number((await this.db.query(`SELECT count(*) AS n FROM audit_events a WHERE ${where}`, params))[0].n);
    const actors = await this.users.profiles(
      this.db.manager,
      rows.flatMap((r) => (r.actor_user_id ? [r.actor_user_id as string] : [])),
    );
    const events = rows.map((r) =>
      shape({
        id: r.id as string,
        createdAt: r.created_at as Date,
        action: r.action as string,
        actorUserId: r.actor_user_id as string | null,
        actorEmail: actors.get(r.actor_user_id as string)?.email ?? null,
        actorTokenId: r.actor_token_id as string | null,
        ip: r.ip as string | null,
        userAgent: r.user_agent as string | null,
        requestId: r.request_id as string | null,
        metadata: r.metadata as Record<string, unknown>,
      }),
    );
    return { events, pagination: { limit, offset, total } };
  }

  /** The row of a change, in the change's transaction. */
  async record(em: EntityManager, entry: AuditEntry): Promise<void> {
    await em.query(
      INSERT_ONE,
      AUDIT_COLUMNS.map((column) => column(entry)),
    );
  }

  /**
   * The row of a read, outside any transaction: resolves once it has committed, rejects if it could
   * not be written. Callers return nothing of what they read until it resolves.
   */
  recordCommitted(entry: AuditEntry): Promise<void> {
    return this.reads.run(entry);
  }
}

/** The values of an audit row, in the column order of the INSERTs below. */
const AUDIT_COLUMNS: ReadonlyArray<(entry: AuditEntry) => unknown> = [
  (e) => e.action,
  (e) => e.orgId ?? null,
  (e) => e.actor?.userId ?? null,
  (e) => e.actor?.token?.id ?? null,
  (e) => e.meta.ip,
  (e) => e.meta.userAgent,
  (e) => e.meta.requestId,
  (e) => JSON.stringify(e.metadata ?? {}),
];

const COLUMN_LIST = 'action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata';
const INSERT_ONE = `INSERT INTO audit_events (${COLUMN_LIST}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
const INSERT_MANY = `INSERT INTO audit_events (${COLUMN_LIST})
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`;
