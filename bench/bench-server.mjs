/**
 * What the benchmarks share: a production-mode secr server (dist/) on an embedded PostgreSQL of its
 * own, in a temp dir, and a project of `secrets` seeded values with a read token. Run `npm run build` first
 * (the bench scripts do).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../dist/src/database/embedded-postgres.js';

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/** One API call; throws on a non-2xx answer. */
export async function api(base, method, route, { body, token, cookie } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) Object.assign(headers, { cookie, 'x-requested-with': 'secr' });
  const res = await fetch(base + route, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return { json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * Starts the server and waits until it is ready. `nodeArgs`: flags for its node; `env`: settings added
 * to the production ones; `root`: the tree whose build (dist/) runs (this one by default; bench:pull:ab
 * runs another build beside it); `stdout`: 'pipe' to read the server's output (V8's GC trace, say).
 * `stop()` ends the server, the database and the temp dir.
 */
export async function startBenchServer({ name, nodeArgs = [], env = {}, root = undefined, stdout = 'ignore' }) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `secr-${name}-`));
  const database = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port: await freePort(), database: 'secr_bench' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      SESSION_SECRET: randomBytes(32).toString('base64'),
      SECR_MASTER_KEY: randomBytes(32).toString('base64'),
      // Required in production; the benchmarks send no mail.
      SMTP_URL: 'smtp://127.0.0.1:9',
      PUBLIC_URL: base,
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
  const stop = async () => {
    // A server that already exited (a crash at boot) has no 'exit' left to wait for.
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await database.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/health/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (server.exitCode !== null) throw new Error(`the server exited during start-up (code ${server.exitCode}): see its output above`);
      if (i > 300) throw new Error('server did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, server, database, dataDir, stop };
}

/**
 * A user (and their session `cookie`), their org, a project `bench` with `count` secrets in production, and
 * a read token of the org. With `environments` > 1, that many environments each get `count` secrets of their
 * own: production, staging and development of `bench`, then of `bench-2`, `bench-3`, … (so 9 fit a free
 * plan's 3 projects). `paths`: each seeded environment's pull, `/v1/secrets/<org>/<project>/<env>`.
 */
export async function seedBenchProject(base, count, environments = 1) {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  await api(base, 'POST', '/v1/auth/register', { body: { email, password: 'benchmark password', name: 'Bench' } });
  const signedIn = await api(base, 'POST', '/v1/auth/login', { body: { email, password: 'benchmark password' } });
  const cookie = signedIn.headers.getSetCookie()[0].split(';')[0];
  const org = (await api(base, 'GET', '/v1/auth/me', { cookie })).json.orgs[0];
  const paths = [];
  for (let e = 0; e < environments; e++) {
    const slug = e < 3 ? 'bench' : `bench-${Math.floor(e / 3) + 1}`;
    if (e % 3 === 0) await api(base, 'POST', `/v1/projects/${org.id}`, { cookie, body: { name: slug, slug } });
    const env = ['production', 'staging', 'development'][e % 3];
    const secrets = Array.from({ length: count }, (_, i) => ({
      key: `SECRET_${String(i).padStart(2, '0')}`,
      value: `value-${i}-${randomBytes(24).toString('base64')}`,
    }));
    await api(base, 'POST', `/v1/secrets/${org.slug}/${slug}/${env}/bulk`, { cookie, body: { secrets } });
    paths.push(`/v1/secrets/${org.slug}/${slug}/${env}`);
  }
  const { token } = (await api(base, 'POST', '/v1/auth/token', { cookie, body: { name: 'bench', access: 'read', orgId: org.id } })).json;
  return { org, token, cookie, paths };
}

/** utime + stime of a process (all its threads), in ms; with its ended children's when asked; 0 when it is gone. */
export function cpuMs(pid, withChildren = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command's closing parenthesis, from field 3 (state): utime is field 14.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return ticks * 10; // USER_HZ = 100
  } catch {
    return 0;
  }
}

/**
 * CPU time of PostgreSQL so far, in ms: the postmaster with its ended backends, and its living ones.
 * CPU time counts work, not waiting: on a loaded machine it compares builds where seconds cannot.
 */
export function postgresCpuMs(postmasterPid) {
  let sum = cpuMs(postmasterPid, true);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmasterPid) sum += cpuMs(Number(name));
    } catch {
      // ended meanwhile
    }
  }
  return sum;
}

/**
 * Audit rows without the hash chain, for measuring what the chain costs (`client`: a connected pg client
 * of the bench's database): the table's triggers and the chain's check off, and the group commit's linking
 * function replaced by a plain INSERT. A build without a chain has none of them and is left as it is.
 */
export async function auditChainOff(client) {
  const { rows } = await client.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'audit_events_link'`);
  if (!rows.length) return;
  // Every trigger of the table (the link, its write-back and the key index that needs positions).
  await client.query('ALTER TABLE audit_events DROP CONSTRAINT audit_events_chained, DISABLE TRIGGER USER');
  const linked = await client.query(`SELECT 1 FROM pg_proc WHERE proname = 'audit_insert_linked'`);
  if (linked.rows.length)
    await client.query(`
      CREATE OR REPLACE FUNCTION audit_insert_linked(a text[], o uuid[], u uuid[], t uuid[], i text[], ua text[], r text[], m jsonb[]) RETURNS void
        LANGUAGE sql AS $$
          INSERT INTO audit_events (action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata)
            SELECT * FROM unnest(a, o, u, t, i, ua, r, m)
        $$`);
}
