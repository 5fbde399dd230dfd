import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21 point 2: what the hash chain costs the group commit of pull rows (`audit_insert_linked`).
 *
 * - `audit_event_content` was declared IMMUTABLE, but its body is only STABLE (`extract` from a timestamptz),
 *   so PostgreSQL never inlined it: every row's hash went through a SQL-function call of its own (an executor
 *   set up and torn down per row: 3.6 of the 8.9 µs per row that the content took in a SELECT over 100,000
 *   rows). Declared STABLE, it is inlined into the expression that hashes the row. Its body, and so what
 *   every hash covers, is unchanged: rows linked before still verify.
 * - The chain's statement trigger (`audit_events_linked`, which writes back the head that the per-row link
 *   trigger carried through the statement) called two plpgsql functions after every INSERT, the group
 *   commit's too, although only the per-row trigger leaves a head to write back. Its WHEN now asks whether
 *   one was left (the transaction-local setting is set), so a statement of rows that arrive linked pays
 *   one setting lookup instead.
 */
export class AuditLinkCost1764950000000 implements MigrationInterface {
  name = 'AuditLinkCost1764950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION audit_event_content(audit_events) STABLE;
      DROP TRIGGER audit_events_linked ON audit_events;
      CREATE TRIGGER audit_events_linked AFTER INSERT ON audit_events FOR EACH STATEMENT
        WHEN (current_setting('secr_audit.head', true) <> '')
        EXECUTE FUNCTION audit_events_linked();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER audit_events_linked ON audit_events;
      CREATE TRIGGER audit_events_linked AFTER INSERT ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_linked();
      ALTER FUNCTION audit_event_content(audit_events) IMMUTABLE;
    `);
  }
}
