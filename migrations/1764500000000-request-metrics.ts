import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Request metrics: per-minute aggregates, one row per (minute, method, route) per instance flush. */
export class RequestMetrics1764500000000 implements MigrationInterface {
  name = 'RequestMetrics1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE request_metrics (
        id             bigserial PRIMARY KEY,
        minute         timestamptz NOT NULL,
        method         text NOT NULL,
        route          text NOT NULL,
        count          int NOT NULL,
        errors         int NOT NULL,
        client_errors  int NOT NULL,
        -- Latency bucket → requests; bucket i holds durations up to 2^(i/4) ms.
        histogram      jsonb NOT NULL
      );
      CREATE INDEX request_metrics_minute ON request_metrics (minute);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE request_metrics');
  }
}
