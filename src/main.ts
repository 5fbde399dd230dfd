import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import { safeError } from './common/logging/safe-error.js';
import { loadOrCreateDevSecret, readDevSecret } from './bootstrap/dev-secrets.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { postgresLogLine } from './database/postgres-log.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './database/embedded-postgres.js';
import { retryWhileUnavailable } from './database/pg-connection.js';

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // The app and TypeORM load only once the configuration is valid (a configuration error exits without
  // them), and while the embedded PostgreSQL starts.
  const loading = Promise.all([import('./app.factory.js'), import('./database/data-source.js')]);
  loading.catch(() => undefined); // awaited below; a failure is reported there
  const log = pino({
    level: config.logLevel,
    name: 'secr',
    serializers: { err: safeError, error: safeError },
    transport: config.env === 'development' ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
  });

  // Node's default report of an uncaught error prints its message and every property (a query's
  // parameters among them) to stderr: report it through the safe serializer instead, then exit as Node would.
  const crash = (kind: string) => (error: unknown) => {
    log.fatal({ err: error }, kind);
    process.exit(1);
  };
  process.on('uncaughtException', crash('Uncaught exception'));
  process.on('unhandledRejection', crash('Unhandled promise rejection'));

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    log.info(`DATABASE_URL is unset: starting the embedded PostgreSQL in ${path.resolve(config.dataDir, 'pg')}`);
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      database: 'secr',
      log: (line) => log.debug({ component: 'postgres' }, postgresLogLine(line)),
    });
    databaseUrl = embedded.url;
  }

  config = {
    ...config,
    sessionSecret: config.sessionSecret ?? (await devSessionSecret(config, embedded !== undefined, log)),
    kms: { ...config.kms, masterKey: config.kms.masterKey ?? (await devMasterKey(config, embedded !== undefined, log)) },
  };

  // A connection lost during start-up (a restart, pg_terminate_backend) fails a step: try it again, for
  // about 45 s (12 tries, at most 5 s apart) before giving up with exit code 1.
  const bootRetry = { attempts: 12, onRetry: (message: string) => log.warn(message) };
  const [{ createApp }, { runMigrations }] = await loading;
  const migrationUrl = databaseUrl;
  const applied = await retryWhileUnavailable('Applying migrations', () => runMigrations(migrationUrl, config.databaseTimeouts), bootRetry);
  if (applied.length) log.info({ migrations: applied }, `Applied ${applied.length} migration(s)`);

  const appConfig = config;
  const appUrl = databaseUrl;
  const app = await retryWhileUnavailable(
    'Starting the API',
    async () => {
      const candidate = await createApp(appConfig, appUrl);
      try {
        await candidate.init(); // every module's start-up work (job queue, workers) runs here
        return candidate;
      } catch (error) {
        await candidate.close().catch(() => undefined);
        throw error;
      }
    },
    bootRetry,
  );
  await app.listen({ port: config.port, host: config.host });
  log.info(`secr API listening on ${config.publicUrl} — dashboard: ${config.publicUrl}/ — Swagger UI: ${config.publicUrl}/docs`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: shutting down`);
    try {
      await app.close();
      await embedded?.stop();
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'Error while shutting down');
      process.exit(1);
    }
  };
  for (const signal of SHUTDOWN_SIGNALS) process.once(signal, () => void shutdown(signal));
}

/**
 * The local KMS master key. Generated only next to the embedded database it protects: with an external
 * database a lost key would make every stored secret unreadable, so it must be configured.
 */
async function devMasterKey(config: AppConfig, embedded: boolean, log: pino.Logger): Promise<string | undefined> {
  // On a cloud KMS, a generated master key of the embedded mode still unwraps the keys it wrapped until
  // `npm run kms:rewrap` has moved them (README: moving between key providers).
  if (config.kms.provider !== 'local') return embedded ? readDevSecret(config.dataDir, 'master.key') : undefined;
  if (!embedded) {
    throw new ConfigError(['SECR_MASTER_KEY: required with KMS_PROVIDER=local unless the embedded database is used (openssl rand -base64 32)']);
  }
  const { value, created } = await loadOrCreateDevSecret(config.dataDir, 'master.key');
  if (created)
    log.warn(`SECR_MASTER_KEY is unset: generated a master key into ${path.join(config.dataDir, 'master.key')} (development only; back it up with the data)`);
  return value;
}

async function devSessionSecret(config: AppConfig, embedded: boolean, log: pino.Logger): Promise<string> {
  if (embedded) {
    const { value, created } = await loadOrCreateDevSecret(config.dataDir, 'session.secret');
    if (created) log.warn(`SESSION_SECRET is unset: generated one into ${path.join(config.dataDir, 'session.secret')} (development only)`);
    return value;
  }
  log.warn('SESSION_SECRET is unset: using a random one; sessions end when the server restarts (development only)');
  return randomBytes(32).toString('base64');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  // A database error's message can quote values (PostgreSQL's "invalid input syntax … \"…\""): such
  // an error is reported as safeError describes it; any other keeps its message, which says what to fix.
  const safe = safeError(error);
  const report = safe.sqlstate || safe.statement ? JSON.stringify(safe) : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`secr failed to start: ${report}\n`);
  process.exit(1);
});
