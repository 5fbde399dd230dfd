/**
 * `npm run bench:watch` (issue 18): one production-mode server, WATCHERS idle change streams
 * (`GET /v1/secrets/…/events`, default 5,000) of one environment, held by this process. Prints the
 * server's RSS before and after they open, then makes CHANGES changes, one at a time, and prints how
 * long each took to reach every watcher (from the moment the write was sent to the moment a watcher
 * read the event): p50, p99 and the slowest. Targets: < 200 MB of extra memory, p99 < 1 s.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { api, seedBenchProject, startBenchServer } from './bench-server.mjs';

const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 5000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 5);
const OPEN_CONCURRENCY = 50;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * One watcher, on a bare socket: the request written by hand and the answer scanned for events (no
 * HTTP parser), so that this process — which holds every watcher on the same 2 cores as the server —
 * costs as little as possible. Calls `onChange(seq)` per change event; resolves once the stream is ready.
 */
function openWatcher(base, path, token, onChange) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`);
    });
    socket.setEncoding('utf8');
    let ready = false;
    socket.on('data', (chunk) => {
      if (!ready) {
        if (!chunk.startsWith('HTTP/1.1 200')) return reject(new Error(`stream answered ${chunk.slice(0, 40)}`));
        if (!chunk.includes('event: ready')) return; // (a change frame always arrives in one write, so in one chunk)
        ready = true;
        return resolve(socket);
      }
      if (chunk.includes('event: change')) onChange(/^id: (\d+)/m.exec(chunk)[1]);
    });
    socket.once('error', reject);
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
    const answered = performance.now() - sent;
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
    const ms = times.map((t) => t - sent);
    latencies.push({ seq, ms });
    console.log(
      `change ${c + 1}: the write answered after ${answered.toFixed(0)} ms; first watcher ${Math.min(...ms).toFixed(0)} ms, last ${Math.max(...ms).toFixed(0)} ms`,
    );
  }
  const all = latencies.flatMap((l) => l.ms).sort((a, b) => a - b);
  const peak = rssMb(bench.server.pid);
  watchers.forEach((r) => r.destroy());

  const fmt = (n) => n.toFixed(0);
  console.log(`watchers: ${WATCHERS} on one instance (opened in ${openSeconds.toFixed(1)} s)`);
  console.log(
    `server RSS: ${fmt(before)} MB before, ${fmt(after)} MB with the watchers open (+${fmt(after - before)} MB), ${fmt(peak)} MB after ${CHANGES} changes`,
  );
  console.log(
    `change → every watcher (${CHANGES} changes × ${WATCHERS} watchers): p50 ${fmt(percentile(all, 50))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(all.at(-1))} ms`,
  );
  console.log(`targets: < 200 MB extra (${after - before < 200 ? 'met' : 'MISSED'}), p99 < 1000 ms (${percentile(all, 99) < 1000 ? 'met' : 'MISSED'})`);
} finally {
  await bench.stop();
}
