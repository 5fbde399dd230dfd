import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks and their delivery log. The deliveries themselves are pg-boss jobs, in the `pgboss`
 * schema, which pg-boss installs and upgrades itself when an instance starts (under its own advisory
 * lock, so instances starting together on a fresh database are safe).
 */
export class Webhooks1764100000000 implements MigrationInterface {
  name = 'Webhooks1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id            uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        url               text NOT NULL,
        description       text,
        events            text[] NOT NULL CHECK (cardinality(events) > 0),
        -- Filters: NULL = every project / every environment. A webhook filtered to a project goes
        -- with it (rather than widening to every project).
        project_id        uuid REFERENCES projects(id) ON DELETE CASCADE,
        environments      text[] CHECK (environments IS NULL OR cardinality(environments) > 0),
        enabled           boolean NOT NULL DEFAULT true,
        -- The signing secret, wrapped by the KeyProvider (AAD secr:whsec:v1:<id>), and which master
        -- key wrapped it. Never stored in plaintext: it must be readable to sign, so it is not hashed.
        secret_ciphertext bytea NOT NULL,
        secret_provider   text NOT NULL,
        secret_master_key text NOT NULL,
        -- The first characters, to tell secrets apart (like api_tokens.hint).
        secret_hint       text NOT NULL,
        created_by        uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX webhooks_org_idx ON webhooks (org_id);

      -- One row per delivery attempt. delivery_id is the pg-boss job id, the same for every attempt
      -- of one delivery (and sent as X-Secr-Delivery).
      CREATE TABLE webhook_deliveries (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook_id    uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        delivery_id   uuid NOT NULL,
        event         text NOT NULL,
        attempt       integer NOT NULL CHECK (attempt >= 1),
        -- delivered: 2xx. retrying: failed, another attempt is scheduled. failed: no further attempt.
        outcome       text NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed')),
        status_code   integer,
        duration_ms   integer NOT NULL,
        error         text,
        -- The first bytes of the receiver's answer.
        response_body text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        UNIQUE (delivery_id, attempt)
      );
      CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries, webhooks');
  }
}
