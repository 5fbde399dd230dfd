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

  it('names every bad variable in its error', () => {
    const problems = problemsOf({ PORT: '99999', DATABASE_URL: 'mysql://x', SESSION_SECRET: 'short' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/SESSION_SECRET/);
  });

  it('requires a session secret, an external database and a master key in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'SESSION_SECRET: required when NODE_ENV=production',
      'DATABASE_URL: required when NODE_ENV=production',
      'SECR_MASTER_KEY: required when NODE_ENV=production and KMS_PROVIDER=local',
    ]);
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

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });
});
