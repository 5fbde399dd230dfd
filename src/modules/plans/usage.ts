import type { EntityManager } from 'typeorm';

/** What each plan limit counts. One query each; run after `PlansService` holds the limit's lock. */
async function count(em: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const [row] = await em.query(sql, params);
  return row.n;
}

export const usage = {
  projects: (orgId: string) => (em: EntityManager) => count(em, 'SELECT count(*)::int AS n FROM projects WHERE org_id = $1', [orgId]),
  /** Members plus pending invitations (`exceptInvite`: the one being accepted, which becomes a member). */
  members:
    (orgId: string, exceptInvite: string | null = null) =>
    (em: EntityManager) =>
      count(
        em,
        `SELECT ((SELECT count(*) FROM memberships WHERE org_id = $1)
              + (SELECT count(*) FROM org_invites
                  WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
                    AND ($2::uuid IS NULL OR id <> $2::uuid)))::int AS n`,
        [orgId, exceptInvite],
      ),
  environments: (projectId: string) => (em: EntityManager) => count(em, 'SELECT count(*)::int AS n FROM environments WHERE project_id = $1', [projectId]),
  webhooks: (orgId: string) => (em: EntityManager) => count(em, 'SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1', [orgId]),
  /** Tokens that still work: not revoked, not expired. */
  tokens: (userId: string) => (em: EntityManager) =>
    count(em, 'SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()', [userId]),
};
