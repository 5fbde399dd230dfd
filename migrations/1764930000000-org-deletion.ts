import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21: deleting an org does not hold one transaction over all its data. `DELETE /orgs/:orgId` marks
 * the org deleted (and frees its slug, removes its members); a job then deletes its data in bounded
 * batches and the org row last. The marker is what a restarted instance resumes from.
 */
export class OrgDeletion1764930000000 implements MigrationInterface {
  name = 'OrgDeletion1764930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orgs ADD COLUMN deleted_at timestamptz;
      CREATE INDEX orgs_deleted_idx ON orgs (deleted_at) WHERE deleted_at IS NOT NULL;
    `);
    // The batches find their rows through existing indexes: secret_versions (project_id, key_version),
    // secrets (project_id), secret_changes (environment_id, seq), audit_events (org_id, chain_seq).
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX orgs_deleted_idx; ALTER TABLE orgs DROP COLUMN deleted_at');
  }
}
