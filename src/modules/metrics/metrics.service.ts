import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { METRICS_MAX_HOURS } from './metrics.dto.js';

/** How often an instance writes what it has aggregated. */
export const METRICS_FLUSH_INTERVAL_MS = 15_000;

/** Rows older than the longest summary window (plus a day) are never read again: flushes delete them, hourly. */
const RETENTION_MS = (METRICS_MAX_HOURS + 24) * 3_600_000;
const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Latency buckets: bucket i holds durations up to 2^(i/4) ms (each ~19% wider than the last), so
 * percentiles are exact to within a bucket and histograms of several instances and minutes add up.
 */
const BUCKETS_PER_DOUBLING = 4;
const MAX_BUCKET = 100;
export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(MAX_BUCKET, Math.ceil(Math.log2(ms) * BUCKETS_PER_DOUBLING));
}
export function bucketUpperMs(bucket: number): number {
  return Math.round(2 ** (bucket / BUCKETS_PER_DOUBLING) * 100) / 100;
}

/** The smallest bucket bound under which `fraction` of the observations fall. */
export function percentileMs(histogram: ReadonlyMap<number, number>, fraction: number): number {
  const total = [...histogram.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = Math.ceil(total * fraction);
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return bucketUpperMs(MAX_BUCKET);
}

interface Aggregate {
  minute: Date;
  method: string;
  route: string;
  count: number;
  errors: number;
  clientErrors: number;
  histogram: Map<number, number>;
}

export interface MetricsRow {
  hour: string;
  method: string;
  route: string;
  count: number;
  errors: number;
  clientErrors: number;
  p50Ms: number;
  p95Ms: number;
}

/**
 * Request metrics: `record` only adds to an in-memory aggregate per (minute, method, route); a timer
 * writes the aggregates to `request_metrics` in the background, one row per key per flush. No request
 * waits on a query, and several instances simply add rows that the summary sums up.
 */
@Injectable()
export class MetricsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(MetricsService.name);
  private pending = new Map<string, Aggregate>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private prunedAt = 0;

  constructor(private readonly db: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), METRICS_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Called once per response (app.factory.ts); `route` is the route template, never the raw URL. */
  record(method: string, route: string, status: number, durationMs: number, now = Date.now()): void {
    const minute = now - (now % 60_000);
    const key = `${minute} ${method} ${route}`;
    let agg = this.pending.get(key);
    if (!agg) {
      agg = { minute: new Date(minute), method, route, count: 0, errors: 0, clientErrors: 0, histogram: new Map() };
      this.pending.set(key, agg);
    }
    agg.count++;
    if (status >= 500) agg.errors++;
    else if (status >= 400) agg.clientErrors++;
    const bucket = bucketOf(durationMs);
    agg.histogram.set(bucket, (agg.histogram.get(bucket) ?? 0) + 1);
  }

  /** Writes everything aggregated so far. Flushes never overlap; a failed one keeps nothing twice and loses only its batch. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      await this.pruneWhenDue();
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.db.query(
          `INSERT INTO request_metrics (minute, method, route, count, errors, client_errors, histogram)
           SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::jsonb[])`,
          [
            batch.map((a) => a.minute),
            batch.map((a) => a.method),
            batch.map((a) => a.route),
            batch.map((a) => a.count),
            batch.map((a) => a.errors),
            batch.map((a) => a.clientErrors),
            batch.map((a) => JSON.stringify(Object.fromEntries(a.histogram))),
          ],
        );
      } catch (err) {
        this.logger.warn({ err }, `Could not write ${batch.length} request metric rows`);
      }
    });
    return this.flushing;
  }

  private async pruneWhenDue(now = Date.now()): Promise<void> {
    if (now - this.prunedAt < PRUNE_INTERVAL_MS) return;
    this.prunedAt = now;
    try {
      await this.db.query('DELETE FROM request_metrics WHERE minute < $1', [new Date(now - RETENTION_MS)]);
    } catch (err) {
      this.logger.warn({ err }, 'Could not delete old request metrics');
    }
  }

  /** Per hour and route over the last `hours` hours, newest hour first. */
  async summary(hours: number): Promise<MetricsRow[]> {
    const since = new Date(Date.now() - hours * 3_600_000);
    const totals: Array<{ hour: Date; method: string; route: string; count: number; errors: number; client_errors: number }> = await this.db.query(
      `SELECT date_trunc('hour', minute) AS hour, method, route,
              sum(count)::int AS count, sum(errors)::int AS errors, sum(client_errors)::int AS client_errors
         FROM request_metrics WHERE minute >= date_trunc('hour', $1::timestamptz)
        GROUP BY 1, 2, 3`,
      [since],
    );
    const buckets: Array<{ hour: Date; method: string; route: string; bucket: number; n: number }> = await this.db.query(
      `SELECT date_trunc('hour', m.minute) AS hour, m.method, m.route, b.key::int AS bucket, sum(b.value::int)::int AS n
         FROM request_metrics m, jsonb_each_text(m.histogram) b
        WHERE m.minute >= date_trunc('hour', $1::timestamptz)
        GROUP BY 1, 2, 3, 4`,
      [since],
    );
    const key = (r: { hour: Date; method: string; route: string }) => `${r.hour.toISOString()} ${r.method} ${r.route}`;
    const histograms = new Map<string, Map<number, number>>();
    for (const b of buckets) {
      const k = key(b);
      if (!histograms.has(k)) histograms.set(k, new Map());
      histograms.get(k)!.set(b.bucket, b.n);
    }
    return totals
      .map((t) => {
        const histogram = histograms.get(key(t)) ?? new Map();
        return {
          hour: t.hour.toISOString(),
          method: t.method,
          route: t.route,
          count: t.count,
          errors: t.errors,
          clientErrors: t.client_errors,
          p50Ms: percentileMs(histogram, 0.5),
          p95Ms: percentileMs(histogram, 0.95),
        };
      })
      .sort((a, b) => b.hour.localeCompare(a.hour) || a.route.localeCompare(b.route) || a.method.localeCompare(b.method));
  }
}
