import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Role } from '../../common/auth/permissions.js';

/** An invitation to an org. Single-use; only the SHA-256 of its token is stored (and never read back). */
export interface InviteRow {
  id: string;
  orgId: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

const INVITE_COLUMNS = 'id, org_id, email, role, invited_by, created_at, expires_at';
/** Neither accepted, revoked nor expired. */
const PENDING = 'accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()';

type Raw = { id: string; org_id: string; email: string; role: Role; invited_by: string | null; created_at: Date; expires_at: Date };

function toInvite(r: Raw): InviteRow {
  return { id: r.id, orgId: r.org_id, email: r.email, role: r.role, invitedBy: r.invited_by, createdAt: r.created_at, expiresAt: r.expires_at };
}

/** SQL over `org_invites`. Writers pass their transaction's EntityManager. */
@Injectable()
export class InvitesRepository {
  constructor(private readonly db: DataSource) {}

  /** The org's pending invitations, oldest first. */
  async pending(orgId: string): Promise<InviteRow[]> {
    const rows: Raw[] = await this.db.query(`SELECT ${INVITE_COLUMNS} FROM org_invites WHERE org_id = $1 AND ${PENDING} ORDER BY created_at`, [orgId]);
    return rows.map(toInvite);
  }

  /** Org deletion: deletes the org's invitations (an open one can no longer be accepted). */
  async deleteForOrg(em: EntityManager, orgId: string): Promise<void> {
    await em.query('DELETE FROM org_invites WHERE org_id = $1', [orgId]);
  }

  /**
   * The open (not accepted, not revoked) invitation of an address, expired or not, row-locked until the
   * transaction ends: what a new invitation of the address replaces (org_invites_open_idx allows one).
   */
  async lockOpenFor(em: EntityManager, orgId: string, email: string): Promise<Array<InviteRow & { expired: boolean }>> {
    const rows: Array<Raw & { expired: boolean }> = await em.query(
      `SELECT ${INVITE_COLUMNS}, expires_at <= now() AS expired FROM org_invites WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL FOR UPDATE`,
      [orgId, email],
    );
    return rows.map((r) => ({ ...toInvite(r), expired: r.expired }));
  }

  /** Inserts an invitation; a concurrent one of the same address violates org_invites_open_idx. */
  async insert(em: EntityManager, invite: Omit<InviteRow, 'id' | 'createdAt'> & { tokenHash: Buffer }): Promise<InviteRow> {
    const [row]: Raw[] = await em.query(
      `INSERT INTO org_invites (org_id, email, role, token_hash, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${INVITE_COLUMNS}`,
      [invite.orgId, invite.email, invite.role, invite.tokenHash, invite.invitedBy, invite.expiresAt],
    );
    return toInvite(row);
  }

  /** A pending invitation, by id in the org or by the hash of its token, row-locked until the transaction ends. */
  async lockPending(em: EntityManager, by: { id: string; orgId: string } | { tokenHash: Buffer }): Promise<InviteRow | null> {
    const [row]: Raw[] =
      'tokenHash' in by
        ? await em.query(`SELECT ${INVITE_COLUMNS} FROM org_invites WHERE token_hash = $1 AND ${PENDING} FOR UPDATE`, [by.tokenHash])
        : await em.query(`SELECT ${INVITE_COLUMNS} FROM org_invites WHERE id = $1 AND org_id = $2 AND ${PENDING} FOR UPDATE`, [by.id, by.orgId]);
    return row ? toInvite(row) : null;
  }

  async revoke(em: EntityManager, id: string): Promise<void> {
    await em.query('UPDATE org_invites SET revoked_at = now() WHERE id = $1', [id]);
  }

  async markAccepted(em: EntityManager, id: string, userId: string): Promise<void> {
    await em.query('UPDATE org_invites SET accepted_at = now(), accepted_by = $2 WHERE id = $1', [id, userId]);
  }

  /** Pending invitations of the org (`except`: the one being accepted). */
  async countPending(em: EntityManager, orgId: string, except: string | null = null): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query(
      `SELECT count(*)::int AS n FROM org_invites WHERE org_id = $1 AND ${PENDING} AND ($2::uuid IS NULL OR id <> $2::uuid)`,
      [orgId, except],
    );
    return row.n;
  }

  async countPendingByOrg(em: EntityManager, orgIds: string[]): Promise<Map<string, number>> {
    const rows: Array<{ org_id: string; n: number }> = await em.query(
      `SELECT org_id, count(*)::int AS n FROM org_invites WHERE org_id = ANY($1::uuid[]) AND ${PENDING} GROUP BY org_id`,
      [orgIds],
    );
    return new Map(rows.map((r) => [r.org_id, r.n]));
  }
}
