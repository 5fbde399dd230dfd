/**
 * What the benchmarks share: a production-mode secr server (dist/) on an embedded PostgreSQL of its
 * own, in a temp dir, and a project of `secrets` seeded values with a read token. Run `npm run build` first
 * (the bench scripts do).
 */
import autocannon from 'autocannon';
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

/** Positions left unused at each switch of auditChainSwitch (see there). */
const POSITION_GAP = 1_000_000;

/**
 * Switches the audit hash chain off and on again in the bench's database (`client`: a connected pg client),
 * for measuring what the chain costs. Off, the chain's two triggers and its check are disabled and the
 * group commit's linking function is replaced by a plain INSERT; on, each is put back as it was (the check
 * NOT VALID: rows written while it was off have no hash, and new rows are checked as before).
 *
 * What "without the chain" is: rows written while it is off still get a position (`chain_seq`), from a
 * sequence, as any log paged by keyset (issue 21 point 1) needs an increasing key per row, and its indexes
 * (org, action, position; org, environment, position; …) are then the same shape on both sides. Without
 * positions (`positions: false`, BENCH_CHAIN_OFF=unpositioned), every row written off has the same key in
 * four of those indexes, which PostgreSQL stores as one deduplicated entry: cheaper than any index a keyset
 * log could use, so that baseline also counts the cost of paging, not only the chain's. Switching on moves
 * each org's head past the positions used while off (the chain across them is not meant to verify).
 * A build without a chain has none of this: `null`.
 */
export async function auditChainSwitch(client, { positions = process.env.BENCH_CHAIN_OFF !== 'unpositioned' } = {}) {
  const { rows } = await client.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'audit_events_link'`);
  if (!rows.length) return null;
  const check = (await client.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'audit_events_chained'`)).rows[0].def;
  const linking = (await client.query(`SELECT pg_get_functiondef(oid) AS def FROM pg_proc WHERE proname = 'audit_insert_linked'`)).rows[0]?.def;
  // Each switch is one transaction that first waits for the audit inserts in flight (the heads first: a group
  // commit locks its org's head before it inserts). A group commit that chose its setting before the switch
  // can still insert after it (its INSERT waited for the table), so each side starts POSITION_GAP positions
  // past the other's last one: such stragglers land in the gap, not on positions the new side hands out.
  const atomically = async (steps) => {
    await client.query('BEGIN; LOCK TABLE audit_chain_heads, audit_events IN ACCESS EXCLUSIVE MODE');
    try {
      await steps();
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  };
  return {
    positions,
    off: () =>
      atomically(async () => {
        // The chain's triggers (the per-row link and its write-back); the key index's stays (a row without a position skips it).
        await client.query(
          'ALTER TABLE audit_events DROP CONSTRAINT audit_events_chained, DISABLE TRIGGER audit_events_link, DISABLE TRIGGER audit_events_linked',
        );
        if (positions) {
          await client.query(`CREATE SEQUENCE IF NOT EXISTS bench_audit_positions`);
          await client.query(`SELECT setval('bench_audit_positions', COALESCE((SELECT max(seq) FROM audit_chain_heads), 0) + ${POSITION_GAP})`);
        }
        if (linking)
          await client.query(`
          CREATE OR REPLACE FUNCTION audit_insert_linked(a text[], o uuid[], u uuid[], t uuid[], i text[], ua text[], r text[], m jsonb[]) RETURNS void
            LANGUAGE sql AS $$
              INSERT INTO audit_events (action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata${positions ? ', chain_seq' : ''})
                SELECT a1, o1, u1, t1, i1, ua1, r1, COALESCE(m1, '{}')${positions ? `, CASE WHEN o1 IS NOT NULL THEN nextval('bench_audit_positions') END` : ''}
                  FROM unnest(a, o, u, t, i, ua, r, m) x(a1, o1, u1, t1, i1, ua1, r1, m1)
            $$`);
      }),
    on: () =>
      atomically(async () => {
        if (linking) await client.query(linking);
        if (positions)
          await client.query(
            `UPDATE audit_chain_heads h SET seq = GREATEST(h.seq, COALESCE((SELECT max(e.chain_seq) FROM audit_events e WHERE e.org_id = h.org_id), 0)) + ${POSITION_GAP}`,
          );
        await client.query(
          `ALTER TABLE audit_events ENABLE TRIGGER audit_events_link, ENABLE TRIGGER audit_events_linked, ADD CONSTRAINT audit_events_chained ${check} NOT VALID`,
        );
      }),
  };
}

/** Audit rows without the hash chain from now on (auditChainSwitch). */
export async function auditChainOff(client) {
  await (await auditChainSwitch(client))?.off();
}

/**
 * What the server whose stdout is `stream` (run with --trace-gc-nvp) allocated and collected so far: `bytes`, the sum
 * of V8's `allocated=` (bytes since the previous collection), and `pauseMs`, the sum of its collections' `pause=`
 * (time the main thread stood still for them).
 */
export function allocationCounter(stream) {
  const counter = { bytes: 0, pauseMs: 0 };
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const allocated = /\ballocated=(\d+)/.exec(line);
      if (!allocated) {
        // A log line: warnings and errors are shown (a failed pull's cause), the rest dropped.
        if (/^\{"level":(4|5|6)0\b/.test(line)) process.stderr.write(`server: ${line}\n`);
        continue;
      }
      counter.bytes += Number(allocated[1]);
      counter.pauseMs += Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
    }
  });
  return counter;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * One burst of pulls against a bench server (`bench`: startBenchServer's answer; `paths`: the pulls, one at
 * random per request when several; `allocated`: its allocationCounter, if any). Throws on any non-2xx answer.
 * Returns requests/s and, per pull, the server's and PostgreSQL's CPU µs, the KiB the server allocated and the µs its main thread spent in
 * garbage-collection pauses.
 */
export async function pullBurst({ bench, paths, token, connections, duration, allocated }) {
  const s0 = cpuMs(bench.server.pid);
  const p0 = postgresCpuMs(bench.database.pid);
  const a0 = allocated?.bytes ?? 0;
  const g0 = allocated?.pauseMs ?? 0;
  const r = await autocannon({
    url: bench.base + paths[0],
    connections,
    duration,
    headers: { authorization: `Bearer ${token}` },
    ...(paths.length > 1 ? { requests: [{ setupRequest: (req) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)] }) }] } : {}),
  });
  if (r.non2xx || r.errors) {
    const statuses = Object.entries(r.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, { count }]) => `${count} × ${code}`);
    throw new Error(`${r.non2xx} non-2xx answers (${statuses.join(', ') || 'statuses unknown'}), ${r.errors} errors`);
  }
  const n = r['2xx'];
  return {
    rps: r.requests.average,
    server: ((cpuMs(bench.server.pid) - s0) * 1000) / n,
    postgres: ((postgresCpuMs(bench.database.pid) - p0) * 1000) / n,
    // V8 reports a collection's figures once it ran: the burst's last few MB (of hundreds) count in the next one.
    kib: allocated ? (allocated.bytes - a0) / 1024 / n : NaN,
    gc: allocated ? ((allocated.pauseMs - g0) * 1000) / n : NaN,
  };
}

// Two-sided 95 % quantiles of Student's t for 1–30 degrees of freedom (then ~1.96).
const T95 = [
  12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06,
  2.05, 2.05, 2.05, 2.04,
];

/** Ratios of paired bursts: their median, mean and the 95 % confidence interval of the mean (t, n − 1 degrees of freedom). */
export function ratioSummary(ratios) {
  const n = ratios.length;
  const mean = ratios.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(ratios.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  const half = ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n);
  return { median: median(ratios), mean, low: mean - half, high: mean + half };
}
