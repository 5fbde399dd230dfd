import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyless CI (issue 20): an org trusts an OIDC issuer (GitHub Actions, GitLab CI, …) to vouch for its
 * pipelines. A CI job's JWT that passes a relationship's checks is exchanged for a short-lived scoped
 * `secr_tok_` token owned by the member who created the relationship (their role ∩ the granted scope).
 * Minted tokens name the relationship (`api_tokens.oidc_trust_id`), so deleting it ends them.
 */
export class OidcTrusts1764820000000 implements MigrationInterface {
  name = 'OidcTrusts1764820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oidc_trusts (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id       uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        name         text NOT NULL,
        issuer       text NOT NULL,
        audience     text NOT NULL,
        conditions   jsonb NOT NULL DEFAULT '[]',
        project_id   uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        environments text[],
        access       text NOT NULL CHECK (access IN ('read', 'read_write')),
        ttl_seconds  integer NOT NULL CHECK (ttl_seconds BETWEEN 60 AND 3600),
        created_by   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (org_id, name)
      )`);
    await q.query(`ALTER TABLE api_tokens ADD COLUMN oidc_trust_id uuid REFERENCES oidc_trusts (id) ON DELETE SET NULL`);
    await q.query('CREATE INDEX api_tokens_oidc_trust_idx ON api_tokens (oidc_trust_id) WHERE oidc_trust_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE api_tokens DROP COLUMN oidc_trust_id');
    await q.query('DROP TABLE oidc_trusts');
  }
}
