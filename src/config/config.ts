import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one place environment variables are read. `loadConfig` validates them once at start-up into a
 * typed, frozen object; a bad or missing variable stops the boot with a message that names it.
 * Every variable is documented in `.env.example`.
 */

const booleanString = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

/** OWASP's recommended argon2id cost (19 MiB, 2 passes, 1 lane): the production default and minimum. */
export const DEFAULT_PASSWORD_HASH_COST: PasswordHashCost = Object.freeze({ memoryKiB: 19_456, timeCost: 2 });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: positiveInt.max(200).default(10),
  // Bounded waits on the database (milliseconds; 0 turns a PostgreSQL-side limit off).
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(3_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).optional(),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  // Worker threads that decrypt pulls; 0 decrypts on the main thread. Default: one per core but one.
  DECRYPT_WORKERS: z.coerce
    .number()
    .int()
    .min(0)
    .max(64)
    .default(Math.min(4, os.availableParallelism() - 1)),
  SECR_DATA_DIR: z.string().min(1).default('.secr-data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_TTL_HOURS: positiveInt.max(24 * 90).default(24 * 7),
  TOKEN_DEFAULT_TTL_DAYS: positiveInt.max(3650).default(90),
  CLI_LOGIN_POLL_INTERVAL_SECONDS: positiveInt.max(60).default(5),
  CLI_LOGIN_RATE_LIMIT_PER_IP: positiveInt.default(20),
  WEB_DIST_DIR: z.string().min(1).default('web/dist'),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, ctx): boolean | string => {
      if (v === undefined || v === '' || v === 'false' || v === '0') return false;
      if (v === 'true' || v === '1') return true;
      // A comma-separated list of trusted proxy addresses / CIDRs, as Fastify accepts it.
      if (/^[0-9a-fA-F.:/, ]+$/.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: 'must be true, false or a list of proxy addresses' });
      return z.NEVER;
    }),
  LOGIN_RATE_LIMIT_PER_IP: positiveInt.default(30),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: positiveInt.default(10),
  LOGIN_RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(60),
  LOGIN_LOCKOUT_FAILURES: positiveInt.default(5),
  LOGIN_LOCKOUT_MINUTES: positiveInt.default(15),
  REGISTER_RATE_LIMIT_PER_IP: positiveInt.default(20),
  REGISTER_RATE_LIMIT_PER_ADDRESS: positiveInt.default(3),
  REGISTER_RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(3600),
  // argon2id's cost for new password hashes (a stored hash keeps the cost it was made with, and verifies).
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(8).max(4_194_304).default(DEFAULT_PASSWORD_HASH_COST.memoryKiB),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).max(100).default(DEFAULT_PASSWORD_HASH_COST.timeCost),
  SMTP_URL: z
    .string()
    .refine(isSmtpUrl, 'must be smtp://[user:password@]host[:port] or smtps://… (percent-encode special characters in the password)')
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an address, or a name and an address: secr <no-reply@example.com>')
    .optional(),
  MAIL_RATE_LIMIT_PER_IP: positiveInt.default(20),
  MAIL_RATE_LIMIT_PER_ADDRESS: positiveInt.default(5),
  MAIL_RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(3600),
  REQUIRE_VERIFIED_EMAIL: booleanString.default(false),
  SWAGGER_UI: booleanString.default(true),
  KMS_PROVIDER: z.enum(['local', 'gcp', 'aws', 'azure']).default('local'),
  SECR_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  KMS_GCP_KEY_NAME: z
    .string()
    .regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/, 'must be projects/…/locations/…/keyRings/…/cryptoKeys/…')
    .optional(),
  KMS_GCP_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be host or host:port')
    .optional(),
  KMS_AWS_KEY_ID: z
    .string()
    .regex(
      /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/,
      'must be a key id, key ARN, alias/<name> or alias ARN',
    )
    .optional(),
  KMS_AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  KMS_AWS_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  KMS_AZURE_KEY_ID: z
    .string()
    .regex(
      /^https:\/\/[A-Za-z0-9.-]+(:\d+)?\/keys\/[A-Za-z0-9-]{1,127}(\/[A-Za-z0-9]+)?\/?$/,
      'must be https://<vault>.vault.azure.net/keys/<name>[/<version>]',
    )
    .optional(),
  DEK_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  ROTATION_BATCH_SIZE: positiveInt.max(10_000).default(500),
  WEBHOOK_ALLOW_PRIVATE: booleanString.default(false),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: positiveInt.max(86_400).default(300),
  AUDIT_RETENTION_DAYS: positiveInt.max(36_500).optional(),
  AUDIT_RETENTION_INTERVAL_SECONDS: positiveInt.max(86_400).default(3_600),
  ORG_PURGE_BATCH_SIZE: positiveInt.max(100_000).default(5_000),
  ORG_PURGE_CONCURRENCY: z.coerce.number().int().min(0).max(16).default(1),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  WEBHOOK_RETRY_BASE_SECONDS: positiveInt.max(3600).default(30),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(0).max(100).default(4),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(500).max(60_000).default(2000),
  OIDC_ALLOW_PRIVATE: booleanString.default(false),
  OIDC_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  OIDC_JWKS_CACHE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  OIDC_JWKS_REFETCH_SECONDS: z.coerce.number().int().min(0).max(3_600).default(30),
  OIDC_EXCHANGE_RATE_LIMIT_PER_ORG: positiveInt.default(120),
  OIDC_REFUSAL_LIMIT_PER_IP: positiveInt.default(60),
  STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  STREAM_RECHECK_MS: z.coerce.number().int().min(100).max(60_000).default(30_000),
  STREAM_MAX_PER_CREDENTIAL: positiveInt.max(1_000_000).default(20),
  STREAM_MAX_PER_INSTANCE: positiveInt.max(1_000_000).default(10_000),
  STREAM_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(256 * 1024),
  CHANGE_LOG_MAX_AGE_HOURS: z.coerce.number().int().min(0).max(87_600).default(168),
  CHANGE_LOG_MAX_PER_ENVIRONMENT: positiveInt.max(10_000_000).default(1_000),
  CHANGE_LOG_PRUNE_INTERVAL_SECONDS: positiveInt.max(86_400).default(600),
  RATE_LIMIT_PRUNE_INTERVAL_SECONDS: positiveInt.max(86_400).default(600),
  DEFAULT_PLAN: z.enum(['free', 'pro', 'team', 'enterprise']).optional(),
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  STRIPE_PRICE_PRO: z.string().min(1).optional(),
  STRIPE_PRICE_TEAM: z.string().min(1).optional(),
  STRIPE_API_URL: z.url().optional(),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  SECR_ADMIN_EMAILS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine((list) => list.every((e) => /^[^\s@]+@[^\s@]+$/.test(e)), 'must be a comma-separated list of email addresses')
    .default([]),
});

export type Env = z.input<typeof envSchema>;

export interface RateLimitRule {
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly isProduction: boolean;
  readonly port: number;
  readonly host: string;
  /** Base URL people reach the API at (links in mails, Swagger server). */
  readonly publicUrl: string;
  readonly logLevel: string;
  /** `undefined` = start the embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  /** Time-outs on every connection of the app's pools (TypeORM's, pg-boss's). */
  readonly databaseTimeouts: DatabaseTimeouts;
  readonly http: {
    /** Receiving a whole request (headers and body) from the client; then 408 and the socket closes. */
    readonly requestTimeoutMs: number;
    /** Receiving a request's headers. */
    readonly headersTimeoutMs: number;
  };
  readonly decryptWorkers: number;
  readonly dataDir: string;
  readonly embeddedPgPort: number;
  /** `undefined` only before start-up resolved it (generated in embedded dev mode). */
  readonly sessionSecret: string | undefined;
  readonly sessionTtlSeconds: number;
  readonly tokenDefaultTtlDays: number;
  /** The shortest time between two polls of one CLI sign-in request (`secr login` through the browser). */
  readonly cliLoginPollIntervalSeconds: number;
  /** CLI sign-in requests a client address may start per 10 minutes (each holds a row for 10 minutes). */
  readonly cliLoginStartLimit: RateLimitRule;
  /** The built dashboard (`npm run build:web`), served at `/` when it exists. */
  readonly webDistDir: string;
  readonly trustProxy: boolean | string;
  readonly loginRateLimit: {
    readonly perIp: RateLimitRule;
    readonly perAccount: RateLimitRule;
    readonly lockoutFailures: number;
    readonly lockoutSeconds: number;
  };
  /** Sign-ups per client address and per email address in a window (each one costs an argon2 hash and mails). */
  readonly registerRateLimit: {
    readonly perIp: RateLimitRule;
    readonly perAddress: RateLimitRule;
  };
  readonly mail: {
    /** `undefined` = mail is written to the log (development only). */
    readonly smtpUrl: string | undefined;
    /** The From header of every mail. */
    readonly from: string;
    /** Mails that forgot-password and send-verification may trigger per client address and per account address. */
    readonly rateLimit: { readonly perIp: RateLimitRule; readonly perAddress: RateLimitRule };
  };
  /** The argon2id cost of new password hashes (ARGON2_MEMORY_KIB, ARGON2_TIME_COST). */
  readonly passwordHashCost: PasswordHashCost;
  /** Accepting an invitation also needs a verified address. */
  readonly requireVerifiedEmail: boolean;
  readonly swaggerUi: boolean;
  readonly kms: {
    /** Wraps new keys; every other provider configured below only unwraps (a move between providers: `npm run kms:rewrap`). */
    readonly provider: 'local' | 'gcp' | 'aws' | 'azure';
    /** Base64 master key of the local provider; `undefined` only before start-up resolved it (embedded dev mode). */
    readonly masterKey: string | undefined;
    readonly gcpKeyName: string | undefined;
    /** host[:port] of the Cloud KMS API; a loopback host is spoken to without TLS (emulators, tests). */
    readonly gcpEndpoint: string | undefined;
    readonly awsKeyId: string | undefined;
    readonly awsRegion: string | undefined;
    /** An http(s) URL for the KMS API instead of the region's (a local KMS-compatible service, tests). */
    readonly awsEndpoint: string | undefined;
    readonly azureKeyId: string | undefined;
    readonly dekCacheTtlSeconds: number;
  };
  /** Values re-encrypted per transaction during a key rotation. */
  readonly rotationBatchSize: number;
  readonly audit: {
    /** How often an instance signs a checkpoint of each org's chain that grew since its last one. */
    readonly checkpointIntervalSeconds: number;
    /** Audit rows older than this are deleted (an org's own period wins); undefined = kept forever. */
    readonly retentionDays: number | undefined;
    /** How often an instance runs the retention pass. */
    readonly retentionIntervalSeconds: number;
  };
  readonly orgPurge: {
    /** Rows deleted per statement while purging a deleted org's data. */
    readonly batchSize: number;
    /** Orgs this instance purges at once; 0 = this instance purges none (others, or a later start, do). */
    readonly concurrency: number;
  };
  readonly webhooks: {
    /**
     * Deliver to loopback, private, link-local, CGNAT and reserved addresses, and over plain http
     * (development and tests only). Cloud metadata endpoints stay refused.
     */
    readonly allowPrivate: boolean;
    /** One delivery attempt, connect to last byte read. */
    readonly timeoutMs: number;
    /** Attempts per delivery, the first included. */
    readonly maxAttempts: number;
    /** Retry n waits base × 2^(n-1) to base × 2^n seconds. */
    readonly retryBaseSeconds: number;
    /** Deliveries this instance sends at once; 0 = it sends none (an API-only replica). */
    readonly concurrency: number;
    /** How often an idle worker looks for due deliveries. */
    readonly pollIntervalMs: number;
  };
  /** Keyless CI: exchanging CI OIDC tokens for short-lived secr tokens (modules/auth/oidc). */
  readonly oidc: {
    /** Fetch discovery documents and keys from loopback/private addresses and over http (development, tests). */
    readonly allowPrivate: boolean;
    /** One discovery or JWKS fetch, connect to last byte. */
    readonly httpTimeoutMs: number;
    /** How long an instance reuses an issuer's keys. */
    readonly jwksCacheSeconds: number;
    /** A token signed with a key id not in the cached keys refetches them, at most this often per issuer. */
    readonly jwksRefetchSeconds: number;
    /** Successful exchanges per org per minute, counted across every instance. */
    readonly exchangeLimit: RateLimitRule;
    /** Refused exchanges per client address per minute; past it the address's exchanges get 429 for a minute. */
    readonly refusalLimit: RateLimitRule;
  };
  /** The change stream (`GET /v1/secrets/…/events`, issue 18). */
  readonly streams: {
    /** A comment line to every open stream this often, so proxies keep it open. */
    readonly heartbeatMs: number;
    /** How often every open stream's caller is checked again (token, session, membership, role). */
    readonly recheckMs: number;
    /** Open streams per token or session on one instance. */
    readonly maxPerCredential: number;
    /** Open streams on one instance. */
    readonly maxPerInstance: number;
    /** Bytes a stream may have waiting for a slow client before it is closed. */
    readonly bufferBytes: number;
  };
  /** Pruning of the change log (`secret_changes`), through the job queue. */
  readonly changeLog: {
    /** Changes older than this are deleted (0: no age limit). */
    readonly maxAgeHours: number;
    /** Each environment keeps at most its latest this many changes. */
    readonly maxPerEnvironment: number;
    /** How often each instance asks for a pass (at most one runs at a time, on any instance). */
    readonly pruneIntervalSeconds: number;
  };
  /** How often each instance asks for a pass deleting expired rate-limit buckets (at most one runs at a time, on any instance). */
  readonly rateLimitPruneIntervalSeconds: number;
  /** The plan of an org that has none: `DEFAULT_PLAN`, else `free` with Stripe configured and `enterprise` (no limits) without. */
  readonly defaultPlan: 'free' | 'pro' | 'team' | 'enterprise';
  /** Lower-cased addresses whose accounts are instance administrators (at sign-up and at start-up). */
  readonly adminEmails: readonly string[];
  readonly stripe: {
    /** `undefined` = billing mutations answer 503 billing_not_configured. */
    readonly secretKey: string | undefined;
    /** Signing secret of the webhook endpoint (whsec_…); `undefined` = the webhook answers 503. */
    readonly webhookSecret: string | undefined;
    readonly pricePro: string | undefined;
    readonly priceTeam: string | undefined;
    /** Another Stripe API base URL (tests, stripe-mock); `undefined` = api.stripe.com. */
    readonly apiUrl: string | undefined;
    /** How long one call to Stripe may take before billing answers 503 `billing_unavailable`. */
    readonly timeoutMs: number;
  };
}

/** argon2id's cost: memory in KiB and passes over it (one lane). */
export interface PasswordHashCost {
  readonly memoryKiB: number;
  readonly timeCost: number;
}

/** Bounded waits on the database, in milliseconds (see DATABASE_*_TIMEOUT_MS in the README). */
export interface DatabaseTimeouts {
  /** PostgreSQL's statement_timeout (0 = off). */
  readonly statementMs: number;
  /** PostgreSQL's lock_timeout: waiting for a row, table or advisory lock (0 = off). */
  readonly lockMs: number;
  /** PostgreSQL's idle_in_transaction_session_timeout (0 = off). */
  readonly idleInTransactionMs: number;
  /** Opening a connection. */
  readonly connectMs: number;
  /**
   * Waiting for a free connection of the app's pool: the server's own queue of requests, as long as a
   * request may take to arrive (HTTP_REQUEST_TIMEOUT_MS). A burst of writers of one key waits its turn
   * there (they commit one at a time); a database that is down or stalled still fails a waiter within
   * about connectMs + queryMs (the connection it waits for fails, and a new one must be opened).
   */
  readonly poolWaitMs: number;
  /**
   * Client side: a query without an answer after this long fails and its connection is discarded.
   * Catches a server that cannot enforce its own statement_timeout (stopped, partitioned).
   */
  readonly queryMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings count as unset, as they do in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    // The embedded database and generated secrets are development conveniences only.
    if (!e.SESSION_SECRET) problems.push('SESSION_SECRET: required when NODE_ENV=production');
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required when NODE_ENV=production');
    if (e.KMS_PROVIDER === 'local' && !e.SECR_MASTER_KEY) {
      problems.push('SECR_MASTER_KEY: required when NODE_ENV=production and KMS_PROVIDER=local');
    }
    // Verification, password reset and invitations depend on mail that arrives, with working links.
    if (!e.SMTP_URL) problems.push('SMTP_URL: required when NODE_ENV=production (mail would only be logged)');
    if (!e.PUBLIC_URL) problems.push('PUBLIC_URL: required when NODE_ENV=production (the links in mails are built from it)');
    // A cheaper hash is for tests and development only: production may raise the cost, never lower it.
    if (e.ARGON2_MEMORY_KIB < DEFAULT_PASSWORD_HASH_COST.memoryKiB)
      problems.push(`ARGON2_MEMORY_KIB: must be at least ${DEFAULT_PASSWORD_HASH_COST.memoryKiB} when NODE_ENV=production`);
    if (e.ARGON2_TIME_COST < DEFAULT_PASSWORD_HASH_COST.timeCost)
      problems.push(`ARGON2_TIME_COST: must be at least ${DEFAULT_PASSWORD_HASH_COST.timeCost} when NODE_ENV=production`);
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be greater than HTTP_REQUEST_TIMEOUT_MS');
  }
  if (e.DATABASE_QUERY_TIMEOUT_MS !== undefined && e.DATABASE_STATEMENT_TIMEOUT_MS > 0 && e.DATABASE_QUERY_TIMEOUT_MS <= e.DATABASE_STATEMENT_TIMEOUT_MS) {
    // The client would give up on statements the server is still allowed to run, and close healthy connections.
    problems.push('DATABASE_QUERY_TIMEOUT_MS: must be greater than DATABASE_STATEMENT_TIMEOUT_MS');
  }
  if (e.KMS_PROVIDER === 'gcp' && !e.KMS_GCP_KEY_NAME) problems.push('KMS_GCP_KEY_NAME: required when KMS_PROVIDER=gcp');
  if (e.KMS_PROVIDER === 'aws' && !e.KMS_AWS_KEY_ID) problems.push('KMS_AWS_KEY_ID: required when KMS_PROVIDER=aws');
  if (e.KMS_PROVIDER === 'azure' && !e.KMS_AZURE_KEY_ID) problems.push('KMS_AZURE_KEY_ID: required when KMS_PROVIDER=azure');
  if (problems.length) throw new ConfigError(problems);

  const windowSeconds = e.LOGIN_RATE_LIMIT_WINDOW_SECONDS;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  const mailWindowSeconds = e.MAIL_RATE_LIMIT_WINDOW_SECONDS;
  return Object.freeze({
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === 'production',
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseTimeouts: Object.freeze({
      statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      lockMs: e.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      poolWaitMs: e.HTTP_REQUEST_TIMEOUT_MS,
      // By default a little longer than statement_timeout, so that a server that answers cancels the
      // statement itself (a clean 57014) and the client-side limit only catches one that does not answer.
      queryMs: e.DATABASE_QUERY_TIMEOUT_MS ?? (e.DATABASE_STATEMENT_TIMEOUT_MS > 0 ? e.DATABASE_STATEMENT_TIMEOUT_MS + 1_000 : 30_000),
    }),
    http: Object.freeze({ requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS, headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS }),
    decryptWorkers: e.DECRYPT_WORKERS,
    dataDir: e.SECR_DATA_DIR,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    sessionSecret: e.SESSION_SECRET,
    sessionTtlSeconds: e.SESSION_TTL_HOURS * 3600,
    tokenDefaultTtlDays: e.TOKEN_DEFAULT_TTL_DAYS,
    cliLoginPollIntervalSeconds: e.CLI_LOGIN_POLL_INTERVAL_SECONDS,
    cliLoginStartLimit: Object.freeze({ limit: e.CLI_LOGIN_RATE_LIMIT_PER_IP, windowSeconds: 600 }),
    webDistDir: path.resolve(e.WEB_DIST_DIR),
    trustProxy: e.TRUST_PROXY,
    loginRateLimit: Object.freeze({
      perIp: { limit: e.LOGIN_RATE_LIMIT_PER_IP, windowSeconds },
      perAccount: { limit: e.LOGIN_RATE_LIMIT_PER_ACCOUNT, windowSeconds },
      lockoutFailures: e.LOGIN_LOCKOUT_FAILURES,
      lockoutSeconds: e.LOGIN_LOCKOUT_MINUTES * 60,
    }),
    registerRateLimit: Object.freeze({
      perIp: { limit: e.REGISTER_RATE_LIMIT_PER_IP, windowSeconds: e.REGISTER_RATE_LIMIT_WINDOW_SECONDS },
      perAddress: { limit: e.REGISTER_RATE_LIMIT_PER_ADDRESS, windowSeconds: e.REGISTER_RATE_LIMIT_WINDOW_SECONDS },
    }),
    mail: Object.freeze({
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM ?? `secr <no-reply@${new URL(publicUrl).hostname}>`,
      rateLimit: Object.freeze({
        perIp: { limit: e.MAIL_RATE_LIMIT_PER_IP, windowSeconds: mailWindowSeconds },
        perAddress: { limit: e.MAIL_RATE_LIMIT_PER_ADDRESS, windowSeconds: mailWindowSeconds },
      }),
    }),
    passwordHashCost: Object.freeze({ memoryKiB: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST }),
    requireVerifiedEmail: e.REQUIRE_VERIFIED_EMAIL,
    swaggerUi: e.SWAGGER_UI,
    kms: Object.freeze({
      provider: e.KMS_PROVIDER,
      masterKey: e.SECR_MASTER_KEY,
      gcpKeyName: e.KMS_GCP_KEY_NAME,
      gcpEndpoint: e.KMS_GCP_ENDPOINT,
      awsKeyId: e.KMS_AWS_KEY_ID,
      awsRegion: e.KMS_AWS_REGION,
      awsEndpoint: e.KMS_AWS_ENDPOINT,
      azureKeyId: e.KMS_AZURE_KEY_ID,
      dekCacheTtlSeconds: e.DEK_CACHE_TTL_SECONDS,
    }),
    rotationBatchSize: e.ROTATION_BATCH_SIZE,
    audit: Object.freeze({
      checkpointIntervalSeconds: e.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
      retentionDays: e.AUDIT_RETENTION_DAYS,
      retentionIntervalSeconds: e.AUDIT_RETENTION_INTERVAL_SECONDS,
    }),
    orgPurge: Object.freeze({ batchSize: e.ORG_PURGE_BATCH_SIZE, concurrency: e.ORG_PURGE_CONCURRENCY }),
    webhooks: Object.freeze({
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseSeconds: e.WEBHOOK_RETRY_BASE_SECONDS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
    }),
    oidc: Object.freeze({
      allowPrivate: e.OIDC_ALLOW_PRIVATE,
      httpTimeoutMs: e.OIDC_HTTP_TIMEOUT_MS,
      jwksCacheSeconds: e.OIDC_JWKS_CACHE_SECONDS,
      jwksRefetchSeconds: e.OIDC_JWKS_REFETCH_SECONDS,
      exchangeLimit: Object.freeze({ limit: e.OIDC_EXCHANGE_RATE_LIMIT_PER_ORG, windowSeconds: 60 }),
      refusalLimit: Object.freeze({ limit: e.OIDC_REFUSAL_LIMIT_PER_IP, windowSeconds: 60 }),
    }),
    streams: Object.freeze({
      heartbeatMs: e.STREAM_HEARTBEAT_MS,
      recheckMs: e.STREAM_RECHECK_MS,
      maxPerCredential: e.STREAM_MAX_PER_CREDENTIAL,
      maxPerInstance: e.STREAM_MAX_PER_INSTANCE,
      bufferBytes: e.STREAM_BUFFER_BYTES,
    }),
    changeLog: Object.freeze({
      maxAgeHours: e.CHANGE_LOG_MAX_AGE_HOURS,
      maxPerEnvironment: e.CHANGE_LOG_MAX_PER_ENVIRONMENT,
      pruneIntervalSeconds: e.CHANGE_LOG_PRUNE_INTERVAL_SECONDS,
    }),
    rateLimitPruneIntervalSeconds: e.RATE_LIMIT_PRUNE_INTERVAL_SECONDS,
    // Limits exist to be paid away: with no Stripe to pay through (a self-hosted install), no limits.
    defaultPlan: e.DEFAULT_PLAN ?? (e.STRIPE_SECRET_KEY ? 'free' : 'enterprise'),
    adminEmails: Object.freeze([...e.SECR_ADMIN_EMAILS]),
    stripe: Object.freeze({
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      pricePro: e.STRIPE_PRICE_PRO,
      priceTeam: e.STRIPE_PRICE_TEAM,
      apiUrl: e.STRIPE_API_URL,
      timeoutMs: e.STRIPE_TIMEOUT_MS,
    }),
  });
}

function isSmtpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** DI token under which the validated config is provided. */
export const CONFIG = Symbol('AppConfig');
