import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Projects, environments, wrapped project keys, versioned secrets; token scopes by project and environment. */
export class Vault1763900000000 implements MigrationInterface {
  name = 'Vault1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projects (
        id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id              uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        slug                text NOT NULL,
        name                text NOT NULL,
        description         text,
        -- The DEK version new values are encrypted under; older versions stay until rotation ends.
        current_key_version integer NOT NULL DEFAULT 1,
        created_at          timestamptz NOT NULL DEFAULT now(),
        UNIQUE (org_id, slug)
      );

      -- Each project's data-encryption keys, only ever stored wrapped by the KeyProvider.
      CREATE TABLE project_keys (
        project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        version      integer NOT NULL,
        provider     text NOT NULL,
        -- Which master key wrapped it (a KMS key name, or a fingerprint of the local master key).
        master_key   text NOT NULL,
        -- NULL once destroyed: no stored value references the version any more.
        wrapped_key  bytea,
        created_at   timestamptz NOT NULL DEFAULT now(),
        destroyed_at timestamptz,
        PRIMARY KEY (project_id, version),
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
      );

      CREATE TABLE environments (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        slug       text NOT NULL,
        name       text NOT NULL,
        tier       text NOT NULL CHECK (tier IN ('development', 'staging', 'production')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, slug)
      );

      CREATE TABLE secrets (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id      uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        environment_id  uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
        key             text NOT NULL,
        current_version integer NOT NULL,
        description     text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        -- Soft delete: gone from pulls, history kept; setting the key again revives it.
        deleted_at      timestamptz,
        UNIQUE (environment_id, key)
      );
      CREATE INDEX secrets_project_idx ON secrets (project_id);

      -- Every value a secret ever had. The value is AES-256-GCM ciphertext (iv | ciphertext | tag) under
      -- the project's DEK \`key_version\`, with AAD secr:v1:<project id>:<key>.
      CREATE TABLE secret_versions (
        secret_id     uuid NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
        version       integer NOT NULL,
        project_id    uuid NOT NULL,
        key_version   integer NOT NULL,
        ciphertext    bytea NOT NULL,
        description   text,
        -- set | import | rollback | promote
        source        text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        created_by    uuid REFERENCES users(id) ON DELETE SET NULL,
        created_by_token uuid,
        PRIMARY KEY (secret_id, version),
        FOREIGN KEY (project_id, key_version) REFERENCES project_keys (project_id, version) ON DELETE CASCADE
      );
      -- Rotation finds what is still under an old key version.
      CREATE INDEX secret_versions_key_version_idx ON secret_versions (project_id, key_version);

      ALTER TABLE api_tokens
        ADD COLUMN project_id   uuid REFERENCES projects(id) ON DELETE CASCADE,
        ADD COLUMN environments text[],
        ADD CHECK (project_id IS NULL OR org_id IS NOT NULL);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE api_tokens DROP COLUMN environments, DROP COLUMN project_id;
      DROP TABLE secret_versions, secrets, environments, project_keys, projects;
    `);
  }
}
