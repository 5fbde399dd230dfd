import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESPONSE_SNIPPET_BYTES, sendDelivery, type AddressLookup, type OutgoingDelivery } from './webhook-sender.js';

/**
 * One delivery attempt against a local server on 127.0.0.1 (the only address tests may reach). DNS
 * answers are played by a fake lookup, so "a name that now resolves to a private address" needs no
 * network at all.
 */
describe('sendDelivery', () => {
  let server: http.Server;
  let port: number;
  let connections = 0;
  const requests: Array<{ path: string; host: string | undefined; headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ path: req.url ?? '', host: req.headers.host, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const path = (req.url ?? '').split('?')[0];
        const status = Number(/^\/status\/(\d+)/.exec(path)?.[1] ?? 200);
        if (path === '/hang') return;
        if (path === '/big') return void res.writeHead(200).end('x'.repeat(5000));
        res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1/elsewhere' } : {}).end(`status ${status}`);
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const delivery = (url: string, extra: Partial<OutgoingDelivery> = {}): OutgoingDelivery => ({
    url,
    body: '{"event":"secret.created"}',
    headers: { 'content-type': 'application/json', 'x-secr-event': 'secret.created' },
    timeoutMs: 2000,
    allowPrivate: true,
    ...extra,
  });
  /** A DNS that answers every name with these addresses. */
  const fakeDns =
    (...addresses: string[]): AddressLookup =>
    (_name, _options, callback) =>
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );

  it('posts the body with its headers and reports a 2xx as delivered, keeping the first 1 KiB of the answer', async () => {
    const result = await sendDelivery(delivery(`http://127.0.0.1:${port}/big?x=1`));
    expect(result).toMatchObject({ delivered: true, retryable: false, statusCode: 200, error: null });
    expect(result.responseBody).toBe('x'.repeat(RESPONSE_SNIPPET_BYTES));
    const request = requests.at(-1)!;
    expect(request).toMatchObject({ path: '/big?x=1', body: '{"event":"secret.created"}' });
    expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'x-secr-event': 'secret.created', 'content-length': '26' });
  });

  it.each([
    [500, true],
    [503, true],
    [400, false],
    [404, false],
    [429, false],
    [302, false],
  ])('treats HTTP %i as a failure, retryable: %s (redirects are not followed)', async (status, retryable) => {
    const before = requests.length;
    const result = await sendDelivery(delivery(`http://127.0.0.1:${port}/status/${status}`));
    expect(result).toMatchObject({ delivered: false, retryable, statusCode: status, error: `HTTP ${status}`, responseBody: `status ${status}` });
    expect(requests.length).toBe(before + 1);
  });

  it('connects to the address its lookup checked, keeping the name in the Host header', async () => {
    const result = await sendDelivery(delivery(`http://hooks.example.com:${port}/named`, { lookup: fakeDns('127.0.0.1') }));
    expect(result.delivered).toBe(true);
    expect(requests.at(-1)).toMatchObject({ path: '/named', host: `hooks.example.com:${port}` });
  });

  it('refuses a name that resolves to a private address now (DNS changed since the webhook was saved), without connecting', async () => {
    const before = connections;
    for (const answer of [['127.0.0.1'], ['10.0.0.7'], ['1.1.1.1', '192.168.1.20'], ['::1'], ['169.254.169.254']]) {
      const result = await sendDelivery(delivery(`https://rebinding.example.com:${port}/`, { allowPrivate: false, lookup: fakeDns(...answer) }));
      expect(result).toMatchObject({ delivered: false, retryable: false, statusCode: null });
      expect(result.error).toMatch(/^Refused: rebinding\.example\.com resolves to /);
    }
    expect(connections).toBe(before);
  });

  it('refuses private literals and names before any lookup, and metadata endpoints even when private targets are allowed', async () => {
    const before = connections;
    const cases: Array<[string, boolean, RegExp]> = [
      [`https://127.0.0.1:${port}/`, false, /127\.0\.0\.1 is a loopback address/],
      [`https://localhost:${port}/`, false, /localhost is a loopback address/],
      [`http://127.0.0.1:${port}/`, false, /must use https/],
      ['http://169.254.169.254/latest/meta-data/', true, /cloud metadata endpoint/],
      ['http://metadata.google.internal/computeMetadata/v1/', true, /cloud metadata endpoint/],
    ];
    for (const [url, allowPrivate, reason] of cases) {
      const result = await sendDelivery(delivery(url, { allowPrivate, lookup: fakeDns('127.0.0.1') }));
      expect(result).toMatchObject({ delivered: false, retryable: false });
      expect(result.error).toMatch(reason);
    }
    expect(connections).toBe(before);
  });

  it('gives up on a receiver that does not answer in time, as a retryable failure', async () => {
    const result = await sendDelivery(delivery(`http://127.0.0.1:${port}/hang`, { timeoutMs: 200 }));
    expect(result).toMatchObject({ delivered: false, retryable: true, statusCode: null, error: 'Timed out after 200 ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
  });

  it('reports a refused connection as a retryable network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${closedPort}/`));
    expect(result).toMatchObject({ delivered: false, retryable: true, statusCode: null, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('stops when its signal is aborted (the server shutting down), as a retryable failure', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await sendDelivery(delivery(`http://127.0.0.1:${port}/hang`, { signal: controller.signal }));
    expect(result).toMatchObject({ delivered: false, retryable: true, error: expect.stringMatching(/^Interrupted/) });
  });
});
