// Runs in jest's parent process, outside its module system (no TypeScript, no path mapping), so it
// uses the compiled code in dist/: `npm test` builds first.
import { fork } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runMigrations } from '../../dist/src/database/data-source.js';
import { startEmbeddedPostgres } from '../../dist/src/database/embedded-postgres.js';

export const TEMPLATE_DB = 'secr_template';
export const TEST_PG_ENV = 'SECR_TEST_PG';
/** Node's module compile cache of the processes the tests spawn (the CLI, the server): see test/support/node-compile-cache.ts. */
export const COMPILE_CACHE_ENV = 'SECR_TEST_COMPILE_CACHE';
/** JSON list of the app hosts' URLs (test/setup/app-host.mjs), one per jest worker: see test/support/test-app.ts. */
export const APP_HOSTS_ENV = 'SECR_TEST_APP_HOSTS';

/**
 * One embedded PostgreSQL for the whole run, in a temp dir. The schema is migrated once into a
 * template database; every test file clones it (CREATE DATABASE … TEMPLATE) for isolation.
 */
export default async function globalSetup(globalConfig) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-test-'));
  const server = await startOnFreePort((port) => startEmbeddedPostgres({ dataDir, port, database: TEMPLATE_DB }));
  const admin = new pg.Client({ connectionString: server.url.replace(`/${TEMPLATE_DB}`, '/postgres') });
  await admin.connect();
  // A throw-away cluster: no flush to disk on every commit and every CREATE DATABASE (each test file
  // clones the template). What a crash would lose is gone with the temp dir anyway; the tests that
  // stop, pause, kill or restart a database run clusters of their own, with the defaults.
  for (const setting of ['fsync', 'synchronous_commit', 'full_page_writes']) await admin.query(`ALTER SYSTEM SET ${setting} = off`);
  await admin.query('SELECT pg_reload_conf()');
  await runMigrations(server.url);
  await admin.query(`ALTER DATABASE ${TEMPLATE_DB} WITH IS_TEMPLATE true`);
  await admin.end();

  process.env[TEST_PG_ENV] = JSON.stringify({ url: server.url, dataDir });
  // Inside the run's temp dir, so the teardown removes it with the cluster.
  process.env[COMPILE_CACHE_ENV] = path.join(dataDir, 'node-compile-cache');
  globalThis.__secrTestPg = server;

  const hosts = await Promise.all(Array.from({ length: Math.max(1, globalConfig?.maxWorkers ?? 1) }, startAppHost));
  process.env[APP_HOSTS_ENV] = JSON.stringify(hosts.map((h) => h.url));
  globalThis.__secrAppHosts = hosts.map((h) => h.child);
  globalThis.__secrDeprecations = [];
  for (const { child } of hosts) child.on('message', (message) => message?.deprecation && globalThis.__secrDeprecations.push(message.deprecation));
}

/**
 * One app host (test/setup/app-host.mjs): it inherits stdout/stderr (test apps log there when
 * TEST_LOG_LEVEL is set). It holds no reference on this process: if jest ends without its teardown,
 * the IPC channel closes and the host stops.
 */
function startAppHost() {
  const child = fork(new URL('./app-host.mjs', import.meta.url), [], {
    // A deprecation's warning names where it was raised (pg's "already executing a query" names no caller).
    execArgv: ['--trace-deprecation'],
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      NODE_COMPILE_CACHE: process.env[COMPILE_CACHE_ENV],
      // No credentials look-up against a cloud metadata server by the gcp KMS client (tests talk to loopback only).
      METADATA_SERVER_DETECTION: 'none',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`app host exited with ${code} before listening`)));
    child.once('message', ({ port }) => {
      child.removeAllListeners('exit');
      child.unref();
      child.channel?.unref();
      resolve({ child, url: `http://127.0.0.1:${port}` });
    });
  });
}

/**
 * Starts the cluster on a free port, and on another one while PostgreSQL fails to bind it because it was
 * taken between freePort and the bind (by an outgoing connection of any process here): up to five ports.
 */
async function startOnFreePort(start) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= 5 || !/address already in use/i.test(String(error?.message))) throw error;
    }
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
