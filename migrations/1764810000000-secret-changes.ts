import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 19: what check-and-set and point-in-time restore need.
 * - `secrets.change_seq`: bumped (from one sequence) by every write and soft delete of the key; the
 *   largest of an environment's is its version, which a bulk import can require unchanged.
 * - `secret_deletions`: when each key was soft-deleted (a key deleted and set again keeps no trace of
 *   the deletion in `secrets`), so the state of an environment at a past instant can be rebuilt.
 */
export class SecretChanges1764810000000 implements MigrationInterface {
  name = 'SecretChanges1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE SEQUENCE secret_change_seq;
      ALTER TABLE secrets ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('secret_change_seq');
      CREATE TABLE secret_deletions (
        secret_id  uuid NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
        deleted_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX secret_deletions_secret_idx ON secret_deletions (secret_id, deleted_at);
      INSERT INTO secret_deletions (secret_id, deleted_at) SELECT id, deleted_at FROM secrets WHERE deleted_at IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE secret_deletions;
      ALTER TABLE secrets DROP COLUMN change_seq;
      DROP SEQUENCE secret_change_seq;
    `);
  }
}
