import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createToken, registerUser } from './factories/accounts.js';
import { createProject, secretsPath } from './factories/vault.js';
import type { Response } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The documented error shape (DESIGN.md §6), its request id equal to the X-Request-Id header, and the security headers. */
function expectErrorShape(res: Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toEqual({ statusCode: status, code, message: expect.any(String), requestId: expect.stringMatching(UUID) });
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
}

describe('HTTP basics', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ WEBHOOK_CONCURRENCY: '0' });
  });
  afterAll(() => ctx.close());

  it.each([
    ['a public route', '/health'],
    ['an authenticated route', '/v1/auth/me'],
    ['an error', '/v1/no-such-route'],
  ])('sends the security headers on %s', async (_what, path) => {
    const user = await registerUser(ctx.api, 'headers');
    const res = await ctx.api.get(path, { session: user.session });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('sends Strict-Transport-Security only over TLS: never over plain http, behind a TLS proxy it trusts, or with an https PUBLIC_URL', async () => {
    expect((await ctx.api.get('/health')).headers.get('strict-transport-security')).toBeNull();
    // An untrusted X-Forwarded-Proto is not TLS.
    expect((await ctx.api.get('/health', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    const proxied = await ctx.startInstance({ TRUST_PROXY: 'true' });
    expect((await proxied.http.get('/health', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    const httpsInstall = await ctx.startInstance({ PUBLIC_URL: 'https://secr.example.com' });
    expect((await httpsInstall.http.get('/health')).headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  describe('errors the framework answers before any route runs', () => {
    it('answers a malformed URL (/v1/%E0%A4%A) with 400 bad_request in the error shape, security headers included', async () => {
      const res = await ctx.api.get('/v1/%E0%A4%A');
      expectErrorShape(res, 400, 'bad_request');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('answers an over-long path parameter with 414 in the error shape', async () => {
      const res = await ctx.api.get(`/v1/projects/${'a'.repeat(300)}`);
      expectErrorShape(res, 414, 'bad_request');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('answers a request line beyond the header size limit with 431 in the error shape', async () => {
      const res = await ctx.api.get(`/v1/auth/me?q=${'a'.repeat(20_000)}`);
      expectErrorShape(res, 431, 'bad_request');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('request ids', () => {
    it('never adopts a caller X-Request-Id: the response, error body and audit row carry the server id', async () => {
      const user = await registerUser(ctx.api, 'reqid');
      const callerId = `caller-req-${randomBytes(6).toString('hex')}`;
      const ok = await ctx.api.post('/v1/orgs', { name: 'Request ids' }, { session: user.session, headers: { 'x-request-id': callerId } });
      expect(ok.status).toBe(201);
      expect(ok.headers.get('x-request-id')).toMatch(UUID);
      const { rows } = await ctx.db.query<{ request_id: string }>(`SELECT request_id FROM audit_events WHERE org_id = $1 AND action = 'org.created'`, [
        ok.body.id,
      ]);
      expect(rows).toEqual([{ request_id: ok.headers.get('x-request-id') }]);
      const { rows: forged } = await ctx.db.query('SELECT 1 FROM audit_events WHERE request_id = $1', [callerId]);
      expect(forged).toEqual([]);

      const bad = await ctx.api.post('/v1/orgs', { unknownField: 1 }, { session: user.session, headers: { 'x-request-id': callerId } });
      expect(bad.status).toBe(400);
      expect(bad.body.requestId).toMatch(UUID);
      expect(bad.headers.get('x-request-id')).toBe(bad.body.requestId);
    });
  });

  describe('Cache-Control', () => {
    it('sends no-store on POST /auth/token, POST /webhooks/:orgId and GET …/keys', async () => {
      const user = await registerUser(ctx.api, 'nostore');
      const token = await ctx.api.post('/v1/auth/token', { name: 'ci', access: 'read' }, { session: user.session });
      expect(token.status).toBe(201);
      expect(token.headers.get('cache-control')).toBe('no-store');

      const hook = await ctx.api.post(
        `/v1/webhooks/${user.personalOrg.id}`,
        { url: 'https://1.1.1.1/hooks', events: ['secret.created'] },
        { session: user.session },
      );
      expect(hook.status).toBe(201);
      expect(hook.body.secret).toMatch(/^whsec_/);
      expect(hook.headers.get('cache-control')).toBe('no-store');

      const project = await createProject(ctx.api, user, user.personalOrg);
      const keys = await ctx.api.get(`${secretsPath(user.personalOrg, project, 'development')}/keys`, { session: user.session });
      expect(keys.status).toBe(200);
      expect(keys.headers.get('cache-control')).toBe('no-store');
    });

    it('sends no-store on every /v1 answer, errors and bearer requests included', async () => {
      const user = await registerUser(ctx.api, 'nostore2');
      const { token } = await createToken(ctx.api, user, { access: 'read' });
      for (const res of [await ctx.api.get('/v1/auth/me', { token }), await ctx.api.get('/v1/no-such-route'), await ctx.api.get('/v1/auth/me')]) {
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
    });

    it('sends no-store when the request line names the API in absolute form (GET http://host/v1/…)', async () => {
      const { port } = new URL(ctx.api.baseUrl);
      const head = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () =>
          socket.write(`GET http://127.0.0.1:${port}/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text.split('\r\n\r\n')[0]));
        socket.on('error', reject);
      });
      expect(head).toMatch(/^HTTP\/1\.1 401 /);
      expect(head.toLowerCase()).toContain('\r\ncache-control: no-store');
    });
  });
});
