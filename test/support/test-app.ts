import pg from 'pg';
import { HttpClient } from './http.js';
import { createTestDatabase } from './test-database.js';

export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef';
/** 32 bytes, base64: the local KMS master key of test apps. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  readonly url: string;
  readonly http: HttpClient;
  close(): Promise<void>;
}

export interface TestContext<A extends TestApp = TestApp> {
  /** The first instance; most tests need only one. */
  readonly api: HttpClient;
  readonly instances: A[];
  readonly databaseUrl: string;
  /** Direct SQL on the test database, for assertions about what is stored. */
  readonly db: pg.Pool;
  /** Starts one more app instance on the same database. */
  startInstance(env?: Record<string, string>): Promise<A>;
  close(): Promise<void>;
}

/** The settings of every test app; `env` adds or overrides. */
export function testAppEnv(env: Record<string, string>): Record<string, string> {
  return {
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
    // The cheapest argon2id (the product's default costs ~20 ms of CPU per hash and per sign-in, and the
    // suite signs up hundreds of users); auth.e2e-spec checks the default cost on an instance of its own.
    ARGON2_MEMORY_KIB: '64',
    ARGON2_TIME_COST: '1',
    ...env,
  };
}

/**
 * A real app on a real port against a fresh database of the test cluster, run by this jest worker's app
 * host (test/setup/app-host.mjs, the compiled server in dist/): the test file never imports the
 * server's modules, which costs about a second of CPU per file under jest. A test that reaches into
 * the app (`app.get(…)`), or fakes its clock, uses startInProcessTestContext (in-process-app.ts).
 */
export function startTestContext(env: Record<string, string> = {}): Promise<TestContext<HostedApp>> {
  return startContextWith(env, startHostedApp);
}

/** An app run by this worker's app host. */
export interface HostedApp extends TestApp {
  /** Every handler Nest has mapped in the app, as `METHOD /path/{param}` without the global prefix. */
  handlers(): Promise<string[]>;
  /**
   * What `app.get(Provider)[member]` gives in the app (awaited; called with `args` if a method), for a
   * test that drives or waits for one of its services: `provider` is the class's name. JSON in and out
   * (a Date argument arrives as a Date).
   */
  call<T = unknown>(provider: string, member: string, ...args: unknown[]): Promise<T>;
}

/**
 * The OpenAPI document of the code as `npm run openapi` renders it (without a database), rendered by
 * this worker's app host: a test file that needs it before its first test does not import the server.
 */
export async function renderedOpenApi<T = unknown>(): Promise<T> {
  return (await (await hostRequest('GET', '/openapi')).json()) as T;
}

/**
 * Sets variables of the app host's environment (what a cloud SDK of its apps reads: credentials, metadata
 * look-ups; a null deletes one) and adds `ca` (PEM) to its trusted CAs, as an operator would on a server.
 * Returns the undo of the variables. The host serves only this worker, which runs one file at a time.
 */
export async function setHostProcessEnv(env: Record<string, string | null>, ca?: string): Promise<() => Promise<void>> {
  const { previous } = (await (await hostRequest('POST', '/process-env', { env, ca })).json()) as { previous: Record<string, string | null> };
  return async () => void (await hostRequest('POST', '/process-env', { env: previous }));
}

/** A fresh test database and a first app on it, started by `start`. */
export async function startContextWith<A extends TestApp>(
  env: Record<string, string>,
  start: (databaseUrl: string, env: Record<string, string>) => Promise<A>,
): Promise<TestContext<A>> {
  const databaseUrl = await createTestDatabase();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const instances: A[] = [];
  const startInstance = async (extra: Record<string, string> = {}) => {
    const instance = await start(databaseUrl, testAppEnv({ ...env, ...extra }));
    instances.push(instance);
    return instance;
  };
  try {
    await startInstance();
  } catch (error) {
    await db.end();
    throw error;
  }
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

/** The app host of this jest worker (JEST_WORKER_ID counts from 1; a run in band is worker 1). */
function appHost(): string {
  const raw = process.env.SECR_TEST_APP_HOSTS;
  if (!raw) throw new Error("SECR_TEST_APP_HOSTS is unset: run the tests with npm test (jest's global setup starts the app hosts)");
  const hosts = JSON.parse(raw) as string[];
  return hosts[(Number(process.env.JEST_WORKER_ID ?? '1') - 1) % hosts.length];
}

async function hostRequest(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(appHost() + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok)
    throw new Error(`app host: ${method} ${path} answered ${res.status}: ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? ''}`);
  return res;
}

async function startHostedApp(databaseUrl: string, env: Record<string, string>): Promise<HostedApp> {
  const { id, url } = (await (await hostRequest('POST', '/apps', { databaseUrl, env })).json()) as { id: string; url: string };
  let closed: Promise<void> | undefined;
  return {
    url,
    http: new HttpClient(url),
    handlers: async () => (await (await hostRequest('GET', `/apps/${id}/handlers`)).json()) as string[],
    call: async <T>(provider: string, member: string, ...args: unknown[]) => {
      const body = { provider, member, args: args.map((arg) => (arg instanceof Date ? { $date: arg.toISOString() } : arg)) };
      return ((await (await hostRequest('POST', `/apps/${id}/call`, body)).json()) as { result: T }).result;
    },
    close: () => (closed ??= hostRequest('DELETE', `/apps/${id}`).then(() => undefined)),
  };
}
