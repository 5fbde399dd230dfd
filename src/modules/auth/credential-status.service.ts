import { Injectable } from '@nestjs/common';
import { PreparedSql } from '../../database/prepared-sql.js';

/**
 * Whether credentials that were valid are still valid (not revoked, not expired): for long-lived
 * requests (the change stream), which are authenticated once and then checked again periodically,
 * all open ones in one statement.
 */
@Injectable()
export class CredentialStatus {
  constructor(private readonly sql: PreparedSql) {}

  /** The ids among `tokenIds` and `sessionIds` that are still live. */
  async live(tokenIds: readonly string[], sessionIds: readonly string[]): Promise<Set<string>> {
    const rows = await this.sql.query<{ id: string }>(
      'credentials-live',
      `SELECT id FROM api_tokens WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL AND expires_at > now()
       UNION ALL
       SELECT id FROM sessions WHERE id = ANY($2::uuid[]) AND revoked_at IS NULL AND expires_at > now()`,
      [tokenIds, sessionIds],
    );
    return new Set(rows.map((r) => r.id));
  }
}
