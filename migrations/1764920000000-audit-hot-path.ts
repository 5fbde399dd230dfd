import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21: the audit log's cost on the pull path, and the `key` filter.
 *
 * Linking a group commit in one call. `audit_insert_linked` takes the rows of one group-committed INSERT
 * (AuditService's pull rows) and links them in a loop, taking each org's head once (FOR UPDATE, orgs in
 * order, as the trigger does) and writing it back once, then inserts them already linked; the link
 * trigger runs only for rows that arrive without a position (WHEN (NEW.chain_seq IS NULL)): every other
 * insert. Per row this saves the trigger's call and the head carried through a transaction-local setting
 * (set_config per row); what a row's hash covers (`audit_event_content`) and the lock order are unchanged.
 *
 * Point 1: the `key` filter of GET /v1/audit/:orgId served in chain order. The GIN index over
 * bulk events' key lists (and the expression index over `metadata->>'key'`) answered "which rows name this
 * key" without an order, so a page of 50 sorted all of a key's rows first (87 ms at 10 M rows).
 *
 * `audit_event_keys` holds one (org, key, position) entry per key an audit row names (`metadata.key`, or each
 * of `metadata.keys`), filled by an AFTER INSERT trigger whose WHEN clause passes over rows that name no key
 * (every pull without `keys`: they pay one jsonb test, no call and no index entry). Entries follow their row:
 * deleted with it (retention, org deletion) and moved with it (ON DELETE / ON UPDATE CASCADE).
 */
export class AuditHotPath1764920000000 implements MigrationInterface {
  name = 'AuditHotPath1764920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_event_keys (
        org_id     uuid NOT NULL,
        key        text NOT NULL,
        chain_seq  bigint NOT NULL,
        PRIMARY KEY (org_id, key, chain_seq),
        FOREIGN KEY (org_id, chain_seq) REFERENCES audit_events (org_id, chain_seq) ON DELETE CASCADE ON UPDATE CASCADE
      );
      -- For the cascades: a deleted or moved row finds its entries.
      CREATE INDEX audit_event_keys_row_idx ON audit_event_keys (org_id, chain_seq);

      CREATE FUNCTION audit_event_key_names(metadata jsonb) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT metadata->>'key' WHERE jsonb_typeof(metadata->'key') = 'string'
          UNION
          SELECT e #>> '{}' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(metadata->'keys') = 'array' THEN metadata->'keys' ELSE '[]' END) e
           WHERE jsonb_typeof(e) = 'string'
        $$;

      CREATE FUNCTION audit_events_index_keys() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO audit_event_keys (org_id, key, chain_seq)
            SELECT NEW.org_id, k, NEW.chain_seq FROM audit_event_key_names(NEW.metadata) k
            ON CONFLICT DO NOTHING;
          RETURN NULL;
        END
      $$;

      INSERT INTO audit_event_keys (org_id, key, chain_seq)
        SELECT a.org_id, k, a.chain_seq FROM audit_events a, audit_event_key_names(a.metadata) k
         WHERE a.org_id IS NOT NULL AND a.chain_seq IS NOT NULL AND (a.metadata ? 'key' OR a.metadata ? 'keys')
        ON CONFLICT DO NOTHING;

      CREATE TRIGGER audit_events_index_keys AFTER INSERT ON audit_events FOR EACH ROW
        WHEN (NEW.chain_seq IS NOT NULL AND (NEW.metadata ? 'key' OR NEW.metadata ? 'keys'))
        EXECUTE FUNCTION audit_events_index_keys();

      DROP INDEX audit_events_org_key_idx, audit_events_org_keys_idx;

      DROP TRIGGER audit_events_link ON audit_events;
      CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.chain_seq IS NULL) EXECUTE FUNCTION audit_events_link();

      -- The rows of one group commit (columns as arrays), linked and inserted in the order given, which must
      -- be by org (nulls first): the heads are then locked in one order by every caller. No head is carried
      -- in the setting here (the link trigger writes its own back at the end of each statement).
      -- @see AuditRepository.insertMany
      CREATE FUNCTION audit_insert_linked(a text[], o uuid[], u uuid[], t uuid[], i text[], ua text[], r text[], m jsonb[]) RETURNS void
        LANGUAGE plpgsql AS $$
          DECLARE
            rows audit_events[] := '{}';
            e audit_events;
            head_org uuid;
            head_seq bigint;
            head_hash bytea;
          BEGIN
            FOR j IN 1 .. cardinality(a) LOOP
              e := ROW(nextval('audit_events_id_seq'), now(), a[j], o[j], u[j], t[j], i[j], ua[j], r[j], COALESCE(m[j], '{}'), NULL, NULL);
              IF e.org_id IS NOT NULL THEN
                IF e.org_id IS DISTINCT FROM head_org THEN
                  IF head_org IS NOT NULL THEN
                    UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash WHERE org_id = head_org;
                  END IF;
                  head_org := e.org_id;
                  SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.org_id = head_org FOR UPDATE;
                  IF NOT FOUND THEN
                    INSERT INTO audit_chain_heads (org_id, seq, hash) VALUES (head_org, 0, '\\x') ON CONFLICT (org_id) DO NOTHING;
                    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_heads h WHERE h.org_id = head_org FOR UPDATE;
                  END IF;
                END IF;
                head_seq := head_seq + 1;
                e.created_at := clock_timestamp();
                head_hash := sha256(head_hash || convert_to(audit_event_content(e), 'UTF8'));
                e.chain_seq := head_seq;
                e.hash := head_hash;
              END IF;
              rows := rows || e;
            END LOOP;
            IF head_org IS NOT NULL THEN
              UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash WHERE org_id = head_org;
            END IF;
            INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM unnest(rows);
          END
        $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX audit_events_org_key_idx ON audit_events (org_id, (metadata->>'key'), chain_seq) WHERE metadata ? 'key';
      CREATE INDEX audit_events_org_keys_idx ON audit_events USING gin ((metadata->'keys') jsonb_path_ops) WHERE metadata ? 'keys';
      DROP FUNCTION audit_insert_linked(text[], uuid[], uuid[], uuid[], text[], text[], text[], jsonb[]);
      DROP TRIGGER audit_events_link ON audit_events;
      CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_link();
      DROP TRIGGER audit_events_index_keys ON audit_events;
      DROP FUNCTION audit_events_index_keys(), audit_event_key_names(jsonb);
      DROP TABLE audit_event_keys;
    `);
  }
}
