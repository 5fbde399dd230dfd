import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-ins of the CLI through the browser (issue 14): the CLI starts a request and polls it with a
 * device code (stored as its SHA-256 only); a signed-in person approves it in the dashboard by its short
 * user code. A token is minted at the first poll after the approval, and only then.
 */
export class CliLoginRequests1764720000000 implements MigrationInterface {
  name = 'CliLoginRequests1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cli_login_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        device_code_hash bytea NOT NULL UNIQUE,
        user_code text NOT NULL,
        hostname text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'delivered')),
        user_id uuid REFERENCES users (id) ON DELETE CASCADE,
        token_id uuid REFERENCES api_tokens (id) ON DELETE SET NULL,
        ip text NOT NULL,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        last_polled_at timestamptz
      )`);
    // A user code names one request while that request can still be decided.
    await q.query(`CREATE UNIQUE INDEX cli_login_requests_pending_code_idx ON cli_login_requests (user_code) WHERE status = 'pending'`);
    await q.query('CREATE INDEX cli_login_requests_expires_idx ON cli_login_requests (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE cli_login_requests');
  }
}
