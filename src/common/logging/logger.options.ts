import type { IncomingMessage, ServerResponse } from 'node:http';
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

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      // Fastify already assigned the id (always the server's own); reuse it.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id: string }).id,
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
