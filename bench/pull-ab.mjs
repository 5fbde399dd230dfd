#!/usr/bin/env node
/**
 * `npm run bench:pull:ab -- <other tree>` — this build's pull against another build's (a clone at an
 * older commit, built with `npm ci && npm run build`), side by side in one sitting: both servers run at
 * once, each on its own PostgreSQL with the same 50 secrets, and the load alternates between them in
 * short bursts (A, B, B, A, …), so that both meet the same background load. On a machine that other work
 * shares, requests/s of separate runs drift by more than the difference sought; the ratio within each
 * pair of neighbouring bursts does not drift with it. Prints, per build, the median requests/s, the
 * CPU time per pull (server process, all threads, GC included; PostgreSQL) and the bytes the server's
 * JavaScript allocated per pull (from V8's GC trace, which counts work without counting the
 * neighbours), and the median of the pairs' ratios.
 *
 * Options (environment): BENCH_PAIRS (12), BENCH_BURST (4 s), BENCH_CONNECTIONS (32), BENCH_SECRETS (50),
 * BENCH_ENVIRONMENTS (1: every pull is of one environment; N: each pull picks one of N environments, each
 * with its own secrets, at random, so that concurrent pulls are mostly of different environments; 9 at most
 * against a build whose default plan allows 3 projects).
 * Each side can run in its own setting: BENCH_A_ENV / BENCH_B_ENV ('NAME=value NAME=value', added to the
 * server's environment of this build / the other one) and BENCH_A_CHAIN=off / BENCH_B_CHAIN=off (that side's
 * audit rows are inserted without the hash chain, as `BENCH_AUDIT_CHAIN=off npm run bench:pull` does). The
 * other tree may be this one (`.`): `BENCH_B_CHAIN=off npm run bench:pull:ab -- .` measures what the chain
 * costs a pull, in the same alternating pairs.
 */
import path from 'node:path';
import pg from 'pg';
import { allocationCounter, auditChainOff, median, pullBurst, ratioSummary, seedBenchProject, startBenchServer } from './bench-server.mjs';

const other = process.argv[2];
if (!other) throw new Error('usage: npm run bench:pull:ab -- <path of another built secr tree>');
const PAIRS = Number(process.env.BENCH_PAIRS ?? 12);
const BURST = Number(process.env.BENCH_BURST ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS ?? 1);
const nodeArgs = ['--max-semi-space-size=16', '--trace-gc-nvp'];

const side = (name) => ({
  env: Object.fromEntries(
    (process.env[`BENCH_${name}_ENV`] ?? '')
      .split(' ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  ),
  chain: process.env[`BENCH_${name}_CHAIN`] !== 'off',
});
const settings = (s) => [...Object.entries(s.env).map(([k, v]) => `${k}=${v}`), ...(s.chain ? [] : ['chain off'])].join(' ');
const builds = [
  { label: 'this build', root: process.cwd(), ...side('A') },
  { label: path.resolve(other) === process.cwd() ? 'this build' : path.basename(path.resolve(other)), root: path.resolve(other), ...side('B') },
].map((b) => ({ ...b, label: settings(b) ? `${b.label} (${settings(b)})` : b.label }));
const width = Math.max(...builds.map((b) => b.label.length));

/** Audit rows without the hash chain (auditChainOff). */
async function chainOff(url) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await auditChainOff(db);
  } finally {
    await db.end();
  }
}
try {
  for (const b of builds) {
    b.bench = await startBenchServer({ name: 'bench-ab', nodeArgs, root: b.root, env: { LOG_LEVEL: 'info', ...b.env }, stdout: 'pipe' });
    if (!b.chain) await chainOff(b.bench.database.url);
    b.allocated = allocationCounter(b.bench.server.stdout);
    const { token, paths } = await seedBenchProject(b.bench.base, SECRETS, ENVIRONMENTS);
    b.paths = paths;
    b.token = token;
    b.bursts = [];
  }
  const burst = async (b, duration) => {
    try {
      return await pullBurst({ bench: b.bench, paths: b.paths, token: b.token, connections: CONNECTIONS, duration, allocated: b.allocated });
    } catch (error) {
      throw new Error(`${b.label}: ${error.message}`, { cause: error });
    }
  };
  for (const b of builds) await burst(b, 3); // warm-up, not counted
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 ? [...builds].reverse() : builds;
    for (const b of order) b.bursts.push(await burst(b, BURST));
    console.error(`  pair ${i + 1}: ${builds.map((b) => `${b.label} ${b.bursts.at(-1).rps.toFixed(0)} req/s`).join(', ')}`);
  }
  const [a, b] = builds;
  const spread = ENVIRONMENTS > 1 ? `, each of one of ${ENVIRONMENTS} environments at random` : '';
  console.log(`\nsecr bench:pull:ab — ${PAIRS} pairs of ${BURST} s bursts, ${CONNECTIONS} connections, ${SECRETS} secrets per pull${spread}`);
  for (const x of builds) {
    console.log(
      `  ${x.label.padEnd(width)} ${median(x.bursts.map((r) => r.rps))
        .toFixed(0)
        .padStart(6)} req/s (median)   ` +
        `server ${median(x.bursts.map((r) => r.server)).toFixed(0)} µs CPU/pull   PostgreSQL ${median(x.bursts.map((r) => r.postgres)).toFixed(0)} µs CPU/pull   ` +
        `allocated ${median(x.bursts.map((r) => r.kib)).toFixed(1)} KiB/pull`,
    );
  }
  const ratio = (f) => median(a.bursts.map((r, i) => f(r) / f(b.bursts[i])));
  console.log(
    `  ${a.label} / ${b.label}: requests/s ×${ratio((r) => r.rps).toFixed(3)}, server CPU per pull ×${ratio((r) => r.server).toFixed(3)}, ` +
      `PostgreSQL CPU per pull ×${ratio((r) => r.postgres).toFixed(3)}, allocated per pull ×${ratio((r) => r.kib).toFixed(3)} (medians of the pairs' ratios)`,
  );
  const rps = ratioSummary(a.bursts.map((r, i) => r.rps / b.bursts[i].rps));
  console.log(`  requests/s ratio: mean ×${rps.mean.toFixed(3)}, 95 % confidence interval of the mean ×${rps.low.toFixed(3)}–×${rps.high.toFixed(3)}\n`);
} finally {
  for (const b of builds) await b.bench?.stop();
}
