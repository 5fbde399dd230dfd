import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stripe may deliver events out of order: each org remembers when the newest event applied to its
 * billing state was created, and older ones no longer change it.
 */
export class BillingEventOrder1764600000000 implements MigrationInterface {
  name = 'BillingEventOrder1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orgs ADD COLUMN stripe_event_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orgs DROP COLUMN stripe_event_at');
  }
}
