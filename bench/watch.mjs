/**
 * `npm run bench:watch` (issue 18): one production-mode server, WATCHERS idle change streams
 * (`GET /v1/secrets/…/events`, default 5,000) of one environment, held by this process. Prints the
 * server's RSS before and after they open, then makes CHANGES changes, one at a time, and prints how
 * long each took to reach every watcher (from the moment the write was sent to the moment a watcher
 * read the event): p50, p99 and the slowest. Targets: < 200 MB of extra memory, p99 < 1 s.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { api, seedBenchProject, startBenchServer } from './bench-server.mjs';

const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 5000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 5);
const OPEN_CONCURRENCY = 50;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** One watcher: calls `onChange(seq)` for each change event; resolves once the stream is ready. */
function openWatcher(base, path, token, onChange) {
  return new Promise((resolve, reject) => {
    const req = http.get(base + path, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      let ready = false;
      res.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!ready && block.includes('event: ready')) {
            ready = true;
            resolve(req);
          } else if (block.includes('event: change')) onChange(/^id: (\d+)/m.exec(block)[1]);
        }
      });
    });
    req.once('error', reject);
  });
}

const bench = await startBenchServer({
  name: 'bench-watch',
  env: { STREAM_MAX_PER_CREDENTIAL: String(WATCHERS + 10), STREAM_MAX_PER_INSTANCE: String(WATCHERS + 10) },
});
try {
  const { org, token, cookie } = await seedBenchProject(bench.base, 5);
  const pullPath = `/v1/secrets/${org.slug}/bench/production`;
  const path = `${pullPath}/events`;

  // Warm-up: a few streams and changes, so that the figures are of steady state, not of first use.
  const warm = await Promise.all(Array.from({ length: 20 }, () => openWatcher(bench.base, path, token, () => {})));
  await api(bench.base, 'PUT', pullPath, { cookie, body: { key: 'WARM_UP', value: 'x' } });
  warm.forEach((r) => r.destroy());
  await new Promise((r) => setTimeout(r, 2000));
  const before = rssMb(bench.server.pid);

  const received = new Map(); // seq -> arrival times
  const onChange = (seq) => {
    const now = performance.now();
    (received.get(seq) ?? received.set(seq, []).get(seq)).push(now);
  };
  const opening = performance.now();
  const watchers = [];
  for (let i = 0; i < WATCHERS; i += OPEN_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, WATCHERS - i) }, () => openWatcher(bench.base, path, token, onChange));
    watchers.push(...(await Promise.all(batch)));
  }
  const openSeconds = (performance.now() - opening) / 1000;
  await new Promise((r) => setTimeout(r, 3000)); // let the server settle (no fixed sleep in tests; this is a measurement)
  const after = rssMb(bench.server.pid);

  const latencies = [];
  for (let c = 0; c < CHANGES; c++) {
    const sent = performance.now();
    await api(bench.base, 'PUT', pullPath, { cookie, body: { key: 'WATCHED', value: `v${c}` } });
    const deadline = Date.now() + 30_000;
    const seqs = () => [...received.keys()];
    let seq;
    while (Date.now() < deadline) {
      seq = seqs().find((s) => !latencies.some((l) => l.seq === s));
      if (seq && received.get(seq).length >= WATCHERS) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const times = received.get(seq) ?? [];
    if (times.length < WATCHERS) throw new Error(`change ${c}: only ${times.length} of ${WATCHERS} watchers received it within 30 s`);
    latencies.push({ seq, ms: times.map((t) => t - sent) });
  }
  const all = latencies.flatMap((l) => l.ms).sort((a, b) => a - b);
  const peak = rssMb(bench.server.pid);
  watchers.forEach((r) => r.destroy());

  const fmt = (n) => n.toFixed(0);
  console.log(`watchers: ${WATCHERS} on one instance (opened in ${openSeconds.toFixed(1)} s)`);
  console.log(`server RSS: ${fmt(before)} MB before, ${fmt(after)} MB with the watchers open (+${fmt(after - before)} MB), ${fmt(peak)} MB after ${CHANGES} changes`);
  console.log(`change → every watcher (${CHANGES} changes × ${WATCHERS} watchers): p50 ${fmt(percentile(all, 50))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(all.at(-1))} ms`);
  console.log(`targets: < 200 MB extra (${after - before < 200 ? 'met' : 'MISSED'}), p99 < 1000 ms (${percentile(all, 99) < 1000 ? 'met' : 'MISSED'})`);
} finally {
  await bench.stop();
}
