#!/usr/bin/env node
/**
 * `npm run bench:pull:cpu` — the work one pull costs, in CPU time rather than seconds of wall clock, so
 * that two builds can be compared on a loaded machine (requests/s there measures the neighbours too).
 *
 * Starts the server as `bench:pull` does (bench-server.mjs), seeds 50 secrets, warms up, then sends
 * BENCH_REQUESTS pulls (20,000) from BENCH_CONNECTIONS (32) connections, BENCH_ROUNDS times (3), and
 * prints per round the CPU microseconds per pull of the server process (all its threads, GC included)
 * and of PostgreSQL (postmaster and backends), read from /proc.
 */
import autocannon from 'autocannon';
import { api, cpuMs, postgresCpuMs, seedBenchProject, startBenchServer } from './bench-server.mjs';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP_REQUESTS ?? 10000);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);
const nodeArgs = ['--max-semi-space-size=16', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const { base, server, database, stop } = await startBenchServer({ name: 'bench-cpu', nodeArgs, env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } });
try {
  const { org, token } = await seedBenchProject(base, SECRETS);
  const url = `${base}/v1/secrets/${org.slug}/bench/production`;
  const check = await api(base, 'GET', `/v1/secrets/${org.slug}/bench/production`, { token });
  if (check.json.secrets.length !== SECRETS) throw new Error('the project does not hold the seeded secrets');
  const load = (amount) => autocannon({ url, connections: CONNECTIONS, amount, headers: { authorization: `Bearer ${token}` } });
  await load(WARMUP);
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const s0 = cpuMs(server.pid);
    const p0 = postgresCpuMs(database.pid);
    const result = await load(REQUESTS);
    if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
    const n = result['2xx'];
    rounds.push({ server: ((cpuMs(server.pid) - s0) * 1000) / n, postgres: ((postgresCpuMs(database.pid) - p0) * 1000) / n });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nsecr bench:pull:cpu — ${SECRETS} secrets per pull, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${REQUESTS} pulls`);
  for (const [i, r] of rounds.entries())
    console.log(`  round ${i + 1}     server ${r.server.toFixed(0)} µs/pull   PostgreSQL ${r.postgres.toFixed(0)} µs/pull`);
  console.log(
    `  median      server ${median(rounds.map((r) => r.server)).toFixed(0)} µs/pull   PostgreSQL ${median(rounds.map((r) => r.postgres)).toFixed(0)} µs/pull\n`,
  );
} finally {
  await stop();
}
