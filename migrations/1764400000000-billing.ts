import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Stripe billing: one customer per org, its subscription state, and the webhook events already applied. */
export class Billing1764400000000 implements MigrationInterface {
  name = 'Billing1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orgs
        ADD COLUMN stripe_customer_id text UNIQUE,
        ADD COLUMN stripe_subscription_id text,
        ADD COLUMN subscription_status text,
        ADD COLUMN current_period_end timestamptz;
      -- A Stripe event id is applied once: a replayed or re-delivered event changes nothing.
      CREATE TABLE stripe_events (
        id            text PRIMARY KEY,
        type          text NOT NULL,
        processed_at  timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stripe_events;
      ALTER TABLE orgs DROP COLUMN current_period_end, DROP COLUMN subscription_status, DROP COLUMN stripe_subscription_id, DROP COLUMN stripe_customer_id`);
  }
}
