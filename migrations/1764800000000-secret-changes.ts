import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The change log of each environment (issue 18): one row per committed secret write (key names and the
 * new versions, never values), written by SecretWriter in the write's own transaction. `seq` is the
 * SSE event id of the change stream (`GET /v1/secrets/…/events`): a watcher reconnecting with
 * `Last-Event-ID` is sent the rows after it. Within an environment, seq follows commit order (the
 * writer takes a per-environment lock just before inserting, and holds it until the commit).
 */
export class SecretChanges1764800000000 implements MigrationInterface {
  name = 'SecretChanges1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE secret_changes (
        seq bigserial PRIMARY KEY,
        environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('set', 'import', 'rollback', 'promotion', 'restore', 'delete')),
        changes jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX secret_changes_environment_seq_idx ON secret_changes (environment_id, seq)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE secret_changes');
  }
}
