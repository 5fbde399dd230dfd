import { Logger as NestLogger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { quietStartUp } from './common/logging/logger.options.js';
import { AppModule } from './app.module.js';
import { STRIPE_WEBHOOK_PATH } from './modules/billing/billing.controller.js';
import { MetricsService } from './modules/metrics/metrics.service.js';
import { frameworkErrorBody } from './common/errors/http-error.filter.js';
import { serveDashboard } from './common/http/dashboard.js';
import { securityHeaders } from './common/http/security-headers.js';
import { depthError, installInputChecks } from './common/validation/input-checks.js';
import type { AppConfig } from './config/config.js';
import { buildOpenApiDocument, serveOpenApi } from './openapi/openapi.js';
import { APP_VERSION } from './version.js';

const frameworkLog = new NestLogger('Http');

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Every request gets an id of the server's own making: it is the id of responses, logs and audit rows.
 * A caller's X-Request-Id is never adopted (a client could otherwise forge or collide the ids stored in
 * audit rows); logs keep a well-formed one as `clientRequestId`, for correlation (see logger.options.ts).
 */
function requestId(req: IncomingMessage): string {
  const id = randomUUID();
  (req as IncomingMessage & { id: string }).id = id; // the logger middleware reads it from the raw request
  return id;
}

const HSTS = 'strict-transport-security';

/** Helmet's headers, less HSTS, which only a response over TLS may carry (see `setBaseHeaders`). */
function plainSecurityHeaders(kind: 'strict' | 'docs' = 'strict'): Readonly<Record<string, string>> {
  const { [HSTS]: _hsts, ...rest } = securityHeaders(kind);
  return Object.freeze(rest);
}
const HSTS_VALUE = securityHeaders()[HSTS];

/**
 * Headers of every response: helmet's set, the request id, and `no-store` on the API (credentials,
 * secret values, keys). HSTS only over TLS: a request that came over it (`X-Forwarded-Proto` counts
 * only with TRUST_PROXY), or an install whose PUBLIC_URL is https (behind a TLS load balancer).
 */
function setBaseHeaders(request: FastifyRequest, reply: FastifyReply, headers: Readonly<Record<string, string>>, httpsPublicUrl = false): void {
  reply.headers(headers).header('x-request-id', request.id);
  if (httpsPublicUrl || request.protocol === 'https') reply.header(HSTS, HSTS_VALUE);
  if (isApiPath(request.url)) reply.header('cache-control', 'no-store');
}

/** True for the API's paths, also when the request line has the absolute form (`GET http://host/v1/…`) or doubled slashes. */
function isApiPath(url: string): boolean {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/^\/+/, '/');
  return path === '/v1' || path.startsWith('/v1/') || path.startsWith('/v1?');
}

/** Swagger UI, whose page needs a looser Content-Security-Policy than the dashboard and the API. */
function isDocsPath(url: string): boolean {
  return /^\/+docs(\/|\?|$)/.test(url);
}

/**
 * The router refuses a malformed URL (FST_ERR_BAD_URL, 400) or an over-long path parameter
 * (FST_ERR_MAX_PARAM_LENGTH, 414) before any hook or Nest filter runs: answer in the error shape here.
 */
function frameworkErrors(headers: Readonly<Record<string, string>>, httpsPublicUrl: boolean) {
  return (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
    const [status, message] =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, 'A path segment is too long']
        : error.code === 'FST_ERR_BAD_URL'
          ? [400, 'The URL is not validly encoded']
          : [500, 'Internal server error'];
    if (status === 500) frameworkLog.error({ err: error, requestId: request.id }, 'Unexpected framework error');
    setBaseHeaders(request, reply, headers, httpsPublicUrl);
    void reply.status(status).send(frameworkErrorBody(status, message, request.id));
  };
}

/**
 * Node's HTTP parser refuses a request it cannot read (headers too large, 431; a malformed request,
 * 400; the request time-out, 408) on the socket, before Fastify: the answer still has the error shape.
 */
function clientErrorHandler(headers: Readonly<Record<string, string>>) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    // A reset needs no answer; nor does a socket whose response has begun (a second one would corrupt it).
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (error.code === 'ECONNRESET' || socket.destroyed || answering) {
      socket.destroy();
      return;
    }
    const [status, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request line or headers are too large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'The request took too long to arrive']
          : [400, 'The request is not valid HTTP'];
    const id = randomUUID();
    const body = JSON.stringify(frameworkErrorBody(status, message, id));
    const fields = {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'x-request-id': id,
      'cache-control': 'no-store',
      connection: 'close',
    };
    const head = Object.entries(fields)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
    socket.destroy();
  };
}

/** Every route lives under /v1 but the health probes, which load balancers call unversioned. */
export function applyGlobalPrefix(app: INestApplication): void {
  app.setGlobalPrefix('v1', { exclude: ['health', 'health/ready'] });
}

/**
 * Fastify's own JSON parser stays the only parser, but reads the body as bytes first so that one path
 * (the Stripe webhook, whose signature covers the exact bytes sent) also gets `request.rawBody`, and
 * refuses a body nested more than MAX_BODY_DEPTH levels before any DTO work (input-checks.ts).
 */
function keepRawBodyFor(adapter: FastifyAdapter, path: string): void {
  const fastify = adapter.getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    if (request.url.split('?', 1)[0] === path) request.rawBody = buffer;
    parseJson(request, buffer.toString('utf8'), (error, parsed) => {
      if (error) return done(error, undefined);
      const tooDeep = depthError(parsed);
      return tooDeep ? done(tooDeep, undefined) : done(null, parsed);
    });
  });
}

/** Builds the whole HTTP application (not yet listening): used by main.ts and by the tests. */
export async function createApp(config: AppConfig, databaseUrl: string): Promise<NestFastifyApplication> {
  const headers = plainSecurityHeaders();
  const docsHeaders = plainSecurityHeaders('docs');
  const httpsPublicUrl = config.publicUrl.startsWith('https:');
  const adapter = new FastifyAdapter({
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestId,
    frameworkErrors: frameworkErrors(headers, httpsPublicUrl),
    clientErrorHandler: clientErrorHandler(headers),
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
  installInputChecks(adapter.getInstance(), { signedBodyPaths: [STRIPE_WEBHOOK_PATH] });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    bufferLogs: true,
    bodyParser: false,
    // A failure while building the app (the database unreachable for longer than TypeORM's retries) is
    // thrown to the caller, which reports it and exits, instead of process.abort() with a core dump.
    abortOnError: false,
  });
  app.useLogger(quietStartUp(app.get(Logger)));
  app.flushLogs();
  applyGlobalPrefix(app);

  await app.register(fastifyCookie);
  app
    .getHttpAdapter()
    .getInstance()
    // What AuthGuard sets on a request (request-context.ts), declared up front: every request object then
    // has one shape, instead of gaining properties mid-request (which makes the code that reads requests
    // polymorphic and slower; bench:pull).
    .decorateRequest('orgRef', undefined)
    .decorateRequest('actor', undefined)
    .decorateRequest('org', undefined)
    .addHook('onRequest', (request, reply, done) => {
      setBaseHeaders(request, reply, isDocsPath(request.url) ? docsHeaders : headers, httpsPublicUrl);
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

  serveOpenApi(app, () => buildOpenApiDocument(app, APP_VERSION), config.swaggerUi);
  await serveDashboard(app, config.webDistDir);
  return app;
}
