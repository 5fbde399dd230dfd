#!/usr/bin/env node
/**
 * `npm run bench:audit` — the audit part of the scale benchmark (issue 21).
 *
 * Starts PostgreSQL (embedded, temp dir) and the built server in production mode, then fills one org's
 * audit log with generated rows (`generate_series`, shaped like real ones: pulls of a few projects and
 * environments, some writes naming keys, a few actors, 10 ms apart) up to each size in BENCH_AUDIT_SIZES
 * (default 1,000,000 and 10,000,000). At each size it prints, for a page of 50 — newest, deep by cursor,
 * and with each filter — the statement's `EXPLAIN (ANALYZE, BUFFERS)` plan and database time (target
 * under 20 ms) and the median time of the same page over HTTP. At the first size it also exports about
 * BENCH_EXPORT_MB (100) of NDJSON over HTTP, printing throughput and the server's RSS before and at peak,
 * and times a verification of a real 100,000-row chain (rows linked by the insert trigger), and what
 * linking costs a group commit of pull rows (chainCost).
 *
 * The generated rows get positions and placeholder hashes directly (the trigger is off while they are
 * written; linking ten million rows one by one would take most of an hour here), so they are for timing
 * reads, not for verification; the rows that name a key get their `audit_event_keys` entries from the
 * insert trigger, as the app's do. What the chain costs a pull end to end is measured by
 * `BENCH_B_CHAIN=off npm run bench:pull:ab -- .` (README, Performance).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { pageQuery } from '../dist/src/modules/audit/audit.repository.js';
import { api, cpuMs, seedBenchProject, startBenchServer } from './bench-server.mjs';

const SIZES = (process.env.BENCH_AUDIT_SIZES ?? '1000000,10000000').split(',').map(Number);
const EXPORT_MB = Number(process.env.BENCH_EXPORT_MB ?? 100);
const CHUNK = 500_000;
/** Generated row g was written at NOW - (last size - g) × 10 ms: the newest at the largest size is now. */
const NOW = Date.now();
const timeOf = (g) => NOW - (SIZES.at(-1) - g) * 10;
const VERIFY_ROWS = Number(process.env.BENCH_VERIFY_ROWS ?? 100_000);

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const { base, server, database, stop } = await startBenchServer({
  name: 'bench-audit',
  nodeArgs: ['--max-semi-space-size=16', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)],
  env: { LOG_LEVEL: 'warn' },
});
const db = new pg.Client({ connectionString: database.url });
try {
  await db.connect();
  const { org, token } = await seedBenchProject(base, 5);
  const ids = await db.query(`SELECT gen_random_uuid()::text AS p FROM generate_series(1, 12)`);
  const [p1, p2, p3, e1, e2, e3, e4, e5, e6, u1, u2, u3] = ids.rows.map((r) => r.p);
  const projects = [p1, p2, p3];
  const envs = [e1, e2, e3, e4, e5, e6];
  const actors = [u1, u2, u3];
  console.log(
    `\nsecr bench:audit — one org's audit log at ${SIZES.map((n) => n.toLocaleString('en')).join(' and ')} rows, Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );

  let filled = 0;
  for (const size of SIZES) {
    const started = Date.now();
    await fill(size);
    console.log(
      `\n== ${size.toLocaleString('en')} rows (filled in ${seconds(Date.now() - started)}; table ${(await db.query(`SELECT pg_size_pretty(pg_total_relation_size('audit_events')) AS s`)).rows[0].s} with indexes) ==`,
    );
    const mid = String(Math.floor(Number((await db.query('SELECT seq FROM audit_chain_heads WHERE org_id = $1', [org.id])).rows[0].seq) / 2));
    const cases = [
      ['newest page', {}, {}],
      ['deep page, before=<cursor at the middle>', {}, { below: mid }],
      ['deep page, after=<cursor at the middle>', {}, { above: mid }],
      ['action=secret.updated (2 %), deep', { action: 'secret.updated' }, { below: mid }],
      ['actor=<one of 3>, deep', { actor: u2 }, { below: mid }],
      ['projectId=<one of 3>, deep', { projectId: p2 }, { below: mid }],
      ['environmentId=<one of 6>, deep', { environmentId: e5 }, { below: mid }],
      ['key=<one of 100>', { key: 'KEY_42' }, {}],
      ['from/to (one hour, in the middle)', rangeAround(size / 2), {}],
    ];
    console.log('  case                                            db time   HTTP median (10)');
    for (const [name, filter, position] of cases) {
      const { text, params } = pageQuery(org.id, filter, position, 51);
      const plan = (await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params)).rows.map((r) => r['QUERY PLAN']);
      const dbMs = Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))[1]);
      const query = new URLSearchParams({
        limit: '50',
        ...filter,
        ...(position.below ? { before: cursor(position.below) } : {}),
        ...(position.above ? { after: cursor(position.above) } : {}),
      });
      const times = [];
      let failed = '';
      for (let i = 0; i < 10 && !failed; i++) {
        const t = performance.now();
        await api(base, 'GET', `/v1/audit/${org.id}?${query}`, { token }).catch((error) => (failed = error.message.slice(0, 120)));
        times.push(performance.now() - t);
      }
      const http = failed ? `failed: ${failed}` : `${median(times).toFixed(1).padStart(7)} ms`;
      console.log(`  ${name.padEnd(46)} ${dbMs.toFixed(2).padStart(7)} ms  ${http}   ${dbMs < 20 ? '' : 'OVER 20 ms'}`);
      if (process.env.BENCH_PLANS !== '0') for (const line of plan) console.log(`      ${line}`);
    }
    // An unfiltered offset page takes its total from the chain's head (a filtered one counts its rows).
    const t = performance.now();
    const first = await api(base, 'GET', `/v1/audit/${org.id}?limit=50&offset=1000`, { token });
    console.log(
      `  offset=1000 page with pagination.total (${first.json.pagination.total.toLocaleString('en')}, from the chain head): ${(performance.now() - t).toFixed(0)} ms over HTTP`,
    );
    if (size === SIZES[0] && process.env.BENCH_AUDIT_EXTRAS !== '0') {
      await exportRun();
      await verifyRun();
      await chainCost();
    }
  }

  /** Adds generated rows up to `size`, with the trigger off, in chunks (one statement each). */
  async function fill(size) {
    await db.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_link');
    try {
      // Generated rows take the positions after the org's last one (its own rows: sign-up, project, pulls, exports).
      const base = Number((await db.query('SELECT max(chain_seq) AS m FROM audit_events WHERE org_id = $1', [org.id])).rows[0].m) - filled;
      while (filled < size) {
        const to = Math.min(size, filled + CHUNK);
        await db.query(
          `INSERT INTO audit_events (action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata, created_at, chain_seq, hash)
           SELECT CASE WHEN g % 50 = 0 THEN 'secret.updated' ELSE 'secret.read' END, $1,
                  ($2::uuid[])[1 + g % 3], NULL, '10.0.' || (g % 250) || '.' || (g % 199), 'secr-cli/1.0 node/24', md5(g::text),
                  CASE WHEN g % 50 = 0
                    THEN jsonb_build_object('projectId', ($3::uuid[])[1 + g % 3], 'project', 'p' || (g % 3), 'environmentId', ($4::uuid[])[1 + g % 6], 'environment', 'e' || (g % 6), 'key', 'KEY_' || (g / 50 % 100), 'version', g / 5000 + 1)
                    ELSE jsonb_build_object('projectId', ($3::uuid[])[1 + g % 3], 'project', 'p' || (g % 3), 'environmentId', ($4::uuid[])[1 + g % 6], 'environment', 'e' || (g % 6), 'count', 50)
                  END,
                  to_timestamp($5::double precision / 1000) - ($6::bigint - g) * interval '10 milliseconds',
                  g + $9, sha256(g::text::bytea)
             FROM generate_series($7::bigint, $8::bigint) g`,
          [org.id, actors, projects, envs, NOW, SIZES.at(-1), filled + 1, to, base],
        );
        filled = to;
      }
      // The org's own rows (sign-up, project, bench pulls) keep their places above the generated ones.
      await db.query(`UPDATE audit_chain_heads SET seq = (SELECT max(chain_seq) FROM audit_events WHERE org_id = $1) WHERE org_id = $1`, [org.id]);
      await db.query('ANALYZE audit_events');
    } finally {
      await db.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_link');
    }
  }

  function rangeAround(row) {
    const at = timeOf(row);
    return { from: new Date(at - 1_800_000).toISOString(), to: new Date(at + 1_800_000).toISOString() };
  }

  async function exportRun() {
    // About EXPORT_MB of NDJSON: the newest generated rows so far, by a time range (lines are ~420 bytes).
    const rows = Math.ceil((EXPORT_MB * 1024 * 1024) / 420);
    const from = new Date(timeOf(filled - rows)).toISOString();
    const to = new Date(timeOf(filled) + 1).toISOString();
    const before = rssKiB(server.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(server.pid))), 50);
    const t = performance.now();
    const res = await fetch(`${base}/v1/audit/${org.id}/export?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
    }
    const ms = performance.now() - t;
    clearInterval(sampler);
    console.log(
      `  export (NDJSON, HTTP ${res.status}): ${(bytes / 1048576).toFixed(1)} MB, ${lines.toLocaleString('en')} events in ${seconds(ms)} = ${(bytes / 1048576 / (ms / 1000)).toFixed(1)} MB/s; server RSS ${(before / 1024).toFixed(0)} MB before, ${(peak / 1024).toFixed(0)} MB at peak`,
    );
  }

  /**
   * What linking costs a group commit of pull rows, at 64 rows and at 8 (the size under a lighter load):
   * the call AuditService sends (`linked`: audit_insert_linked, the head taken once per batch), the same
   * rows in a plain INSERT linked row by row by the trigger (`trigger`: the statement before migration
   * 1764920000000), and the plain INSERT with the triggers off (`off`), in alternating rounds in one session
   * so all meet the same load. Prints wall time and the backend's CPU time per row (medians of the rounds).
   */
  async function chainCost() {
    const { org: other } = await seedBenchProject(base, 1);
    const pid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const ROUNDS = 6;
    const statement = (mode) =>
      mode === 'linked'
        ? `SELECT audit_insert_linked($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`
        : `INSERT INTO audit_events (action, org_id, actor_user_id, actor_token_id, ip, user_agent, request_id, metadata)
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`;
    const values = (rows) => [
      Array(rows).fill('secret.read'),
      Array(rows).fill(other.id),
      Array(rows).fill(u1),
      Array(rows).fill(u2),
      Array(rows).fill('10.0.0.1'),
      Array(rows).fill('secr-cli/1.0'),
      Array.from({ length: rows }, (_, i) => `req-${i}`),
      Array(rows).fill(JSON.stringify({ projectId: p1, project: 'bench', environmentId: e1, environment: 'production', count: 50 })),
    ];
    const triggersOff = async (off) =>
      db.query(
        off
          ? 'ALTER TABLE audit_events DROP CONSTRAINT audit_events_chained, DISABLE TRIGGER USER'
          : 'ALTER TABLE audit_events ENABLE TRIGGER USER, ADD CONSTRAINT audit_events_chained CHECK ((org_id IS NULL) = (chain_seq IS NULL) AND (chain_seq IS NULL) = (hash IS NULL)) NOT VALID',
      );
    const modes = ['linked', 'trigger', 'off'];
    for (const rows of [64, 8]) {
      const statements = Math.round(6400 / rows / (Number(process.env.BENCH_CHAIN_SCALE ?? 1) || 1));
      const params = values(rows);
      const rounds = Object.fromEntries(modes.map((m) => [m, { wall: [], cpu: [] }]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2 ? [...modes].reverse() : modes) {
          if (mode === 'off') await triggersOff(true);
          const t = performance.now();
          const c = cpuMs(pid);
          for (let i = 0; i < statements; i++) await db.query(statement(mode), params);
          rounds[mode].cpu.push(((cpuMs(pid) - c) * 1000) / (statements * rows));
          rounds[mode].wall.push(((performance.now() - t) * 1000) / (statements * rows));
          if (mode === 'off') {
            await db.query('DELETE FROM audit_events WHERE org_id = $1 AND chain_seq IS NULL', [other.id]);
            await triggersOff(false);
          }
        }
      }
      const figure = (mode) => `${mode} ${median(rounds[mode].wall).toFixed(1)} µs wall / ${median(rounds[mode].cpu).toFixed(1)} µs CPU`;
      console.log(
        `  chain cost, group commit of ${rows} pull rows (${statements} statements × ${ROUNDS} rounds per mode, alternating), per row: ${modes.map(figure).join(', ')}`,
      );
    }
  }

  async function verifyRun() {
    // A real chain: a second org's rows, each linked by the insert trigger as the app's are.
    const { org: other, token: otherToken } = await seedBenchProject(base, 1);
    const t0 = performance.now();
    await db.query(
      `INSERT INTO audit_events (action, org_id, metadata) SELECT 'secret.read', $1, jsonb_build_object('count', g) FROM generate_series(1, $2) g`,
      [other.id, VERIFY_ROWS],
    );
    const linkMs = performance.now() - t0;
    const t = performance.now();
    const result = (await api(base, 'GET', `/v1/audit/${other.id}/verify`, { token: otherToken })).json;
    const ms = performance.now() - t;
    console.log(
      `  chain: ${VERIFY_ROWS.toLocaleString('en')} rows linked by the trigger in one INSERT in ${seconds(linkMs)} (${((linkMs * 1000) / VERIFY_ROWS).toFixed(0)} µs/row); verify of ${result.checked.toLocaleString('en')} rows in ${seconds(ms)} (${Math.round(result.checked / (ms / 1000)).toLocaleString('en')} rows/s), valid=${result.valid}`,
    );
  }
} finally {
  await db.end().catch(() => undefined);
  await stop();
}

function cursor(seq) {
  return Buffer.from(`v1:${seq}`, 'utf8').toString('base64url');
}
