import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runMigrations } from '../../src/database/data-source.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { onFreePort } from './server-process.js';

/**
 * An embedded PostgreSQL of a test's own (not the shared test cluster), for tests that stop, pause or
 * restart the database. `stop()` and `remove()` are safe to call more than once.
 */
export interface OwnPostgres {
  readonly dataDir: string;
  readonly port: number;
  readonly url: string;
  server: EmbeddedDatabase;
  /** Every process of the cluster: the postmaster and its children (backends, background workers). */
  processes(): number[];
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** Starts it again on the same data dir and port (after `server.stop()`). */
  restart(): Promise<void>;
  remove(): Promise<void>;
}

export async function startOwnPostgres(database = 'secr', migrate = true): Promise<OwnPostgres> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secr-own-pg-'));
  // Another port if the one chosen was taken before PostgreSQL bound it (a restart keeps the port it has).
  let port = 0;
  const server = await onFreePort((free) => startEmbeddedPostgres({ dataDir, port: (port = free), database }));
  const start = () => startEmbeddedPostgres({ dataDir, port, database });
  const own: OwnPostgres = {
    dataDir,
    port,
    server,
    get url() {
      return own.server.url;
    },
    processes: () => {
      const pid = postmasterPid(dataDir);
      return pid ? [pid, ...descendantsOf(pid)] : [];
    },
    signal(signal) {
      for (const pid of own.processes()) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone meanwhile
        }
      }
    },
    async restart() {
      own.server = await start();
    },
    async remove() {
      own.signal('SIGCONT');
      await own.server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  if (migrate) await runMigrations(own.url);
  return own;
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0], 10);
  } catch {
    return undefined; // not running
  }
}

function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}
