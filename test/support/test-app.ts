import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { HttpClient } from './http.js';
import { createTestDatabase } from './test-database.js';

export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef';
/** 32 bytes, base64: the local KMS master key of test apps. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  readonly url: string;
  readonly config: AppConfig;
  readonly http: HttpClient;
  readonly app: NestFastifyApplication;
  close(): Promise<void>;
}

export interface TestContext {
  /** The first instance; most tests need only one. */
  readonly api: HttpClient;
  readonly instances: TestApp[];
  readonly databaseUrl: string;
  /** Direct SQL on the test database, for assertions about what is stored. */
  readonly db: pg.Pool;
  /** Starts one more app instance on the same database. */
  startInstance(env?: Record<string, string>): Promise<TestApp>;
  close(): Promise<void>;
}

/** A real app on a real port against a fresh database of the test cluster. */
export async function startTestContext(env: Record<string, string> = {}): Promise<TestContext> {
  const databaseUrl = await createTestDatabase();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const instances: TestApp[] = [];
  const startInstance = async (extra: Record<string, string> = {}) => {
    const instance = await startApp(databaseUrl, { ...env, ...extra });
    instances.push(instance);
    return instance;
  };
  await startInstance();
  return {
    api: instances[0].http,
    instances,
    databaseUrl,
    db,
    startInstance,
    async close() {
      await Promise.all(instances.map((i) => i.close()));
      await db.end();
    },
  };
}

async function startApp(databaseUrl: string, env: Record<string, string>): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SESSION_SECRET: TEST_SESSION_SECRET,
    SECR_MASTER_KEY: TEST_MASTER_KEY,
    DATABASE_POOL_SIZE: '5',
    // Test apps run as a self-hosted install (no plan limits) so suites about other things never trip
    // the free plan by accident; plan tests pass DEFAULT_PLAN (or set an org's plan) themselves.
    DEFAULT_PLAN: 'enterprise',
    // Every test registers and signs in its users from 127.0.0.1: rate-limit tests set their own limits.
    REGISTER_RATE_LIMIT_PER_IP: '100000',
    LOGIN_RATE_LIMIT_PER_IP: '100000',
    CLI_LOGIN_RATE_LIMIT_PER_IP: '100000',
    ...env,
  });
  const app = await createApp(config, databaseUrl);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = await app.getUrl();
  const baseUrl = url.replace('[::1]', '127.0.0.1');
  return { url: baseUrl, config, app, http: new HttpClient(baseUrl), close: () => app.close() };
}
