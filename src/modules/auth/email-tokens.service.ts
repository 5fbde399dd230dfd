import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { sha256 } from '../../common/crypto/hash.js';
import { randomBase62 } from '../../common/crypto/random.js';

export type EmailTokenPurpose = 'verify_email' | 'reset_password';

/** How long a mailed link works. */
export const EMAIL_TOKEN_TTL_HOURS: Readonly<Record<EmailTokenPurpose, number>> = { verify_email: 24, reset_password: 1 };

export interface EmailTokenHolder {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
}

/**
 * Single-use tokens that go out in mail: 32 random bytes (base62), stored only as SHA-256, with an
 * expiry per purpose, bound to the address they were mailed to.
 */
@Injectable()
export class EmailTokens {
  /** A new token for `user`; the caller mails it, in the same transaction. */
  async issue(em: EntityManager, user: { id: string; email: string }, purpose: EmailTokenPurpose): Promise<string> {
    const token = randomBase62();
    await em.query(
      `INSERT INTO email_tokens (user_id, purpose, email, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))`,
      [user.id, purpose, user.email, sha256(token), EMAIL_TOKEN_TTL_HOURS[purpose]],
    );
    return token;
  }

  /**
   * Uses up `token`: its holder when it is valid for `purpose` (known, unused, unexpired, and the
   * account still has the address it was mailed to), else `null`. Every other open token of the same
   * purpose is used up with it, so an older link cannot be used afterwards. The row lock makes two
   * concurrent uses of one token succeed at most once.
   */
  async consume(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<EmailTokenHolder | null> {
    const [row]: Array<{ user_id: string; email: string; name: string }> = await em.query(
      `SELECT t.user_id, u.email, u.name
         FROM email_tokens t JOIN users u ON u.id = t.user_id AND u.email = t.email
        WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
          FOR UPDATE OF t`,
      [sha256(token), purpose],
    );
    if (!row) return null;
    await this.voidOpen(em, row.user_id, purpose);
    return { userId: row.user_id, email: row.email, name: row.name };
  }

  /** Makes every unused token of `purpose` for the user unusable. */
  async voidOpen(em: EntityManager, userId: string, purpose: EmailTokenPurpose): Promise<void> {
    await em.query(`UPDATE email_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, [userId, purpose]);
  }
}
