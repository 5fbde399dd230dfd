import type pg from 'pg';
import type { HttpClient } from '../support/http.js';
import { sha256 } from '../../src/common/crypto/hash.js';
import { randomBase62 } from '../../src/common/crypto/random.js';
import type { EmailTokenPurpose } from '../../src/modules/auth/email-tokens.service.js';

/**
 * A valid mailed-link token for `userId`, written straight to the database: for tests that need the
 * token but not the mail (the role matrix). Tests of the mail itself read it from a delivered message.
 */
export async function issueEmailToken(db: pg.Pool, userId: string, purpose: EmailTokenPurpose): Promise<string> {
  const token = randomBase62();
  await db.query(
    `INSERT INTO email_tokens (user_id, purpose, email, token_hash, expires_at)
     SELECT id, $2, email, $3, now() + interval '1 hour' FROM users WHERE id = $1`,
    [userId, purpose, sha256(token)],
  );
  return token;
}

/** Verifies `userId`'s address through the real route, with a token issued as above. */
export async function verifyEmail(api: HttpClient, db: pg.Pool, userId: string): Promise<void> {
  const token = await issueEmailToken(db, userId, 'verify_email');
  const res = await api.post('/v1/auth/verify-email', { token });
  if (res.status !== 204) throw new Error(`verify-email failed: ${res.status} ${res.text}`);
}
