import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** What a handler may do to its reply besides returning the body: set a header, or the status. */
export interface ReplyControl {
  header(name: string, value: string): void;
  status(code: number): void;
}

/**
 * A handle on the reply for a handler that sets a header or status of its own (the pull's ETag and
 * its 304) and still returns its body. Not the reply itself: parameter decorators go through the
 * global pipes, which walk what they are given, and a reply is a large object graph. (Nest's
 * `@Res({ passthrough: true })` made the pull about a third slower in bench:pull.)
 */
export const HttpReply = createParamDecorator((_data: unknown, context: ExecutionContext): ReplyControl => {
  const reply = context.switchToHttp().getResponse<FastifyReply>();
  return {
    header: (name, value) => void reply.header(name, value),
    status: (code) => void reply.status(code),
  };
});
