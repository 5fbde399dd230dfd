import type { OrgContext, OrgRef } from './request-context.js';

/**
 * The caller's membership in the org a route names, read in the same statement as the credential
 * (the token and session lookups below): one round trip per request on the pull path.
 *
 * This is the one place outside modules/orgs that reads `orgs` and `memberships`. It lives here, with the
 * two statements that use it, so that no SQL text crosses a module boundary: orgs owns writes and every
 * other read of those tables; authentication owns this read of "who is calling, and with which role".
 * Selects `member_org_id`, `member_org_slug` and `member_role`, all NULL when the caller is not a member
 * or there is no such org. `userId` and `org` are SQL expressions of the statement that embeds it.
 */
export function membershipJoin(userId: string, org: string, by: OrgRef['by'] | undefined): { select: string; join: string } {
  if (!by) return { select: 'NULL AS member_org_id, NULL AS member_org_slug, NULL AS member_role', join: '' };
  const match = by === 'id' ? `mo.id = ${org}::uuid` : `mo.slug = ${org}`;
  return {
    select: 'mo.id AS member_org_id, mo.slug AS member_org_slug, mm.role AS member_role',
    join: `LEFT JOIN (orgs mo JOIN memberships mm ON mm.org_id = mo.id) ON ${match} AND mm.user_id = ${userId}`,
  };
}

export interface MembershipColumns {
  member_org_id: string | null;
  member_org_slug: string | null;
  member_role: OrgContext['role'] | null;
}

export function membershipFrom(row: MembershipColumns): OrgContext | null {
  return row.member_org_id ? { id: row.member_org_id, slug: row.member_org_slug!, role: row.member_role! } : null;
}
