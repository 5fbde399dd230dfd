import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { StatementBatcher } from '../../database/statement-batcher.js';
import { ValidationFailedError } from '../../common/errors/domain-error.js';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { UsersRepository } from '../auth/users.repository.js';
import type { AccountActivityPageDto, AccountActivityQueryDto, AuditEventDto, AuditPageDto, AuditQueryDto } from './audit.dto.js';
import { AuditRepository, type AuditRow, type AuditValues } from './audit.repository.js';

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
 * both commit or neither does; a read, which changes nothing, commits its row before it answers. The
 * database links each org's rows into its hash chain as they are inserted (AuditChain).
 */
@Injectable()
export class AuditService {
  /** Concurrent reads' rows go in one INSERT and one commit: every pull writes one, under load too. */
  private readonly reads = new StatementBatcher<AuditEntry, void>(async (entries) => {
    await this.repo.insertMany(entries.map(values));
    return entries.map(() => undefined);
  });

  constructor(
    private readonly db: DataSource,
    private readonly repo: AuditRepository,
    private readonly users: UsersRepository,
  ) {}

  /** A page of the org's log, newest first: by cursor (`before`/`after`) or by `offset` (with the total). */
  async query(orgId: string, query: AuditQueryDto): Promise<AuditPageDto> {
    const { limit = DEFAULT_PAGE, offset, before, after, ...filter } = query;
    if ((before !== undefined || after !== undefined) && (offset !== undefined || (before !== undefined && after !== undefined))) {
      throw new ValidationFailedError([
        { field: before !== undefined && after !== undefined ? 'after' : 'offset', message: 'Use one of before, after and offset' },
      ]);
    }
    const below = before !== undefined ? decodeCursor(before, 'before') : undefined;
    const above = after !== undefined ? decodeCursor(after, 'after') : undefined;
    // One row more than the page tells whether another page follows in the direction of travel.
    const rows = await this.repo.page(orgId, filter, { below, above, offset }, limit + 1);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    if (above !== undefined) page.reverse();
    const events = await this.events(page);
    const newest = page[0]?.seq;
    const oldest = page[page.length - 1]?.seq;
    const cursors = {
      before: oldest !== undefined && (above !== undefined || more) ? encodeCursor(oldest) : null,
      after: newest !== undefined ? encodeCursor(newest) : (after ?? (below !== undefined ? encodeCursor((BigInt(below) - 1n).toString()) : null)),
    };
    if (below !== undefined || above !== undefined) return { events, cursors };
    const filtered = Object.values(filter).some((value) => value !== undefined);
    const total = page.length < limit && !offset ? page.length : filtered ? await this.repo.count(orgId, filter) : await this.repo.orgRowCount(orgId);
    return { events, pagination: { limit, offset: offset ?? 0, total }, cursors };
  }

  /**
   * A user's own account activity: the rows without an org whose actor is the user (sign-ins, failed
   * sign-ins, password changes and resets, tokens not scoped to an org, sign-up attempts with the address).
   */
  async forUser(userId: string, query: AccountActivityQueryDto): Promise<AccountActivityPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const offset = query.offset ?? 0;
    const { rows, total } = await this.repo.accountPage(userId, limit, offset);
    const events = (await this.events(rows)).map(({ actorUserId, actorEmail, requestId, ...event }) => event);
    return { events, pagination: { limit, offset, total } };
  }

  /** Rows as the API shows them, with each actor's email (one lookup for the page). */
  async events(rows: AuditRow[]): Promise<AuditEventDto[]> {
    const actors = await this.users.profiles(
      this.db.manager,
      rows.flatMap((r) => (r.actor_user_id ? [r.actor_user_id] : [])),
    );
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      action: r.action,
      actorUserId: r.actor_user_id,
      actorEmail: (r.actor_user_id && actors.get(r.actor_user_id)?.email) || null,
      actorTokenId: r.actor_token_id,
      ip: r.ip,
      userAgent: r.user_agent,
      requestId: r.request_id,
      metadata: r.metadata,
    }));
  }

  /** The row of a change, in the change's transaction. */
  async record(em: EntityManager, entry: AuditEntry): Promise<void> {
    await this.repo.insert(em, values(entry));
  }

  /**
   * The row of a read, outside any transaction: resolves once it has committed, rejects if it could
   * not be written. Callers return nothing of what they read until it resolves.
   */
  recordCommitted(entry: AuditEntry): Promise<void> {
    return this.reads.run(entry);
  }
}

function values(e: AuditEntry): AuditValues {
  return [
    e.action,
    e.orgId ?? null,
    e.actor?.userId ?? null,
    e.actor?.token?.id ?? null,
    e.meta.ip,
    e.meta.userAgent,
    e.meta.requestId,
    JSON.stringify(e.metadata ?? {}),
  ];
}

/** A cursor names a position in the org's chain; it is opaque to clients (base64url of `v1:<position>`). */
export function encodeCursor(seq: string): string {
  return Buffer.from(`v1:${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, field: string): string {
  const match = /^v1:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new ValidationFailedError([{ field, message: `${field} must be a cursor returned by this route` }]);
  return match[1];
}
