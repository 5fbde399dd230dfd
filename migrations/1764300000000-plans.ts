import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Plans and limits: an org's plan (NULL = DEFAULT_PLAN), its limit overrides, and run-time plan configs. */
export class Plans1764300000000 implements MigrationInterface {
  name = 'Plans1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orgs
        ADD COLUMN plan text CHECK (plan IN ('free', 'pro', 'team', 'enterprise')),
        ADD COLUMN limit_overrides jsonb NOT NULL DEFAULT '{}'::jsonb;
      CREATE TABLE plan_configs (
        plan_name   text PRIMARY KEY CHECK (plan_name IN ('free', 'pro', 'team', 'enterprise')),
        -- Limit name → number; -1 = unlimited. Limits it does not name fall back to PLAN_LIMITS.
        limits      jsonb NOT NULL DEFAULT '{}'::jsonb,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE plan_configs; ALTER TABLE orgs DROP COLUMN limit_overrides, DROP COLUMN plan');
  }
}
