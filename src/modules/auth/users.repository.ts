import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** An account as stored, without its password hash. */
export interface UserRow {
  id: string;
  /** Always stored lower-cased: addresses compare case-insensitively. */
  email: string;
  name: string;
  emailVerifiedAt: Date | null;
  isAdmin: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const USER_COLUMNS = 'id, email, name, email_verified_at, is_admin, created_at, updated_at';

type RawUser = { id: string; email: string; name: string; email_verified_at: Date | null; is_admin: boolean; created_at: Date; updated_at: Date };

function toUser(r: RawUser): UserRow {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    emailVerifiedAt: r.email_verified_at,
    isAdmin: r.is_admin,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** SQL over `users` for the auth module's services and for other modules. */
@Injectable()
export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  async get(id: string): Promise<UserRow | null> {
    const [row]: RawUser[] = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return row ? toUser(row) : null;
  }

  async byEmail(email: string): Promise<UserRow | null> {
    const [row]: RawUser[] = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [email]);
    return row ? toUser(row) : null;
  }

  /** An account with its password hash (signing in, changing the password). */
  async withPasswordHash(by: { id: string } | { email: string }): Promise<(UserRow & { passwordHash: string }) | null> {
    const [row]: Array<RawUser & { password_hash: string }> = await this.db.query(
      `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE ${'id' in by ? 'id' : 'email'} = $1`,
      ['id' in by ? by.id : by.email],
    );
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  async setPasswordHash(em: EntityManager, id: string, passwordHash: string): Promise<void> {
    await em.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
  }

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
