#!/usr/bin/env node
/**
 * `npm run bench:pull:chain` — what the audit hash chain costs a pull (issue 21: within 5 %).
 *
 * One server and one PostgreSQL; the load alternates between bursts with the chain on and bursts with it
 * off (on, off, off, on, …), switched in the database between bursts (auditChainSwitch: the link triggers,
 * the chain's check and the group commit's linking function), so that both settings run on the same process,
 * the same database and its same table, and meet the same background load. Two servers side by side
 * (`BENCH_B_CHAIN=off npm run bench:pull:ab -- .`) also differ in which one the kernel happens to favour:
 * an A/A run of that bench (both sides alike) scatters its pairs by ±10 %. Prints, per setting, the median
 * requests/s, CPU per pull (server, PostgreSQL), KiB allocated and µs of GC pauses per pull (the server's
 * V8 trace), and the chain-on / chain-off ratio of neighbouring bursts: median, mean and the 95 % confidence
 * interval of the mean.
 *
 * Options (environment): BENCH_PAIRS (16), BENCH_BURST (4 s), BENCH_CONNECTIONS (32), BENCH_SECRETS (50),
 * BENCH_ENVIRONMENTS (1; N spreads the pulls over N environments), BENCH_CHAIN_OFF (`unpositioned`: rows written while
 * the chain is off get no position, the baseline before December 2026; see auditChainSwitch).
 */
import os from 'node:os';
import pg from 'pg';
import { allocationCounter, auditChainSwitch, median, pullBurst, ratioSummary, seedBenchProject, startBenchServer } from './bench-server.mjs';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 16);
const BURST = Number(process.env.BENCH_BURST ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS ?? 1);

const bench = await startBenchServer({
  name: 'bench-chain',
  nodeArgs: ['--max-semi-space-size=16', '--trace-gc-nvp'],
  env: { LOG_LEVEL: 'info' },
  stdout: 'pipe',
});
const allocated = allocationCounter(bench.server.stdout);
const db = new pg.Client({ connectionString: bench.database.url });
try {
  await db.connect();
  const chain = await auditChainSwitch(db);
  if (!chain) throw new Error('this build has no audit hash chain');
  const { token, paths } = await seedBenchProject(bench.base, SECRETS, ENVIRONMENTS);
  const settings = { on: { bursts: [] }, off: { bursts: [] } };
  let current = 'on';
  const burst = async (setting, duration) => {
    if (setting !== current) await chain[setting]();
    current = setting;
    return pullBurst({ bench, paths, token, connections: CONNECTIONS, duration, allocated });
  };
  await burst('on', 3); // warm-up, not counted
  await burst('off', 3);
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 ? ['on', 'off'] : ['off', 'on'];
    for (const s of order) settings[s].bursts.push(await burst(s, BURST));
    console.error(`  pair ${i + 1}: chain on ${settings.on.bursts.at(-1).rps.toFixed(0)} req/s, off ${settings.off.bursts.at(-1).rps.toFixed(0)} req/s`);
  }
  const spread = ENVIRONMENTS > 1 ? `, each of one of ${ENVIRONMENTS} environments at random` : '';
  console.log(
    `\nsecr bench:pull:chain — ${PAIRS} pairs of ${BURST} s bursts, ${CONNECTIONS} connections, ${SECRETS} secrets per pull${spread}, ${os.cpus().length} cores`,
  );
  for (const [name, s] of Object.entries(settings)) {
    const m = (f) => median(s.bursts.map(f)).toFixed(0);
    console.log(
      `  chain ${name.padEnd(3)}  ${m((r) => r.rps).padStart(6)} req/s (median)   server ${m((r) => r.server)} µs CPU/pull   PostgreSQL ${m((r) => r.postgres)} µs CPU/pull   allocated ${m((r) => r.kib)} KiB/pull   GC pauses ${m((r) => r.gc)} µs/pull`,
    );
  }
  const ratio = (f) => ratioSummary(settings.on.bursts.map((r, i) => f(r) / f(settings.off.bursts[i])));
  const show = ({ median: md, mean, low, high }) => `×${md.toFixed(3)} median, ×${mean.toFixed(3)} mean (95 % CI ×${low.toFixed(3)}–×${high.toFixed(3)})`;
  const rps = ratio((r) => r.rps);
  console.log(`  on / off     requests/s ${show(rps)}`);
  console.log(`               CPU per pull: server ${show(ratio((r) => r.server))}, PostgreSQL ${show(ratio((r) => r.postgres))}`);
  console.log(`               server's GC pauses per pull ${show(ratio((r) => r.gc))}`);
  const rows = (await db.query(`SELECT count(hash)::int AS linked, (count(*) - count(hash))::int AS unlinked FROM audit_events WHERE action = 'secret.read'`))
    .rows[0];
  console.log(
    `  audit rows   ${rows.linked} pull rows linked into the chain, ${rows.unlinked} written while it was off (${chain.positions ? 'with positions from a sequence' : 'without positions: BENCH_CHAIN_OFF=unpositioned'})`,
  );
  console.log(`  target       the chain costs at most 5 % of requests/s: ${rps.median >= 0.95 ? 'met' : 'NOT met'} (median of the pairs)\n`);
} finally {
  await db.end().catch(() => {});
  await bench.stop();
}
