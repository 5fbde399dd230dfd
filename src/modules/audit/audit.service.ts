import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { Actor, RequestMeta } from '../../common/auth/actor.js';
import { AuditEvent } from './audit-event.entity.js';

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
  async record(em: EntityManager, entry: AuditEntry): Promise<void> {
    const row: Omit<AuditEvent, 'id' | 'createdAt'> = {
      action: entry.action,
      orgId: entry.orgId ?? null,
      actorUserId: entry.actor?.userId ?? null,
      actorTokenId: entry.actor?.token?.id ?? null,
      ip: entry.meta.ip,
      userAgent: entry.meta.userAgent,
      requestId: entry.meta.requestId,
      metadata: entry.metadata ?? {},
    };
    await em.insert(AuditEvent, row as QueryDeepPartialEntity<AuditEvent>);
  }
}
