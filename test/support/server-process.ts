import { ChildProcess, spawn } from 'node:child_process';
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
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function waitForOutput(server: ServerProcess, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!server.output().includes(text)) {
    if (Date.now() > deadline || server.child.exitCode !== null) {
      throw new Error(`server did not print "${text}"; output:\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
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
