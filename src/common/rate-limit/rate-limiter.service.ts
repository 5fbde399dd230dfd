import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RateLimitRule } from '../../config/config.js';

export interface RateLimitState {
  count: number;
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters in PostgreSQL, so every app instance sees the same counts (DESIGN.md §3).
 * One statement per hit: an upsert that starts a new window when the old one has run out.
 */
@Injectable()
export class RateLimiter {
  constructor(private readonly db: DataSource) {}

  /** Counts one hit against `key` and returns the count in the current window. */
  async hit(key: string, rule: RateLimitRule): Promise<RateLimitState> {
    const [row] = await this.db.query(
      `INSERT INTO rate_limit_buckets AS b (key, count, reset_at)
       VALUES ($1, 1, now() + make_interval(secs => $2))
       ON CONFLICT (key) DO UPDATE SET
         count    = CASE WHEN b.reset_at <= now() THEN 1 ELSE b.count + 1 END,
         reset_at = CASE WHEN b.reset_at <= now() THEN now() + make_interval(secs => $2) ELSE b.reset_at END
       RETURNING count, extract(epoch FROM reset_at - now())::float8 AS retry_after`,
      [key, rule.windowSeconds],
    );
    return { count: row.count, retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after)) };
  }

  /**
   * Counts a failure; when the count reaches `limit` the key is locked for `lockSeconds` from now.
   * Returns the count with this failure and the seconds until the window (or the lock) runs out.
   */
  async recordFailure(key: string, limit: number, lockSeconds: number): Promise<RateLimitState> {
    const [row] = await this.db.query(
      `INSERT INTO rate_limit_buckets AS b (key, count, reset_at)
       VALUES ($1, 1, now() + make_interval(secs => $3))
       ON CONFLICT (key) DO UPDATE SET
         count    = CASE WHEN b.reset_at <= now() THEN 1 ELSE b.count + 1 END,
         reset_at = CASE WHEN b.reset_at <= now() OR b.count + 1 >= $2 THEN now() + make_interval(secs => $3)
                         ELSE b.reset_at END
       RETURNING count, extract(epoch FROM reset_at - now())::float8 AS retry_after`,
      [key, limit, lockSeconds],
    );
    return { count: row.count, retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after)) };
  }

  /** Seconds until `key` may be used again, or 0 when it is under `limit`. */
  async lockedFor(key: string, limit: number): Promise<number> {
    const [row] = await this.db.query(
      `SELECT extract(epoch FROM reset_at - now())::float8 AS retry_after
         FROM rate_limit_buckets WHERE key = $1 AND count >= $2 AND reset_at > now()`,
      [key, limit],
    );
    return row ? Math.max(1, Math.ceil(row.retry_after)) : 0;
  }

  async reset(key: string): Promise<void> {
    await this.db.query('DELETE FROM rate_limit_buckets WHERE key = $1', [key]);
  }

  /**
   * Deletes at most `limit` buckets whose window (or lock) has run out, and returns how many. An expired
   * row counts as no row (the next hit starts a new window), so deleting one changes no answer. Rows a
   * hit holds are skipped (left to a later batch), and one that a hit renewed meanwhile is kept.
   */
  async deleteExpired(limit: number): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query(
      `WITH expired AS (
         SELECT key FROM rate_limit_buckets WHERE reset_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED),
       gone AS (
         DELETE FROM rate_limit_buckets b USING expired WHERE b.key = expired.key AND b.reset_at <= now() RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [limit],
    );
    return row.n;
  }
}
