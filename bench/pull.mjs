#!/usr/bin/env node
/**
 * `npm run bench:pull` — the pull benchmark of the vault issue.
 *
 * Starts PostgreSQL (the embedded one, in a temp dir) and the built server in production mode, creates
 * a project with 50 secrets, then drives GET /v1/secrets/<org>/<project>/production with a bearer token
 * from 32 concurrent connections for 10 s (autocannon), after a warm-up of the same load that is not
 * measured (the server's first second runs on cold, not yet optimised code). Every pull decrypts 50
 * values and writes its audit row. Prints requests/s, latency p50/p99, errors and the server's peak RSS.
 *
 * Options (environment): BENCH_CONNECTIONS (32), BENCH_DURATION (10 s), BENCH_WARMUP (3 s; 0 for none),
 * BENCH_SECRETS (50), BENCH_NODE_ARGS (extra flags for the server's node, e.g. --cpu-prof); the server's
 * DECRYPT_WORKERS and DATABASE_POOL_SIZE are passed through when set, to compare settings.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { api, auditChainOff, seedBenchProject, startBenchServer } from './bench-server.mjs';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);

function rssKiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

// The server runs with the V8 flags of `npm start` (package.json) and the Dockerfile.
const nodeArgs = ['--max-semi-space-size=16', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const { base, server, database, stop } = await startBenchServer({
  name: 'bench',
  nodeArgs,
  env: {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...Object.fromEntries(['DECRYPT_WORKERS', 'DATABASE_POOL_SIZE'].filter((name) => process.env[name]).map((name) => [name, process.env[name]])),
  },
});

try {
  const { org, token } = await seedBenchProject(base, SECRETS);
  const url = `${base}/v1/secrets/${org.slug}/bench/production`;
  const check = await api(base, 'GET', `/v1/secrets/${org.slug}/bench/production`, { token });
  if (check.json.secrets.length !== SECRETS) throw new Error('the project does not hold the seeded secrets');

  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  // BENCH_AUDIT_CHAIN=off: audit rows are inserted without the hash chain (auditChainOff), for measuring
  // what the chain costs pulls, side by side with a run that has it.
  const chain = process.env.BENCH_AUDIT_CHAIN !== 'off';
  if (!chain) await auditChainOff(db);
  const auditedPulls = async () => (await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'secret.read'`)).rows[0].n;
  const load = (duration) => autocannon({ url, connections: CONNECTIONS, duration, headers: { authorization: `Bearer ${token}` } });

  let peakRss = rssKiB(server.pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKiB(server.pid))), 100);
  if (WARMUP > 0) await load(WARMUP);
  const auditedBefore = await auditedPulls();
  const result = await load(DURATION);
  clearInterval(sampler);
  const audited = (await auditedPulls()) - auditedBefore;
  await db.end();

  const ok = result['2xx'];
  console.log(
    `\nsecr bench:pull — ${SECRETS} secrets per pull, ${CONNECTIONS} connections, ${DURATION} s after ${WARMUP} s of warm-up, Node ${process.version}, ${os.cpus().length} cores`,
  );
  console.log(
    `  requests/s   ${result.requests.average.toFixed(0)}  (${ok} pulls answered 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`,
  );
  console.log(`  latency      p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   max ${result.latency.max} ms`);
  console.log(`  audit chain  ${chain ? 'on' : 'off (BENCH_AUDIT_CHAIN=off)'}`);
  console.log(`  peak RSS     ${(peakRss / 1024).toFixed(0)} MB (server process, warm-up included)`);
  // autocannon does not count responses still in flight when it stops, so rows can exceed its count.
  console.log(`  audit rows   ${audited} secret.read rows written during the run (autocannon counted ${ok} pulls)`);
  const targets = result.requests.average >= 1000 && result.latency.p99 < 50 && peakRss / 1024 < 300;
  console.log(`  targets      ≥ 1000 req/s, p99 < 50 ms, RSS < 300 MB: ${targets ? 'met' : 'NOT met'}\n`);
} finally {
  await stop();
}
