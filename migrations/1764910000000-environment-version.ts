import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One environment version (issues 18 and 19): an environment's version is its position in the change
 * log, `secret_changes.seq` of its latest change (the change stream's event id), so a client can take it
 * from an event or a pull and send it as `ifEnvironmentVersion`. The separate install-wide counter
 * `secrets.change_seq` goes.
 *
 * `secret_change_horizons`: the change log is pruned (by age and count per environment); the highest
 * position pruned from an environment's log is kept here, so that a reconnect or a check-and-set from a
 * position at or before it is known to have lost changes (a stream resync, a conflict) rather than be
 * answered from an incomplete log. Environments written before the log existed get a horizon too: their
 * early changes were never logged.
 */
export class EnvironmentVersion1764910000000 implements MigrationInterface {
  name = 'EnvironmentVersion1764910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE secret_change_horizons (
        environment_id uuid PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
        pruned_through bigint NOT NULL
      );
      CREATE INDEX secret_changes_created_idx ON secret_changes (created_at);
      WITH horizon AS (SELECT nextval(pg_get_serial_sequence('secret_changes', 'seq')) AS seq)
      INSERT INTO secret_change_horizons (environment_id, pruned_through)
      SELECT DISTINCT s.environment_id, horizon.seq FROM secrets s, horizon;
      ALTER TABLE secrets DROP COLUMN change_seq;
      DROP SEQUENCE secret_change_seq;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE SEQUENCE secret_change_seq;
      ALTER TABLE secrets ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('secret_change_seq');
      DROP INDEX secret_changes_created_idx;
      DROP TABLE secret_change_horizons;
    `);
  }
}
