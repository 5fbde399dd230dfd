import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { HttpClient } from './http.js';
import { startContextWith, type TestApp, type TestContext } from './test-app.js';

export interface InProcessApp extends TestApp {
  readonly config: AppConfig;
  readonly app: NestFastifyApplication;
}

/**
 * Like startTestContext, with the apps in this test file's process: for the tests that reach into an
 * app (`app.get(…)`: its services, its job queue) or fake the clock it reads. It imports the whole
 * server under jest (about a second of CPU), so only those files use it.
 */
export function startInProcessTestContext(env: Record<string, string> = {}): Promise<TestContext<InProcessApp>> {
  return startContextWith(env, startInProcessApp);
}

async function startInProcessApp(databaseUrl: string, env: Record<string, string>): Promise<InProcessApp> {
  const config = loadConfig(env);
  const app = await createApp(config, databaseUrl);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = await app.getUrl();
  const baseUrl = url.replace('[::1]', '127.0.0.1');
  return { url: baseUrl, config, app, http: new HttpClient(baseUrl), close: () => app.close() };
}

export type InProcessTestContext = TestContext<InProcessApp>;
