/**
 * `npm run openapi`: writes the OpenAPI document of the code to openapi.json without a database.
 * The app is built in Nest's preview mode (modules and routes, no providers instantiated).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { writeFile } from 'node:fs/promises';
import { applyGlobalPrefix } from '../app.factory.js';
import { AppModule } from '../app.module.js';
import { loadConfig } from '../config/config.js';
import { APP_VERSION } from '../version.js';
import { buildOpenApiDocument } from './openapi.js';

export async function renderOpenApi(): Promise<string> {
  const config = { ...loadConfig({ NODE_ENV: 'test' }), sessionSecret: 'x'.repeat(32) };
  const app = await NestFactory.create(AppModule.forRoot(config, 'postgres://unused/none'), new FastifyAdapter(), {
    preview: true,
    logger: false,
  });
  applyGlobalPrefix(app);
  const document = buildOpenApiDocument(app, APP_VERSION);
  await app.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(new URL('../../../openapi.json', import.meta.url), await renderOpenApi());
  process.stdout.write('openapi.json written\n');
}
