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
import os from 'node:os';
import path from 'node:path';
import { seedBenchProject, startBenchServer } from './bench-server.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 50);
const CLI = path.resolve('cli/bin/run.cjs');
const BASELINE = process.env.BENCH_CLI_BASELINE ? path.resolve(process.env.BENCH_CLI_BASELINE) : undefined;

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

const { base, dataDir, stop } = await startBenchServer({ name: 'bench-cli', env: { LOG_LEVEL: 'warn' } });
const compileCache = path.join(dataDir, 'compile-cache');

try {
  const { org, token } = await seedBenchProject(base, SECRETS);

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
  await stop();
}
