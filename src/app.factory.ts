import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { STRIPE_WEBHOOK_PATH } from './modules/billing/billing.controller.js';
import { MetricsService } from './modules/metrics/metrics.service.js';
import { securityHeaders } from './common/http/security-headers.js';
import type { AppConfig } from './config/config.js';
import { buildOpenApiDocument, serveOpenApi } from './openapi/openapi.js';
import { APP_VERSION } from './version.js';

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/** A caller's X-Request-Id is kept when it is well-formed; otherwise the request gets a fresh one. */
function requestId(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const id = typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
  (req as IncomingMessage & { id: string }).id = id; // the logger middleware reads it from the raw request
  return id;
}

/** Every route lives under /v1 but the health probes, which load balancers call unversioned. */
export function applyGlobalPrefix(app: INestApplication): void {
  app.setGlobalPrefix('v1', { exclude: ['health', 'health/ready'] });
}

/**
 * Fastify's own JSON parser stays the only parser, but reads the body as bytes first so that one path
 * (the Stripe webhook, whose signature covers the exact bytes sent) also gets `request.rawBody`.
 * Every other route sees no difference.
 */
function keepRawBodyFor(adapter: FastifyAdapter, path: string): void {
  const fastify = adapter.getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    if (request.url.split('?', 1)[0] === path) request.rawBody = buffer;
    parseJson(request, buffer.toString('utf8'), done);
  });
}

/** Builds the whole HTTP application (not yet listening): used by main.ts and by the tests. */
export async function createApp(config: AppConfig, databaseUrl: string): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestId,
    // A client that sends its headers or body too slowly (a trickle) gets 408 and the socket closes,
    // instead of holding a connection open forever. Node checks every connectionsCheckingInterval.
    requestTimeout: config.http.requestTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, config.http.headersTimeoutMs),
    },
  });
  // Only JSON bodies are accepted: anything else is a 415, never a string handed to a DTO. Fastify's
  // built-in JSON parser (bodyLimit, __proto__/constructor poisoning refused) is the only parser left:
  // `bodyParser: false` stops Nest from adding its application/x-www-form-urlencoded one, which would
  // hand form posts (which a browser sends cross-site without a preflight) to the handlers.
  adapter.getInstance().removeContentTypeParser(['text/plain']);
  keepRawBodyFor(adapter, STRIPE_WEBHOOK_PATH);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    bufferLogs: true,
    bodyParser: false,
    // A failure while building the app (the database unreachable for longer than TypeORM's retries) is
    // thrown to the caller, which reports it and exits, instead of process.abort() with a core dump.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  applyGlobalPrefix(app);

  await app.register(fastifyCookie);
  const headers = securityHeaders();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      reply.headers(headers).header('x-request-id', request.id);
      done();
    });

  // Request metrics: an in-memory add per response; MetricsService writes them in the background.
  const metrics = app.get(MetricsService);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      metrics.record(request.method, request.routeOptions.url ?? '(unmatched)', reply.statusCode, reply.elapsedTime);
      done();
    });

  serveOpenApi(app, buildOpenApiDocument(app, APP_VERSION), config.swaggerUi);
  return app;
}
