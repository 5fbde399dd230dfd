import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 8080,
      databaseUrl: undefined,
      dataDir: '.secr-data',
      tokenDefaultTtlDays: 90,
      trustProxy: false,
      publicUrl: 'http://localhost:8080',
      loginRateLimit: { lockoutFailures: 5, lockoutSeconds: 900 },
    });
  });

  it('bounds every wait by default: database statement, lock, idle-in-transaction, connect and query time-outs, HTTP request and header time-outs', () => {
    const config = loadConfig({});
    expect(config.databaseTimeouts).toEqual({ statementMs: 5000, lockMs: 3000, idleInTransactionMs: 30000, connectMs: 5000, poolWaitMs: 30000, queryMs: 6000 });
    expect(config.http).toEqual({ requestTimeoutMs: 30000, headersTimeoutMs: 10000 });
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '2000' }).databaseTimeouts.queryMs).toBe(3000);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '500', DATABASE_QUERY_TIMEOUT_MS: '800' }).databaseTimeouts.queryMs).toBe(800);
    // A client that gives up before the server may would close healthy connections.
    expect(problemsOf({ DATABASE_QUERY_TIMEOUT_MS: '800' }).join('\n')).toMatch(
      /DATABASE_QUERY_TIMEOUT_MS: must be greater than DATABASE_STATEMENT_TIMEOUT_MS/,
    );
    expect(problemsOf({ DATABASE_CONNECT_TIMEOUT_MS: '0' }).join('\n')).toMatch(/DATABASE_CONNECT_TIMEOUT_MS/);
    expect(problemsOf({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' }).join('\n')).toMatch(/HTTP_HEADERS_TIMEOUT_MS/);
  });

  it('names every bad variable in its error', () => {
    const problems = problemsOf({ PORT: '99999', DATABASE_URL: 'mysql://x', SESSION_SECRET: 'short' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/SESSION_SECRET/);
  });

  it('requires a session secret, an external database, a master key, SMTP and a public URL in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'SESSION_SECRET: required when NODE_ENV=production',
      'DATABASE_URL: required when NODE_ENV=production',
      'SECR_MASTER_KEY: required when NODE_ENV=production and KMS_PROVIDER=local',
      'SMTP_URL: required when NODE_ENV=production (mail would only be logged)',
      'PUBLIC_URL: required when NODE_ENV=production (the links in mails are built from it)',
    ]);
  });

  it("hashes passwords with OWASP's argon2id cost by default; a cheaper cost is allowed outside production only", () => {
    expect(loadConfig({}).passwordHashCost).toEqual({ memoryKiB: 19_456, timeCost: 2 });
    expect(loadConfig({ NODE_ENV: 'test', ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1' }).passwordHashCost).toEqual({ memoryKiB: 64, timeCost: 1 });
    expect(problemsOf({ ARGON2_MEMORY_KIB: '4', ARGON2_TIME_COST: '0' }).join('\n')).toMatch(/ARGON2_MEMORY_KIB[\s\S]*ARGON2_TIME_COST/);
    const production = {
      NODE_ENV: 'production',
      SESSION_SECRET: 'x'.repeat(40),
      DATABASE_URL: 'postgres://secr@db/secr',
      SECR_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      PUBLIC_URL: 'https://secr.example.com',
      SMTP_URL: 'smtp://smtp.example.com',
    };
    expect(loadConfig(production).passwordHashCost).toEqual({ memoryKiB: 19_456, timeCost: 2 });
    expect(problemsOf({ ...production, ARGON2_MEMORY_KIB: '19455', ARGON2_TIME_COST: '1' })).toEqual([
      'ARGON2_MEMORY_KIB: must be at least 19456 when NODE_ENV=production',
      'ARGON2_TIME_COST: must be at least 2 when NODE_ENV=production',
    ]);
    expect(loadConfig({ ...production, ARGON2_MEMORY_KIB: '65536', ARGON2_TIME_COST: '3' }).passwordHashCost).toEqual({ memoryKiB: 65_536, timeCost: 3 });
  });

  it('refuses to start in production without SMTP_URL, and names it', () => {
    const production = {
      NODE_ENV: 'production',
      SESSION_SECRET: 'x'.repeat(40),
      DATABASE_URL: 'postgres://secr@db/secr',
      SECR_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      PUBLIC_URL: 'https://secr.example.com',
    };
    expect(problemsOf(production)).toEqual(['SMTP_URL: required when NODE_ENV=production (mail would only be logged)']);
    expect(loadConfig({ ...production, SMTP_URL: 'smtps://apikey:s3cret@smtp.example.com' }).mail.smtpUrl).toBe('smtps://apikey:s3cret@smtp.example.com');
  });

  it('logs mail in development when SMTP_URL is unset, sending from no-reply at the public host', () => {
    expect(loadConfig({}).mail).toEqual({
      smtpUrl: undefined,
      from: 'secr <no-reply@localhost>',
      rateLimit: { perIp: { limit: 20, windowSeconds: 3600 }, perAddress: { limit: 5, windowSeconds: 3600 } },
    });
    expect(loadConfig({ PUBLIC_URL: 'https://secr.example.com/' }).mail.from).toBe('secr <no-reply@secr.example.com>');
    expect(loadConfig({}).requireVerifiedEmail).toBe(false);
    expect(loadConfig({ REQUIRE_VERIFIED_EMAIL: 'true' }).requireVerifiedEmail).toBe(true);
  });

  it('names a malformed SMTP_URL or MAIL_FROM without repeating its value', () => {
    for (const [name, value] of [
      ['SMTP_URL', 'https://user:hunter2@mail.example.com'],
      ['SMTP_URL', 'smtp://'],
      ['MAIL_FROM', 'not an address hunter2'],
    ]) {
      const problems = problemsOf({ [name]: value }).join('\n');
      expect(problems).toMatch(new RegExp(`^${name}: `));
      expect(problems).not.toContain('hunter2');
    }
    expect(loadConfig({ MAIL_FROM: 'Acme secrets <vault@acme.example>' }).mail.from).toBe('Acme secrets <vault@acme.example>');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 8080, databaseUrl: undefined });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('requires a key name for the gcp provider and a 32-byte master key for the local one', () => {
    expect(problemsOf({ KMS_PROVIDER: 'gcp' })).toEqual(['KMS_GCP_KEY_NAME: required when KMS_PROVIDER=gcp']);
    expect(problemsOf({ SECR_MASTER_KEY: Buffer.alloc(16).toString('base64') }).join()).toMatch(/SECR_MASTER_KEY: must be 32 bytes/);
    expect(problemsOf({ KMS_GCP_KEY_NAME: 'my-key' }).join()).toMatch(/KMS_GCP_KEY_NAME/);
  });

  it('requires a key id for the aws and azure providers and refuses malformed ones', () => {
    expect(problemsOf({ KMS_PROVIDER: 'aws' })).toEqual(['KMS_AWS_KEY_ID: required when KMS_PROVIDER=aws']);
    expect(problemsOf({ KMS_PROVIDER: 'azure' })).toEqual(['KMS_AZURE_KEY_ID: required when KMS_PROVIDER=azure']);
    expect(problemsOf({ KMS_AWS_KEY_ID: 'my key' }).join()).toMatch(/KMS_AWS_KEY_ID: must be a key id/);
    expect(problemsOf({ KMS_AWS_REGION: 'Europe' }).join()).toMatch(/KMS_AWS_REGION/);
    expect(problemsOf({ KMS_AWS_ENDPOINT: 'ftp://kms.local' }).join()).toMatch(/KMS_AWS_ENDPOINT/);
    expect(problemsOf({ KMS_AZURE_KEY_ID: 'http://v.vault.azure.net/keys/k' }).join()).toMatch(/KMS_AZURE_KEY_ID: must be https/);
    expect(loadConfig({ KMS_PROVIDER: 'aws', KMS_AWS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:alias/secr', KMS_AWS_REGION: 'eu-west-1' }).kms).toMatchObject(
      { provider: 'aws', awsKeyId: 'arn:aws:kms:eu-west-1:111122223333:alias/secr', awsRegion: 'eu-west-1' },
    );
    expect(loadConfig({ KMS_PROVIDER: 'azure', KMS_AZURE_KEY_ID: 'https://v.vault.azure.net/keys/secr/0123abcd' }).kms).toMatchObject({
      provider: 'azure',
      azureKeyId: 'https://v.vault.azure.net/keys/secr/0123abcd',
    });
  });

  it('refuses private webhook targets, waits 10 s per attempt and tries 6 times by default', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowPrivate: false,
      timeoutMs: 10_000,
      maxAttempts: 6,
      retryBaseSeconds: 30,
      concurrency: 4,
      pollIntervalMs: 2000,
    });
  });

  it('reads the webhook settings and names a bad one', () => {
    const config = loadConfig({
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_SECONDS: '1',
      WEBHOOK_CONCURRENCY: '0',
      WEBHOOK_POLL_INTERVAL_MS: '500',
    });
    expect(config.webhooks).toEqual({ allowPrivate: true, timeoutMs: 500, maxAttempts: 3, retryBaseSeconds: 1, concurrency: 0, pollIntervalMs: 500 });
    expect(problemsOf({ WEBHOOK_TIMEOUT_MS: '99' }).join()).toMatch(/WEBHOOK_TIMEOUT_MS/);
    expect(problemsOf({ WEBHOOK_ALLOW_PRIVATE: 'maybe' }).join()).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
    expect(problemsOf({ WEBHOOK_POLL_INTERVAL_MS: '100' }).join()).toMatch(/WEBHOOK_POLL_INTERVAL_MS/);
  });

  it('sets no plan limits without Stripe (a self-hosted install), with no admin addresses, by default', () => {
    expect(loadConfig({})).toMatchObject({ defaultPlan: 'enterprise', adminEmails: [] });
  });

  it('puts orgs without a plan on free once Stripe is configured, unless DEFAULT_PLAN says otherwise', () => {
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_x' }).defaultPlan).toBe('free');
    expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_x', DEFAULT_PLAN: 'pro' }).defaultPlan).toBe('pro');
    expect(loadConfig({ DEFAULT_PLAN: 'free' }).defaultPlan).toBe('free');
  });

  it('reads DEFAULT_PLAN and the comma-separated SECR_ADMIN_EMAILS, lower-cased', () => {
    const config = loadConfig({ DEFAULT_PLAN: 'enterprise', SECR_ADMIN_EMAILS: ' Ops@Example.com,root@example.com ,' });
    expect(config).toMatchObject({ defaultPlan: 'enterprise', adminEmails: ['ops@example.com', 'root@example.com'] });
    expect(problemsOf({ DEFAULT_PLAN: 'gold' }).join()).toMatch(/DEFAULT_PLAN/);
    expect(problemsOf({ SECR_ADMIN_EMAILS: 'ops@example.com,not-an-address' }).join()).toMatch(/SECR_ADMIN_EMAILS: must be a comma-separated list/);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
    expect(Object.isFrozen(loadConfig({}).webhooks)).toBe(true);
  });
});
