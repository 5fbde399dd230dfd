/**
 * `npm run bench:watch` (issue 18): one production-mode server, WATCHERS idle change streams
 * (`GET /v1/secrets/…/events`, default 5,000) of one environment, held by this process. Prints the
 * server's RSS before and after they open, then makes CHANGES changes, one at a time, and prints how
 * long each took to reach every watcher (from the moment the write was sent to the moment a watcher
 * read the event): p50, p99 and the slowest. Targets: < 200 MB of extra memory, p99 < 1 s.
 *
 * Procedure, so that a rerun measures the same thing: the build is fresh (`npm run bench:watch` builds);
 * the RSS readings are medians of three, taken after a warm-up (20 streams and one change) and after the
 * streams have settled; one more change, after the streams open, warms the fan-out and is printed but
 * not counted; every later change is written only once every watcher has the previous one. The last two
 * lines are the figures (`extra memory for …`, `change-to-all p99: …`). Needs `ulimit -n` above
 * WATCHERS + 500 (checked first). Run it on a quiet machine: the load average is printed with the figures.
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
 * costs as little as possible. What arrives is buffered and cut into whole SSE frames, so a frame split
 * over two reads, or two frames in one read, count right. Calls `onChange(seq)` per change event and
 * `onClosed()` if the server ends the stream; resolves once the stream is ready (rejects after 30 s).
 */
function openWatcher(base, path, token, onChange, onClosed = () => {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`);
    });
    socket.setEncoding('utf8');
    const timer = setTimeout(() => fail(new Error('the stream was not ready within 30 s')), 30_000);
    let buffer = '';
    let headersDone = false;
    let ready = false;
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('data', (chunk) => {
      buffer += chunk;
      if (!headersDone) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffer.startsWith('HTTP/1.1 200')) return fail(new Error(`stream answered ${buffer.slice(0, 40)}`));
        headersDone = true;
        buffer = buffer.slice(end + 4);
      }
      // The body is chunked (transfer-encoding): chunk-size lines sit between frames and never contain a blank line pair.
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!ready && frame.includes('event: ready')) {
          ready = true;
          clearTimeout(timer);
          resolve(socket);
        } else if (frame.includes('event: change')) {
          onChange(/^id: (\d+)/m.exec(frame)[1]);
        }
      }
    });
    socket.once('error', (error) => (ready ? onClosed() : fail(error)));
    socket.once('close', () => (ready ? onClosed() : fail(new Error('the stream closed before it was ready'))));
  });
}

/** The soft limit of open files of this process (the server it starts inherits it). */
function openFilesLimit() {
  const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line && line[1] !== 'unlimited' ? Number(line[1]) : Infinity;
}

/** The server's RSS, as the median of three readings 300 ms apart (one reading can catch a GC mid-way). */
async function settledRssMb(pid) {
  const readings = [];
  for (let i = 0; i < 3; i++) {
    if (i) await new Promise((r) => setTimeout(r, 300));
    readings.push(rssMb(pid));
  }
  return readings.sort((a, b) => a - b)[1];
}

if (openFilesLimit() < WATCHERS + 500) {
  console.error(
    `bench:watch needs at least ${WATCHERS + 500} open files per process (ulimit -n is ${openFilesLimit()}): raise it, or set BENCH_WATCHERS lower`,
  );
  process.exit(2);
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
  const before = await settledRssMb(bench.server.pid);

  const received = new Map(); // seq -> arrival times
  const onChange = (seq) => {
    const now = performance.now();
    (received.get(seq) ?? received.set(seq, []).get(seq)).push(now);
  };
  let closedByServer = 0;
  const opening = performance.now();
  const watchers = [];
  for (let i = 0; i < WATCHERS; i += OPEN_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, WATCHERS - i) }, () =>
      openWatcher(bench.base, path, token, onChange, () => closedByServer++),
    );
    watchers.push(...(await Promise.all(batch)));
  }
  const openSeconds = (performance.now() - opening) / 1000;
  await new Promise((r) => setTimeout(r, 3000)); // let the server settle (no fixed sleep in tests; this is a measurement)
  const after = await settledRssMb(bench.server.pid);

  // One change at a time: the next is written once every watcher has the previous one (or 30 s passed).
  // Change 0 is the warm-up of the fan-out to every stream (its first run compiles that path): printed,
  // not counted in the figures.
  const latencies = [];
  for (let c = -1; c < CHANGES; c++) {
    const known = new Set(received.keys());
    const sent = performance.now();
    await api(bench.base, 'PUT', pullPath, { cookie, body: { key: 'WATCHED', value: `v${c}` } }); // throws unless 2xx
    const answered = performance.now() - sent;
    const deadline = Date.now() + 30_000;
    let seq;
    while (Date.now() < deadline) {
      seq = [...received.keys()].find((s) => !known.has(s));
      if (seq && received.get(seq).length >= watchers.length - closedByServer) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const times = (seq && received.get(seq)) || [];
    if (times.length < WATCHERS) throw new Error(`change ${c + 1}: only ${times.length} of ${WATCHERS} watchers received it within 30 s`);
    const ms = times.map((t) => t - sent);
    if (c >= 0) latencies.push(...ms);
    console.log(
      `${c < 0 ? 'warm-up change (not counted)' : `change ${c + 1}`}: the write answered after ${answered.toFixed(0)} ms; first watcher ${Math.min(...ms).toFixed(0)} ms, last ${Math.max(...ms).toFixed(0)} ms`,
    );
  }
  const all = latencies.sort((a, b) => a - b);
  const peak = rssMb(bench.server.pid);
  watchers.forEach((r) => r.destroy());

  const fmt = (n) => n.toFixed(0);
  const extra = after - before;
  const p99 = percentile(all, 99);
  let load = '';
  try {
    load = ` (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`;
  } catch {
    // not Linux
  }
  console.log(`watchers: ${WATCHERS} on one instance, opened in ${openSeconds.toFixed(1)} s${load}`);
  console.log(`server RSS: ${fmt(before)} MB before, ${fmt(after)} MB with the watchers open, ${fmt(peak)} MB after ${CHANGES} changes`);
  console.log(`change → every watcher (${CHANGES} changes × ${WATCHERS} watchers): p50 ${fmt(percentile(all, 50))} ms, max ${fmt(all.at(-1))} ms`);
  console.log(`extra memory for ${WATCHERS} idle watchers: ${fmt(extra)} MB (target < 200 MB: ${extra < 200 ? 'met' : 'MISSED'})`);
  console.log(`change-to-all p99: ${fmt(p99)} ms (target < 1000 ms: ${p99 < 1000 ? 'met' : 'MISSED'})`);
} finally {
  await bench.stop();
}
