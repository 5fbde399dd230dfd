import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts, sessions, API tokens, orgs, members, invites, the audit log and rate-limit counters. */
export class Foundation1763800000000 implements MigrationInterface {
  name = 'Foundation1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email             text NOT NULL UNIQUE CHECK (email = lower(email)),
        name              text NOT NULL,
        password_hash     text NOT NULL,
        email_verified_at timestamptz,
        is_admin          boolean NOT NULL DEFAULT false,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE orgs (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        slug       text NOT NULL UNIQUE,
        name       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE memberships (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id     uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role       text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (org_id, user_id)
      );
      CREATE INDEX memberships_user_idx ON memberships (user_id);

      CREATE TABLE sessions (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        ip         text,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id);

      CREATE TABLE api_tokens (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name         text NOT NULL,
        kind         text NOT NULL CHECK (kind IN ('api', 'cli')),
        token_hash   bytea NOT NULL UNIQUE,
        hint         text NOT NULL,
        org_id       uuid REFERENCES orgs(id) ON DELETE CASCADE,
        access       text NOT NULL CHECK (access IN ('read', 'read_write')),
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at   timestamptz
      );
      CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

      CREATE TABLE org_invites (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id      uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        email       text NOT NULL CHECK (email = lower(email)),
        role        text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
        token_hash  bytea NOT NULL UNIQUE,
        invited_by  uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        accepted_at timestamptz,
        accepted_by uuid REFERENCES users(id) ON DELETE SET NULL,
        revoked_at  timestamptz
      );
      CREATE INDEX org_invites_org_idx ON org_invites (org_id);
      -- At most one open invite per address and org: re-inviting replaces it.
      CREATE UNIQUE INDEX org_invites_open_idx ON org_invites (org_id, email)
        WHERE accepted_at IS NULL AND revoked_at IS NULL;

      -- Append-only; never holds a secret value, password or token (DESIGN.md §5).
      CREATE TABLE audit_events (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        created_at     timestamptz NOT NULL DEFAULT now(),
        action         text NOT NULL,
        org_id         uuid REFERENCES orgs(id) ON DELETE CASCADE,
        actor_user_id  uuid,
        actor_token_id uuid,
        ip             text,
        user_agent     text,
        request_id     text,
        metadata       jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at DESC, id DESC);
      CREATE INDEX audit_events_org_action_idx ON audit_events (org_id, action, created_at DESC);

      -- Shared by every app instance: rate-limit windows and login-failure lockouts.
      CREATE TABLE rate_limit_buckets (
        key      text PRIMARY KEY,
        count    integer NOT NULL,
        reset_at timestamptz NOT NULL
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE rate_limit_buckets, audit_events, org_invites, api_tokens, sessions, memberships, orgs, users;
    `);
  }
}
