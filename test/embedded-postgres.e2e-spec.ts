import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LEGACY_PASSWORD, PASSWORD_FILE, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/database/embedded-postgres.js';
import { freePort, launchServer, onFreePort, waitForOutput, type ServerProcess } from './support/server-process.js';

/**
 * Issue #11: the embedded PostgreSQL had a fixed superuser password on loopback TCP, and inherited the
 * server's whole environment (pg_read_binary_file('/proc/<pid>/environ') showed STRIPE_SECRET_KEY).
 */
async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function urlWithPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number.parseInt(readFileSync(file, 'utf8').split('\n')[0], 10) : undefined;
}

/** Each test starts clusters of its own (own data dirs and ports), so the tests run concurrently. */
describe('the embedded PostgreSQL', () => {
  const dirs: string[] = [];
  const servers: EmbeddedDatabase[] = [];
  const processes: ServerProcess[] = [];
  const newDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'secr-embedded-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (dataDir: string, port?: number) => {
    const server = port
      ? await startEmbeddedPostgres({ dataDir, port, database: 'secr' })
      : await onFreePort((free) => startEmbeddedPostgres({ dataDir, port: free, database: 'secr' }));
    servers.push(server);
    return server;
  };

  afterAll(async () => {
    for (const child of processes) if (child.child.exitCode === null) child.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it.concurrent('gets a random superuser password, kept in <dataDir>/pg.password with mode 0600, different for every new cluster', async () => {
    const [dirA, dirB] = [await newDir(), await newDir()];
    const [a, b] = [await start(dirA), await start(dirB)];
    const passwordOf = (dir: string) => readFileSync(path.join(dir, PASSWORD_FILE), 'utf8').trim();

    for (const dir of [dirA, dirB]) {
      expect(statSync(path.join(dir, PASSWORD_FILE)).mode & 0o777).toBe(0o600);
      expect(passwordOf(dir).length).toBeGreaterThanOrEqual(32);
    }
    expect(passwordOf(dirA)).not.toBe(passwordOf(dirB));
    expect(passwordOf(dirA)).not.toBe(LEGACY_PASSWORD);
    // The URL carries the generated password, and the old fixed one is refused.
    expect(decodeURIComponent(new URL(a.url).password)).toBe(passwordOf(dirA));
    expect(await query(a.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await expect(query(urlWithPassword(b.url, LEGACY_PASSWORD), 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });

    // A restart reads the same password back.
    await b.stop();
    const again = await start(dirB);
    expect(decodeURIComponent(new URL(again.url).password)).toBe(passwordOf(dirB));
    expect(await query(again.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it.concurrent('migrates a cluster created with the old fixed password to a generated one, keeping its data', async () => {
    // A cluster as older versions left it: superuser password 'secr-embedded', no password file.
    const dataDir = await newDir();
    const first = await start(dataDir);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await query(first.url, `ALTER ROLE secr PASSWORD '${LEGACY_PASSWORD}'`);
    await first.stop();
    await unlink(path.join(dataDir, PASSWORD_FILE));
    const legacyUrl = urlWithPassword(first.url, LEGACY_PASSWORD);

    const migrated = await start(dataDir, Number(new URL(first.url).port));
    const password = readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim();
    expect(password).not.toBe(LEGACY_PASSWORD);
    expect(statSync(path.join(dataDir, PASSWORD_FILE)).mode & 0o777).toBe(0o600);
    expect(await query(migrated.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    await expect(query(legacyUrl, 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
  });

  it.concurrent(
    "does not pass the server's environment to PostgreSQL: a secret set for the server is not in the postmaster's environment, read from /proc or through SQL",
    async () => {
      const dataDir = await newDir();
      const marker = `sk_test_marker_${Date.now()}`;
      const port = String(await freePort());
      const server = launchServer({
        SECR_DATA_DIR: dataDir,
        PORT: port,
        EMBEDDED_PG_PORT: String(await freePort()),
        STRIPE_SECRET_KEY: marker,
        SECR_TEST_MARKER: marker,
      });
      processes.push(server);
      await waitForOutput(server, 'Swagger UI');

      const pid = postmasterPid(dataDir)!;
      const postmasterEnv = readFileSync(`/proc/${pid}/environ`, 'latin1');
      expect(postmasterEnv).toContain('PATH='); // the file is readable and holds what PostgreSQL needs
      expect(postmasterEnv).not.toContain(marker);
      expect(postmasterEnv).not.toContain('STRIPE_SECRET_KEY');

      // The attack of the issue, through SQL: a superuser reads the postmaster's environment (backends
      // overwrite theirs with their process title).
      const password = readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim();
      const url = `postgres://secr:${encodeURIComponent(password)}@127.0.0.1:${postmasterPort(dataDir)}/secr`;
      const [row] = await query<{ environ: Buffer }>(
        url,
        "SELECT pg_read_binary_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\\n', 1) || '/environ') AS environ",
      );
      expect(row.environ.toString('latin1')).toContain('PATH=');
      expect(row.environ.toString('latin1')).not.toContain(marker);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    },
  );
});

function postmasterPort(dataDir: string): number {
  return Number.parseInt(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3], 10);
}
