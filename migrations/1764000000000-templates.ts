import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Secret templates: the keys a project's environments are expected to set. */
export class Templates1764000000000 implements MigrationInterface {
  name = 'Templates1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE templates (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        key         text NOT NULL,
        description text,
        required    boolean NOT NULL DEFAULT true,
        created_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, key)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE templates');
  }
}
