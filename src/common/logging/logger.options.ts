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
];

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      // Fastify already assigned the id (from a valid X-Request-Id or fresh); reuse it.
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
