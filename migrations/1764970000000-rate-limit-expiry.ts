import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `rate_limit_buckets` grew without bound: a key (a client address, an email address, a trust
 * relationship) left its row behind for good once its window ran out. The pruner (RateLimitPruner)
 * deletes expired rows in batches; this index lets each batch find them without reading the live ones.
 */
export class RateLimitExpiry1764970000000 implements MigrationInterface {
  name = 'RateLimitExpiry1764970000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX rate_limit_buckets_reset_idx ON rate_limit_buckets (reset_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX rate_limit_buckets_reset_idx');
  }
}
