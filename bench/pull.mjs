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
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dist/src/database/embedded-postgres.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

async function api(base, method, route, { body, token, cookie } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) Object.assign(headers, { cookie, 'x-requested-with': 'secr' });
  const res = await fetch(base + route, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return { json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function rssKiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-bench-'));
const database = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'secr_bench' });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// The server runs with the V8 flags of `npm start` (package.json) and the Dockerfile.
const nodeArgs = ['--max-semi-space-size=16', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const server = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
  env: {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    SESSION_SECRET: randomBytes(32).toString('base64'),
    SECR_MASTER_KEY: randomBytes(32).toString('base64'),
    // Required in production; the benchmark sends no mail.
    SMTP_URL: 'smtp://127.0.0.1:9',
    PUBLIC_URL: base,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...Object.fromEntries(['DECRYPT_WORKERS', 'DATABASE_POOL_SIZE'].filter((name) => process.env[name]).map((name) => [name, process.env[name]])),
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});

try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }

  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  await api(base, 'POST', '/v1/auth/register', { body: { email, password: 'benchmark password', name: 'Bench' } });
  const signedIn = await api(base, 'POST', '/v1/auth/login', { body: { email, password: 'benchmark password' } });
  const cookie = signedIn.headers.getSetCookie()[0].split(';')[0];
  const org = (await api(base, 'GET', '/v1/auth/me', { cookie })).json.orgs[0];
  await api(base, 'POST', `/v1/projects/${org.id}`, { cookie, body: { name: 'bench', slug: 'bench' } });
  const secrets = Array.from({ length: SECRETS }, (_, i) => ({
    key: `SECRET_${String(i).padStart(2, '0')}`,
    value: `value-${i}-${randomBytes(24).toString('base64')}`,
  }));
  await api(base, 'POST', `/v1/secrets/${org.slug}/bench/production/bulk`, { cookie, body: { secrets } });
  const { token } = (await api(base, 'POST', '/v1/auth/token', { cookie, body: { name: 'bench', access: 'read', orgId: org.id } })).json;
  const url = `${base}/v1/secrets/${org.slug}/bench/production`;
  const check = await api(base, 'GET', `/v1/secrets/${org.slug}/bench/production`, { token });
  if (check.json.secrets.length !== SECRETS) throw new Error('the project does not hold the seeded secrets');

  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
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
  console.log(`  peak RSS     ${(peakRss / 1024).toFixed(0)} MB (server process, warm-up included)`);
  // autocannon does not count responses still in flight when it stops, so rows can exceed its count.
  console.log(`  audit rows   ${audited} secret.read rows written during the run (autocannon counted ${ok} pulls)`);
  const targets = result.requests.average >= 1000 && result.latency.p99 < 50 && peakRss / 1024 < 300;
  console.log(`  targets      ≥ 1000 req/s, p99 < 50 ms, RSS < 300 MB: ${targets ? 'met' : 'NOT met'}\n`);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
}
