import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Single-use tokens mailed to a user: address verification and password reset. */
export class EmailTokens1764200000000 implements MigrationInterface {
  name = 'EmailTokens1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_tokens (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
        -- The address the link was mailed to: the token is void once the account's address differs.
        email       text NOT NULL CHECK (email = lower(email)),
        -- SHA-256 of the token; the token itself is only in the mail.
        token_hash  bytea NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz
      );
      CREATE INDEX email_tokens_open_idx ON email_tokens (user_id, purpose) WHERE used_at IS NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE email_tokens');
  }
}
