import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { startTestContext, type TestContext } from './support/test-app.js';

/**
 * Issue #11: a request body that trickles in never timed out (a POST declaring 1,000 bytes and sending
 * 9 stayed open 200 s+). With HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS the server answers 408
 * and closes the connection.
 */
interface Outcome {
  closed: boolean;
  response: string;
}

/** Writes `chunks` on a raw socket and waits (at most `waitMs`) for the server to close it. */
function sendAndWait(port: number, chunks: string[], waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, response });
    }, waitMs);
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, response });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

/** Each test has its own connection (the time-outs are per connection), so the tests run concurrently. */
describe('HTTP time-outs', () => {
  let ctx: TestContext;
  let port: number;
  beforeAll(async () => {
    ctx = await startTestContext({ HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_HEADERS_TIMEOUT_MS: '1000' });
    port = Number(new URL(ctx.api.baseUrl).port);
  });
  afterAll(() => ctx.close());

  it.concurrent('answers 408 and closes a request whose body never arrives in full (declares 1,000 bytes, sends 9)', async () => {
    const head = 'POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const outcome = await sendAndWait(port, [head, '{"email":'], 10_000);
    expect(outcome.closed).toBe(true);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it.concurrent('closes a connection whose headers never end', async () => {
    const outcome = await sendAndWait(port, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a'], 10_000);
    expect(outcome.closed).toBe(true);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it.concurrent('still serves a request that arrives in time', async () => {
    expect((await ctx.api.get('/health')).status).toBe(200);
  });
});
