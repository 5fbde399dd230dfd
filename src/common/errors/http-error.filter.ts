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

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'bad_request',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

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
    }
    reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown, requestId: string): ErrorBody {
    if (exception instanceof DomainError) {
      const body: ErrorBody = { statusCode: exception.status, code: exception.code, message: exception.message, requestId };
      if (exception instanceof ValidationFailedError) body.errors = exception.errors;
      return body;
    }
    const status = statusOf(exception);
    if (status !== undefined && status < 500) {
      return { statusCode: status, code: CODE_BY_STATUS[status] ?? 'bad_request', message: clientMessage(exception, status), requestId };
    }
    if (isDatabaseUnavailable(exception)) {
      // The database is stalled, down or restarting: the request may succeed later. Logged without the
      // statement or its parameters (they can hold credentials): the SQLSTATE or error code only.
      const code = databaseErrorCode(exception);
      this.logger.warn({ code, requestId }, 'Database unavailable');
      return { statusCode: 503, code: 'service_unavailable', message: 'The database is unavailable; try again shortly', requestId };
    }
    // Anything else is a bug: log it with its stack, tell the client nothing about internals.
    this.logger.error({ err: exception, requestId }, 'Unhandled error');
    return { statusCode: 500, code: 'internal_error', message: 'Internal server error', requestId };
  }
}

function databaseErrorCode(exception: unknown): string | undefined {
  const { code, driverError } = exception as { code?: unknown; driverError?: { code?: unknown } };
  const value = driverError?.code ?? code;
  return typeof value === 'string' ? value : undefined;
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
