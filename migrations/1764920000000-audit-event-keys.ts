import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21, point 1: the `key` filter of GET /v1/audit/:orgId served in chain order. The GIN index over
 * bulk events' key lists (and the expression index over `metadata->>'key'`) answered "which rows name this
 * key" without an order, so a page of 50 sorted all of a key's rows first (87 ms at 10 M rows).
 *
 * `audit_event_keys` holds one (org, key, position) entry per key an audit row names (`metadata.key`, or each
 * of `metadata.keys`), filled by an AFTER INSERT trigger whose WHEN clause passes over rows that name no key
 * (every pull without `keys`: they pay one jsonb test, no call and no index entry). Entries follow their row:
 * deleted with it (retention, org deletion) and moved with it (ON DELETE / ON UPDATE CASCADE).
 */
export class AuditEventKeys1764920000000 implements MigrationInterface {
  name = 'AuditEventKeys1764920000000';

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
        WHEN (NEW.org_id IS NOT NULL AND (NEW.metadata ? 'key' OR NEW.metadata ? 'keys'))
        EXECUTE FUNCTION audit_events_index_keys();

      DROP INDEX audit_events_org_key_idx, audit_events_org_keys_idx;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX audit_events_org_key_idx ON audit_events (org_id, (metadata->>'key'), chain_seq) WHERE metadata ? 'key';
      CREATE INDEX audit_events_org_keys_idx ON audit_events USING gin ((metadata->'keys') jsonb_path_ops) WHERE metadata ? 'keys';
      DROP TRIGGER audit_events_index_keys ON audit_events;
      DROP FUNCTION audit_events_index_keys(), audit_event_key_names(jsonb);
      DROP TABLE audit_event_keys;
    `);
  }
}
