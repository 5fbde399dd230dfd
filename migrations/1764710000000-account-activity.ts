import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A user's own account activity (GET /v1/auth/activity): the audit rows without an org that the user is the actor of. */
export class AccountActivity1764710000000 implements MigrationInterface {
  name = 'AccountActivity1764710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX audit_events_account_idx ON audit_events (actor_user_id, created_at DESC, id DESC) WHERE org_id IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX audit_events_account_idx');
  }
}
