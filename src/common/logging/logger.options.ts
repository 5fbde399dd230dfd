import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../../config/config.js';
import { safeError } from './safe-error.js';

/**
 * Paths whose segments are credentials (the spec puts invitation tokens in the path): the logger
 * sees them with the credential replaced.
 */
const SECRET_PATH_SEGMENTS: ReadonlyArray<[RegExp, string]> = [[/\/members\/invite\/[^/?]+/g, '/members/invite/[REDACTED]']];

export function redactUrl(url: string): string {
  return SECRET_PATH_SEGMENTS.reduce((acc, [pattern, replacement]) => acc.replace(pattern, replacement), url);
}

/** Field names that are never logged, wherever they appear (DESIGN.md §2). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.value',
  '*.secret',
  // Defence in depth behind safeError: what a query error or an entity would carry.
  '*.passwordHash',
  '*.password_hash',
  '*.tokenHash',
  '*.token_hash',
  '*.parameters',
];

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The caller's X-Request-Id when it is well-formed (8–128 of `A-Za-z0-9._:-`), else undefined. */
export function clientRequestIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : undefined;
}

/**
 * Nest's start-up chatter (a line per module and per route): debug, not info. Start-up then logs a
 * few lines: the database, where the server listens, Swagger UI.
 */
const START_UP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** `logger` with Nest's start-up lines demoted to debug. */
export function quietStartUp(logger: LoggerService): LoggerService {
  return {
    log: (message: unknown, ...rest: unknown[]) =>
      START_UP_CONTEXTS.has(rest.at(-1) as string) ? logger.debug?.(message, ...rest) : logger.log(message, ...rest),
    error: (message: unknown, ...rest: unknown[]) => logger.error(message, ...rest),
    warn: (message: unknown, ...rest: unknown[]) => logger.warn(message, ...rest),
    debug: (message: unknown, ...rest: unknown[]) => logger.debug?.(message, ...rest),
    verbose: (message: unknown, ...rest: unknown[]) => logger.verbose?.(message, ...rest),
    fatal: (message: unknown, ...rest: unknown[]) => logger.fatal?.(message, ...rest),
  };
}

const loggedRequests = new WeakSet<IncomingMessage>();

/** False the first time a request is seen, true after. */
function alreadyLogged(req: IncomingMessage): boolean {
  if (loggedRequests.has(req)) return true;
  loggedRequests.add(req);
  return false;
}

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      // Fastify already assigned the id (always the server's own); reuse it.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id: string }).id,
      // Nest mounts the logging middleware twice on the paths outside the global prefix (/health: once
      // as an excluded path, once as a controller route the wildcard covers), and pino-http would log
      // such a request twice: the first mount logs it, any later one only passes it on.
      autoLogging: { ignore: alreadyLogged },
      // Our serializers see the raw objects: pino's standard error serializer, which copies every
      // property of an error (a query's parameters among them), never runs first.
      wrapSerializers: false,
      serializers: {
        req: (req: IncomingMessage & { id: string; originalUrl?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.originalUrl ?? req.url ?? ''),
          remoteAddress: req.socket?.remoteAddress,
          // A caller's own X-Request-Id, when well-formed, is kept beside ours for correlation, never as
          // ours. (Here rather than in pino-http's customProps, which makes a child logger per request.)
          clientRequestId: clientRequestIdOf(req),
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        err: safeError,
        error: safeError,
      },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      transport: config.env === 'development' ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
    },
  };
}
