import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** SQL over `users` for other modules (the auth module's own services keep theirs beside them). */
@Injectable()
export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  /** Email and name of each user that exists. */
  async profiles(em: EntityManager, userIds: readonly string[]): Promise<Map<string, { email: string; name: string }>> {
    if (!userIds.length) return new Map();
    const rows: Array<{ id: string; email: string; name: string }> = await em.query('SELECT id, email, name FROM users WHERE id = ANY($1::uuid[])', [
      [...new Set(userIds)],
    ]);
    return new Map(rows.map((r) => [r.id, { email: r.email, name: r.name }]));
  }

  async idByEmail(em: EntityManager, email: string): Promise<string | null> {
    const [row]: Array<{ id: string }> = await em.query('SELECT id FROM users WHERE email = $1', [email]);
    return row?.id ?? null;
  }

  async nameOf(em: EntityManager, userId: string): Promise<string | null> {
    const [row]: Array<{ name: string }> = await em.query('SELECT name FROM users WHERE id = $1', [userId]);
    return row?.name ?? null;
  }

  async isVerified(em: EntityManager, userId: string): Promise<boolean> {
    const [row]: Array<{ verified: boolean }> = await em.query('SELECT email_verified_at IS NOT NULL AS verified FROM users WHERE id = $1', [userId]);
    return row?.verified === true;
  }

  async count(): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query('SELECT count(*)::int AS n FROM users');
    return row.n;
  }

  /** Marks the accounts of these addresses as instance admins; returns how many were not yet. Never demotes. */
  async promoteAdmins(emails: readonly string[]): Promise<number> {
    const promoted: Array<{ id: string }> = await this.db.query(
      `WITH promoted AS (
         UPDATE users SET is_admin = true, updated_at = now() WHERE email = ANY($1::text[]) AND NOT is_admin RETURNING id)
       SELECT id FROM promoted`,
      [emails],
    );
    return promoted.length;
  }
}
