import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../../database/pg-errors.js';
import { DomainError, ErrorCode, FieldError, RateLimitedError, ValidationFailedError } from './domain-error.js';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  requestId: string;
  errors?: FieldError[];
}

export const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'bad_request',
  408: 'bad_request',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'bad_request',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'bad_request',
  503: 'service_unavailable',
};

/** What a 503 for an unreachable, stalled or restarting database asks the client to wait, in seconds. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unavailable; retry shortly';

/** The one exception filter: every error leaves the API in the shape of DESIGN.md §6. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const body = this.toBody(exception, request.id);

    if (exception instanceof RateLimitedError) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(exception.retryAfterSeconds))));
    } else if (body.code === 'service_unavailable' && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    }
    reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown, requestId: string): ErrorBody {
    if (exception instanceof DomainError) {
      const body: ErrorBody = { statusCode: exception.status, code: exception.code, message: exception.message, requestId };
      if (exception instanceof ValidationFailedError) body.errors = exception.errors;
      return { ...exception.details, ...body };
    }
    if (isDatabaseUnavailable(exception)) {
      // Not a bug: the database is down, stalled or restarting. The client may retry.
      this.logger.warn({ err: exception, requestId }, 'Database unavailable');
      return { statusCode: 503, code: 'service_unavailable', message: DATABASE_UNAVAILABLE_MESSAGE, requestId };
    }
    const status = statusOf(exception);
    if (status !== undefined && status < 500) {
      return { statusCode: status, code: CODE_BY_STATUS[status] ?? 'bad_request', message: clientMessage(exception, status), requestId };
    }
    // Anything else is a bug: log it (class, statement, SQLSTATE and stack frames only: see safeError),
    // tell the client nothing about internals.
    this.logger.error({ err: exception, requestId }, 'Unhandled error');
    return { statusCode: 500, code: 'internal_error', message: 'Internal server error', requestId };
  }
}

/** The error body for a status the framework answers itself (before any route or filter runs). */
export function frameworkErrorBody(statusCode: number, message: string, requestId: string): ErrorBody {
  return { statusCode, code: CODE_BY_STATUS[statusCode] ?? (statusCode >= 500 ? 'internal_error' : 'bad_request'), message, requestId };
}

/** Status of Nest HttpExceptions and of Fastify's own errors (invalid JSON, wrong content type, body too large). */
function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const candidate = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof candidate === 'number' && candidate >= 400 && candidate < 600 ? candidate : undefined;
}

function clientMessage(exception: unknown, status: number): string {
  if (status === 413) return 'Request body is too large';
  if (status === 415) return 'Content-Type must be application/json';
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  // A JSON parse error quotes the body it choked on, which may be a secret value: never echo it.
  if (exception instanceof SyntaxError) return 'Request body is not valid JSON';
  const code = (exception as { code?: unknown }).code;
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'Request body must not be empty';
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP')) return 'Request body is not valid JSON';
  return exception instanceof Error ? exception.message : 'Bad request';
}
