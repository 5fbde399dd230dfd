import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stripe may deliver events out of order: each org remembers when the newest event applied to its
 * billing state was created (older ones no longer change it), and when its current subscription was
 * created (an older subscription no longer takes over).
 */
export class BillingEventOrder1764600000000 implements MigrationInterface {
  name = 'BillingEventOrder1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orgs ADD COLUMN stripe_event_at timestamptz, ADD COLUMN stripe_subscription_created_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orgs DROP COLUMN stripe_event_at, DROP COLUMN stripe_subscription_created_at');
  }
}
