import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { readDevSecret } from '../../bootstrap/dev-secrets.js';
import { ConfigError, loadConfig } from '../../config/config.js';
import { PASSWORD_FILE } from '../../database/embedded-postgres.js';
import { KeyProviders } from './key-providers.js';
import { countWrappedKeys, describeCounts, KIND_LABELS, rewrapAll, type Query, type WrappedKeyCount } from './rewrap.js';

/**
 * `npm run kms:rewrap [-- --dry-run]`: moves every stored key to the primary key provider (KMS_PROVIDER),
 * with the server's own environment plus the old provider's setting (README "Moving between key
 * providers"). Safe to run while servers run, to interrupt, and to run again: it takes what is left.
 * Exit code 0 when every key is under the primary provider, 1 when some are not, 2 on a bad setting.
 */
async function main(): Promise<number> {
  const dryRun = process.argv.includes('--dry-run');
  const config = loadConfig();
  const embedded = !config.databaseUrl;
  const databaseUrl = config.databaseUrl ?? (await embeddedDatabaseUrl(config.dataDir, config.embeddedPgPort));
  const masterKey = config.kms.masterKey ?? (embedded ? await readDevSecret(config.dataDir, 'master.key') : undefined);
  const providers = KeyProviders.fromConfig({ ...config, kms: { ...config.kms, masterKey } });

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, statement_timeout: 30_000, connectionTimeoutMillis: 10_000 });
  const query: Query = async (sql, params) => {
    const result = await pool.query(sql, params);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  };
  try {
    const primary = providers.primary;
    say(
      `Target: ${primary.name} (${primary.masterKeyId}); also configured: ${
        providers.all
          .slice(1)
          .map((p) => `${p.name} (${p.masterKeyId})`)
          .join(', ') || 'none'
      }`,
    );
    if (dryRun) {
      const counts = await countWrappedKeys(query, providers);
      printCounts(counts);
      return counts.every((c) => c.current) ? 0 : 1;
    }
    const report = await rewrapAll(query, providers, { log: say });
    say(`Done: rewrapped ${describeCounts(report.rewrapped)}; ${report.skipped} changed meanwhile, ${report.failed} failed`);
    if (!report.remaining.length) {
      say(`Every stored key is wrapped by ${primary.name}: the other providers' settings can be removed.`);
      return 0;
    }
    printCounts(report.remaining);
    return 1;
  } finally {
    await pool.end();
  }
}

function printCounts(counts: WrappedKeyCount[]): void {
  for (const c of counts) {
    const state = c.current ? 'current' : c.readable ? 'to rewrap' : 'NOT READABLE: configure this provider to rewrap them';
    say(`${c.count} ${KIND_LABELS[c.kind]} wrapped by ${c.provider} (${c.masterKey}): ${state}`);
  }
}

/** The embedded database of a server running in this directory (its data dir holds the generated password). */
async function embeddedDatabaseUrl(dataDir: string, port: number): Promise<string> {
  const password = (await readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim();
  return `postgres://secr:${encodeURIComponent(password)}@127.0.0.1:${port}/secr`;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`kms:rewrap failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
