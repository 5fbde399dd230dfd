import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver for tests (STYLE.md 13: fake at the protocol boundary): a real HTTP server on
 * 127.0.0.1 that records every request as it arrived — raw body included — and answers each path as
 * a test scripts it. Signatures are checked with the recipe the README documents, not with secr's code.
 */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received. */
  body: string;
  receivedAt: number;
}

/** A scripted answer: a status (with an optional body), or `hang` (never answer; the sender must time out). */
export type Answer = number | { status: number; body?: string } | 'hang';

export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = http.createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => receiver.handle(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** A URL of this receiver: loopback, so only reachable with WEBHOOK_ALLOW_PRIVATE=true. */
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** The next requests to `path` get these answers, in order; after them, 200. */
  script(path: string, ...answers: Answer[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...answers]);
  }

  to(path: string): ReceivedRequest[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `path` has received `count` requests (fails after `timeoutMs`). */
  async waitFor(path: string, count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.to(path).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${path} received ${this.to(path).length} of ${count} expected requests in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return this.to(path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections(); // hanging requests too
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(path: string, headers: IncomingHttpHeaders, body: string, res: ServerResponse): void {
    this.received.push({ path, headers, body, receivedAt: Date.now() });
    for (const wake of [...this.waiters]) wake();
    const answer = this.scripts.get(path)?.shift() ?? 200;
    if (answer === 'hang') return;
    const { status, body: text } = typeof answer === 'number' ? { status: answer, body: `answer ${answer}` } : answer;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(text ?? '');
  }
}

/**
 * The README's receiver recipe: HMAC-SHA256 of the raw body, keyed with the signing secret, compared
 * in constant time with `X-Secr-Signature: sha256=<hex>`; and the same over `<timestamp>.<body>` for
 * `X-Secr-Timestamp-Signature`.
 */
export function hasValidSignature(request: ReceivedRequest, secret: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
  return constantTimeEqual(expected, request.headers['x-secr-signature']);
}

export function hasValidTimestampSignature(request: ReceivedRequest, secret: string): boolean {
  const timestamp = request.headers['x-secr-timestamp'];
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
  return constantTimeEqual(expected, request.headers['x-secr-timestamp-signature']);
}

function constantTimeEqual(expected: string, received: string | string[] | undefined): boolean {
  if (typeof received !== 'string' || received.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(received));
}
