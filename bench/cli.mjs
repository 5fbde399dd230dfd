#!/usr/bin/env node
/**
 * `npm run bench:cli` — how fast `secr` starts, next to Node itself (issue 15: `secr run -- true` at
 * most 2.0× `node -e 0`, `secr --version` at most 1.5×).
 *
 * Starts PostgreSQL (the embedded one, in a temp dir) and the built server, creates a project with 50
 * secrets and a read token, then times, in one loop and in turn (so that the load of a shared machine
 * falls on all alike): `node -e 0`, `secr --version` and `secr run -- true` (which pulls the 50
 * secrets), each a fresh process on the same Node. Prints each median and its ratio to `node -e 0`.
 * Needs no hyperfine; with BENCH_HYPERFINE=1 and hyperfine installed, also runs `hyperfine -N`.
 *
 * Options (environment): BENCH_RUNS (30 per command), BENCH_SECRETS (50), BENCH_CLI_BASELINE (the
 * bin/run.js of another secr build, timed in the same loop, e.g. to compare before and after a change).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../dist/src/database/embedded-postgres.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);
const CLI = path.resolve('cli/bin/run.cjs');
const BASELINE = process.env.BENCH_CLI_BASELINE ? path.resolve(process.env.BENCH_CLI_BASELINE) : undefined;

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

/** Milliseconds from spawn to exit of one process; it must exit 0. */
function time(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-bench-cli-'));
const compileCache = path.join(dataDir, 'compile-cache');
const database = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port: await freePort(), database: 'secr_bench' });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(process.execPath, ['dist/src/main.js'], {
  env: {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    SESSION_SECRET: randomBytes(32).toString('base64'),
    SECR_MASTER_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: 'smtp://127.0.0.1:9', // required in production; nothing is mailed
    PUBLIC_URL: base,
    LOG_LEVEL: 'warn',
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

  // What a CI job has: a token and a target in the environment; a compile cache of its own, warmed below.
  const env = {
    PATH: process.env.PATH,
    HOME: dataDir,
    SECR_API_URL: base,
    SECR_TOKEN: token,
    SECR_ORG: org.slug,
    SECR_PROJECT: 'bench',
    SECR_ENV: 'production',
    NODE_COMPILE_CACHE: compileCache,
  };
  const runArgs = ['run', '--org', org.slug, '--project', 'bench', '--env', 'production', '--', 'true'];
  const cases = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'secr --version', args: [CLI, '--version'] },
    { name: 'secr run -- true', args: [CLI, ...runArgs] },
    // The same pull from a bare Node process: the server's share of `secr run`.
    {
      name: 'node: fetch the pull',
      args: [
        '-e',
        `const r = await fetch(${JSON.stringify(`${base}/v1/secrets/${org.slug}/bench/production`)}, { headers: { authorization: 'Bearer ' + process.env.SECR_TOKEN } }); if (!r.ok) process.exit(1); await r.json();`,
        '--input-type=module',
      ],
    },
    ...(BASELINE
      ? [
          { name: 'baseline secr --version', args: [BASELINE, '--version'] },
          { name: 'baseline secr run -- true', args: [BASELINE, ...runArgs] },
        ]
      : []),
  ];
  for (const c of cases) for (let i = 0; i < 3; i++) await time(c.args, env); // warm-up (and the compile cache)
  const samples = new Map(cases.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) for (const c of cases) samples.get(c.name).push(await time(c.args, env));

  // The server's own time for the pull, from a warm client (no process start, a kept-alive connection).
  const pullUrl = `${base}/v1/secrets/${org.slug}/bench/production`;
  const pullTimes = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    await (await fetch(pullUrl, { headers: { authorization: `Bearer ${token}` } })).json();
    pullTimes.push(performance.now() - started);
  }

  const nodeMedian = median(samples.get('node -e 0'));
  console.log(
    `\nsecr bench:cli — ${RUNS} runs each, in turn; ${SECRETS} secrets on a local server; Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  for (const c of cases) {
    const m = median(samples.get(c.name));
    console.log(`  ${c.name.padEnd(28)} median ${m.toFixed(1).padStart(6)} ms   ${(m / nodeMedian).toFixed(2)}× node -e 0`);
  }
  console.log(`  (the pull itself, from a warm client: median ${median(pullTimes).toFixed(1)} ms)`);
  const ratio = (name) => median(samples.get(name)) / nodeMedian;
  console.log(
    `  bars: secr --version ≤ 1.5× (${ratio('secr --version') <= 1.5 ? 'met' : 'NOT met'}), secr run -- true ≤ 2.0× (${ratio('secr run -- true') <= 2 ? 'met' : 'NOT met'})\n`,
  );

  if (process.env.BENCH_HYPERFINE && spawnSync('hyperfine', ['--version']).status === 0) {
    const q = (args) => [process.execPath, ...args].map((a) => `'${a}'`).join(' ');
    spawnSync('hyperfine', ['-N', '--warmup', '3', ...cases.map((c) => q(c.args))], { stdio: 'inherit', env: { ...process.env, ...env } });
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
}
