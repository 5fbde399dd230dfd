import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21: an audit log that scales and proves itself.
 *
 * - Each org's rows form a hash chain: `chain_seq` (1, 2, 3, … per org) and `hash` = SHA-256(previous
 *   row's hash ‖ the row's canonical content). A BEFORE INSERT trigger assigns both from the org's row in
 *   `audit_chain_heads`, which it updates (and so locks until the inserting transaction ends): two
 *   writers of one org — two transactions, two app instances, or the rows of one group-committed INSERT —
 *   take the head one after the other, so the chain has one order, which is also the commit order.
 * - `created_at` is the time the row took its place in the chain (clock_timestamp() under the head's
 *   lock), so within an org it grows with `chain_seq`, and a time range maps onto a range of the chain.
 * - Signed checkpoints (`audit_checkpoints`) pin (org, seq, hash) with an HMAC under a key that the
 *   KeyProvider wraps (`audit_signing_keys`); a retention checkpoint marks where the kept chain restarts.
 * - Indexes for keyset paging by `chain_seq` and for each filter of GET /v1/audit/:orgId.
 */
export class AuditChain1764830000000 implements MigrationInterface {
  name = 'AuditChain1764830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_events ADD COLUMN chain_seq bigint, ADD COLUMN hash bytea;

      CREATE TABLE audit_chain_heads (
        org_id uuid PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
        seq    bigint NOT NULL,
        hash   bytea NOT NULL
      );

      -- What a row's hash covers, in one canonical text: every column but the chain's own (jsonb's text
      -- form is canonical; the time is in microseconds since the epoch, independent of the session's zone).
      CREATE FUNCTION audit_event_content(e audit_events) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT jsonb_build_array(
            e.id, e.org_id, (extract(epoch FROM e.created_at) * 1000000)::bigint, e.action,
            e.actor_user_id, e.actor_token_id, e.ip, e.user_agent, e.request_id, e.metadata
          )::text
        $$;

      -- Links each row of an org to the org's head. The head row is locked at the transaction's first row
      -- of the org (FOR UPDATE, held until commit: the next writer of the org waits there, so positions
      -- follow commit order), and written back once per org and statement, not once per row: a run of rows
      -- of one org carries the head in a transaction-local setting ('org|seq|hash'), because updating one
      -- row again and again in one transaction makes every later read of it walk all its versions.
      CREATE FUNCTION audit_events_link() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          cached text := current_setting('secr_audit.head', true);
          head_seq bigint;
          head_hash bytea;
        BEGIN
          IF NEW.org_id IS NULL THEN
            RETURN NEW;
          END IF;
          IF cached LIKE NEW.org_id::text || '|%' THEN
            head_seq := split_part(cached, '|', 2)::bigint;
            head_hash := decode(split_part(cached, '|', 3), 'hex');
          ELSE
            PERFORM audit_chain_heads_flush();
            SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_heads WHERE org_id = NEW.org_id FOR UPDATE;
            IF NOT FOUND THEN
              INSERT INTO audit_chain_heads (org_id, seq, hash) VALUES (NEW.org_id, 0, '\\x') ON CONFLICT (org_id) DO NOTHING;
              SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_heads WHERE org_id = NEW.org_id FOR UPDATE;
            END IF;
          END IF;
          NEW.chain_seq := head_seq + 1;
          NEW.created_at := clock_timestamp();
          NEW.hash := sha256(head_hash || convert_to(audit_event_content(NEW), 'UTF8'));
          PERFORM set_config('secr_audit.head', NEW.org_id::text || '|' || NEW.chain_seq || '|' || encode(NEW.hash, 'hex'), true);
          RETURN NEW;
        END
      $$;

      -- Writes the carried head back to its row (locked by this transaction) and forgets it.
      CREATE FUNCTION audit_chain_heads_flush() RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
          cached text := current_setting('secr_audit.head', true);
        BEGIN
          IF cached IS NULL OR cached = '' THEN
            RETURN;
          END IF;
          UPDATE audit_chain_heads SET seq = split_part(cached, '|', 2)::bigint, hash = decode(split_part(cached, '|', 3), 'hex')
           WHERE org_id = split_part(cached, '|', 1)::uuid;
          PERFORM set_config('secr_audit.head', '', true);
        END
      $$;

      CREATE FUNCTION audit_events_linked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM audit_chain_heads_flush();
          RETURN NULL;
        END
      $$;

      CREATE TABLE audit_signing_keys (
        id             int PRIMARY KEY,
        provider       text NOT NULL,
        master_key_id  text NOT NULL,
        wrapped        bytea NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE audit_checkpoints (
        org_id      uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        chain_seq   bigint NOT NULL,
        hash        bytea NOT NULL,
        kind        text NOT NULL CHECK (kind IN ('periodic', 'retention')),
        key_id      int NOT NULL REFERENCES audit_signing_keys(id),
        mac         bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, chain_seq)
      );

      -- An org's retention period in days; no row (or NULL) = the plan's (keep forever self-hosted).
      CREATE TABLE audit_retention (
        org_id uuid PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
        days   int CHECK (days > 0)
      );
    `);

    // Rows written before the chain existed get linked once, in id order per org.
    await q.query(`
      DO $$
        DECLARE r audit_events; prev bytea; last_org uuid; n bigint;
        BEGIN
          FOR r IN SELECT * FROM audit_events WHERE org_id IS NOT NULL ORDER BY org_id, id LOOP
            IF last_org IS DISTINCT FROM r.org_id THEN prev := '\\x'; n := 0; last_org := r.org_id; END IF;
            n := n + 1;
            prev := sha256(prev || convert_to(audit_event_content(r), 'UTF8'));
            UPDATE audit_events SET chain_seq = n, hash = prev WHERE id = r.id;
            INSERT INTO audit_chain_heads (org_id, seq, hash) VALUES (r.org_id, n, prev)
              ON CONFLICT (org_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
          END LOOP;
        END
      $$;
    `);

    await q.query(`
      CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_link();
      CREATE TRIGGER audit_events_linked AFTER INSERT ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_linked();
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_chained CHECK ((org_id IS NULL) = (chain_seq IS NULL) AND (chain_seq IS NULL) = (hash IS NULL));

      DROP INDEX audit_events_org_idx;
      DROP INDEX audit_events_org_action_idx;
      CREATE UNIQUE INDEX audit_events_chain_idx ON audit_events (org_id, chain_seq);
      CREATE INDEX audit_events_org_time_idx ON audit_events (org_id, created_at, chain_seq);
      CREATE INDEX audit_events_org_action_idx ON audit_events (org_id, action, chain_seq);
      CREATE INDEX audit_events_org_actor_idx ON audit_events (org_id, actor_user_id, chain_seq) WHERE actor_user_id IS NOT NULL;
      CREATE INDEX audit_events_org_project_idx ON audit_events (org_id, (metadata->>'projectId'), chain_seq) WHERE metadata ? 'projectId';
      CREATE INDEX audit_events_org_env_idx ON audit_events (org_id, (metadata->>'environmentId'), chain_seq) WHERE metadata ? 'environmentId';
      CREATE INDEX audit_events_org_key_idx ON audit_events (org_id, (metadata->>'key'), chain_seq) WHERE metadata ? 'key';
      CREATE INDEX audit_events_org_keys_idx ON audit_events USING gin ((metadata->'keys') jsonb_path_ops) WHERE metadata ? 'keys';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX audit_events_chain_idx, audit_events_org_time_idx, audit_events_org_action_idx, audit_events_org_actor_idx,
        audit_events_org_project_idx, audit_events_org_env_idx, audit_events_org_key_idx, audit_events_org_keys_idx;
      CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at DESC, id DESC);
      CREATE INDEX audit_events_org_action_idx ON audit_events (org_id, action, created_at DESC);
      DROP TRIGGER audit_events_link ON audit_events;
      DROP TRIGGER audit_events_linked ON audit_events;
      DROP FUNCTION audit_events_link(), audit_events_linked(), audit_chain_heads_flush();
      DROP TABLE audit_retention, audit_checkpoints, audit_signing_keys, audit_chain_heads;
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_chained, DROP COLUMN chain_seq, DROP COLUMN hash;
      DROP FUNCTION audit_event_content(audit_events);
    `);
  }
}
