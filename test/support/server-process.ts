import { afterAll } from '@jest/globals';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { HttpClient } from './http.js';
import { NODE_COMPILE_CACHE_DIR } from './node-compile-cache.js';
import { TEST_MASTER_KEY, TEST_SESSION_SECRET } from './test-app.js';
import { createTestDatabase } from './test-database.js';

/** The built server (dist/src/main.js; `npm test` builds first), run as a real process. */
const MAIN = path.resolve('dist/src/main.js');

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const launched = new Set<ChildProcess>();

/**
 * After the test file (a hook of its root, registered when the file imports this module): each server
 * it launched is killed with what it started (an embedded PostgreSQL), as a process group. A test that
 * failed or timed out before stopping its server would otherwise leave the process, and its pipes in
 * jest's worker, behind: the worker then fails to exit gracefully.
 */
afterAll(async () => {
  await Promise.all(
    [...launched].map(async (child) => {
      const running = child.exitCode === null && child.signalCode === null;
      const exited = running ? new Promise((resolve) => child.once('exit', resolve)) : undefined;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // also an orphaned PostgreSQL of a server a test SIGKILLed
      } catch {
        // the group is gone
      }
      await exited;
    }),
  );
  launched.clear();
});

/** Like test apps, a launched server runs as a self-hosted install (DEFAULT_PLAN=enterprise) unless told otherwise. */
export function launchServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: os.tmpdir(),
      NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      DEFAULT_PLAN: 'enterprise',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: the clean-up above kills the whole group, and a test can send a signal to
    // it as Ctrl-C in a terminal does (a shell makes `npm start` the leader of a group too).
    detached: true,
  });
  launched.add(child);
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Resolves once the server has printed `text` (checked on each chunk it writes); fails if it exits first or after `timeoutMs`. */
export function waitForOutput(server: ServerProcess, text: string, timeoutMs = 60_000): Promise<void> {
  if (server.output().includes(text)) return Promise.resolve();
  const { child } = server;
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      child.off('close', exited);
      if (error) reject(error);
      else resolve();
    };
    const fail = (why: string) => done(new Error(`server did not print "${text}" (${why}); output:\n${server.output()}`));
    // Listeners run in the order added: launchServer's, which appends the chunk to output(), comes first.
    const check = () => server.output().includes(text) && done();
    // 'close': the process has exited and its output has been read to the end.
    const exited = () => (server.output().includes(text) ? done() : fail('it exited'));
    const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('close', exited);
    if (child.exitCode !== null || child.signalCode !== null) fail('it exited');
  });
}

/**
 * A port free on 127.0.0.1 now, for a process a test starts later (a server, a PostgreSQL). Taken below
 * the kernel's ephemeral range when it can be read: a port the kernel handed out (listen on port 0) and
 * that was closed again is the next one it may give an outgoing connection of any process here (the
 * suite opens thousands), and PostgreSQL or the server, binding it a moment later, then failed with
 * "address already in use". Ports of that range are never given out so; this process hands out each
 * port once, and a test that starts a PostgreSQL retries on another port anyway (onFreePort).
 */
export async function freePort(): Promise<number> {
  const range = portsOutsideEphemeralRange();
  for (let attempt = 0; range && attempt < 50; attempt++) {
    const port = range.from + Math.floor(Math.random() * (range.to - range.from + 1));
    if (!handedOut.has(port) && (await bindable(port))) {
      handedOut.add(port);
      return port;
    }
  }
  return kernelPort();
}

/** Ports freePort gave in this process. */
const handedOut = new Set<number>();

/** Up to 16384 ports just below the kernel's ephemeral range (Linux), or null where it cannot be read. */
function portsOutsideEphemeralRange(): { from: number; to: number } | null {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const from = Math.max(1024, low - 16_384);
    return Number.isInteger(low) && low - 1 - from >= 1_000 ? { from, to: low - 1 } : null;
  } catch {
    return null;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A failure to listen because the port is taken: Node's EADDRINUSE, or PostgreSQL's "could not bind …: Address already in use". */
export function isAddressInUse(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === 'EADDRINUSE' || (typeof e?.message === 'string' && /address already in use/i.test(e.message));
}

/**
 * Runs `start` on a free port, and again on another one while it fails because the port was taken
 * between freePort and the bind (by another process of the machine): up to `attempts` ports.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= attempts || !isAddressInUse(error)) throw error;
    }
  }
}

export interface TracingServer {
  server: ServerProcess;
  api: HttpClient;
  /** Direct SQL on the server's database. */
  db: pg.Pool;
}

/**
 * The real server as a process at LOG_LEVEL=trace, on a fresh test database, started and listening: for
 * tests that read everything it logs. Webhooks may go to loopback. `env` adds or overrides settings.
 */
export async function launchTracingServer(env: Record<string, string> = {}): Promise<TracingServer> {
  const databaseUrl = await createTestDatabase();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const port = await freePort();
  const server = launchServer({
    NODE_ENV: 'test',
    LOG_LEVEL: 'trace',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: TEST_SESSION_SECRET,
    SECR_MASTER_KEY: TEST_MASTER_KEY,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '500',
    ...env,
  });
  await waitForOutput(server, 'secr API listening on');
  return { server, api: new HttpClient(`http://127.0.0.1:${port}`), db };
}
