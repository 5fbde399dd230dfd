import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { createApi, SecrApiError, SecrClient, type ChangeStreamEvent } from '../sdk/src/index.js';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, setSecret, type TestProject } from './factories/vault.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** The TypeScript SDK (@secr/sdk) against the real server: spec 002's surface in camelCase. */
describe('@secr/sdk', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let client: SecrClient;
  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'sdk');
    org = await createOrg(ctx.api, owner, 'SDK');
    project = await createProject(ctx.api, owner, org);
    const { token } = await createToken(ctx.api, owner, { access: 'read_write', kind: 'cli' });
    client = new SecrClient({ token, apiUrl: ctx.api.baseUrl, timeout: 5000 });
  });
  afterAll(() => ctx.close());

  it('diffs environments, sets with check-and-set, and restores an environment to an instant', async () => {
    const p = await createProject(ctx.api, owner, org);
    await client.bulkSetSecrets(org.slug, p.slug, 'staging', [
      { key: 'SAME', value: 'x' },
      { key: 'OTHER', value: 'staging' },
    ]);
    await client.bulkSetSecrets(org.slug, p.slug, 'production', [
      { key: 'SAME', value: 'x' },
      { key: 'OTHER', value: 'production' },
    ]);
    const diff = await client.diffEnvironments(org.slug, p.slug, { from: 'stg', to: 'prod' });
    expect(diff).toMatchObject({ differ: true, counts: { changed: 1, identical: 1, onlyInSource: 0, onlyInTarget: 0 } });
    const withValues = await client.diffEnvironments(org.slug, p.slug, { from: 'stg', to: 'prod', keys: ['OTHER'], showValues: true });
    expect(withValues.keys).toEqual([expect.objectContaining({ key: 'OTHER', sourceValue: 'staging', targetValue: 'production' })]);

    const { rows } = await ctx.db.query(`SELECT clock_timestamp() AS t`);
    const before = rows[0].t as Date;
    expect(await client.setSecret(org.slug, p.slug, 'staging', 'OTHER', 'changed', { expectedVersion: 1 })).toMatchObject({ version: 2 });
    const stale = await client.setSecret(org.slug, p.slug, 'staging', 'OTHER', 'again', { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(SecrApiError);
    expect(stale).toMatchObject({ statusCode: 409, code: 'conflict' });

    const plan = await client.restoreEnvironment(org.slug, p.slug, 'staging', { to: before, dryRun: true });
    expect(plan.results).toEqual([
      { key: 'OTHER', action: 'restored', fromVersion: 1 },
      { key: 'SAME', action: 'unchanged', fromVersion: 1 },
    ]);
    await client.restoreEnvironment(org.slug, p.slug, 'staging', { to: before });
    expect((await client.pullSecrets(org.slug, p.slug, 'staging', { keys: ['OTHER'] })).secrets[0]).toMatchObject({ value: 'staging', version: 3 });
  });

  it('sets, pulls, lists, bulk-sets and deletes secrets', async () => {
    expect(await client.setSecret(org.slug, project.slug, 'dev', 'API_KEY', 'sk-1', { description: 'Stripe' })).toEqual({
      key: 'API_KEY',
      version: 1,
      created: true,
      unchanged: false,
    });
    expect((await client.setSecret(org.slug, project.slug, 'dev', 'API_KEY', 'sk-2')).version).toBe(2);
    expect(
      await client.bulkSetSecrets(org.slug, project.slug, 'dev', [
        { key: 'A', value: '1' },
        { key: 'API_KEY', value: 'sk-3' },
      ]),
    ).toEqual({
      created: 1,
      updated: 1,
      unchanged: 0,
      total: 2,
      environmentVersion: expect.any(Number),
    });

    const pulled = await client.pullSecrets(org.slug, project.slug, 'development');
    expect(pulled.secrets.map((s) => [s.key, s.value, s.version, s.description])).toEqual([
      ['A', '1', 1, null],
      ['API_KEY', 'sk-3', 3, 'Stripe'],
    ]);
    expect(pulled.pagination).toBeUndefined();
    expect(typeof pulled.secrets[0].updatedAt).toBe('string');

    const page = await client.listKeys(org.slug, project.slug, 'dev', { limit: 1, search: 'A' });
    expect(page.keys.map((k) => k.key)).toEqual(['A']);
    expect(page.pagination).toEqual({ limit: 1, offset: 0, total: 2 });
    // Exact keys, not a prefix: API_KEY is not read for A.
    const exact = await client.pullSecrets(org.slug, project.slug, 'dev', { keys: ['A', 'NOT_SET'], limit: 10 });
    expect(exact.secrets.map((s) => s.key)).toEqual(['A']);
    expect(exact.pagination).toEqual({ limit: 10, offset: 0, total: 1 });

    // References are resolved by the server unless raw.
    await client.setSecret(org.slug, project.slug, 'dev', 'REF', '<${A}>');
    expect((await client.pullSecrets(org.slug, project.slug, 'dev', { keys: ['REF'] })).secrets[0].value).toBe('<1>');
    expect((await client.pullSecrets(org.slug, project.slug, 'dev', { keys: ['REF'], raw: true })).secrets[0].value).toBe('<${A}>');
    await client.deleteSecret(org.slug, project.slug, 'dev', 'REF');

    expect(await client.deleteSecret(org.slug, project.slug, 'dev', 'A')).toEqual({ deleted: true, key: 'A' });
    expect((await client.listKeys(org.slug, project.slug, 'dev')).keys.map((k) => k.key)).toEqual(['API_KEY']);
  });

  it('promotes, and lists and validates templates', async () => {
    await client.bulkSetSecrets(org.slug, project.slug, 'staging', [
      { key: 'DATABASE_URL', value: 'db' },
      { key: 'REDIS_URL', value: 'r' },
    ]);
    const dry = await client.promoteSecrets(org.slug, project.slug, { fromEnv: 'staging', toEnv: 'production', dryRun: true });
    expect(dry).toMatchObject({ promoted: 2, created: 2, updated: 0, skipped: 0, dryRun: true });
    expect((await client.promoteSecrets(org.slug, project.slug, { fromEnv: 'staging', toEnv: 'production', keys: ['REDIS_URL'] })).created).toBe(1);

    await ctx.api.post(`/v1/templates/${org.slug}/${project.slug}`, { key: 'DATABASE_URL' }, { session: owner.session });
    await ctx.api.post(`/v1/templates/${org.slug}/${project.slug}`, { key: 'SENTRY_DSN', required: false }, { session: owner.session });
    const templates = await client.listTemplates(org.slug, project.slug);
    expect(templates.map((t) => [t.key, t.required])).toEqual([
      ['DATABASE_URL', true],
      ['SENTRY_DSN', false],
    ]);
    expect(await client.validateTemplate(org.slug, project.slug, 'production')).toEqual({ valid: false, missing: ['DATABASE_URL'], extra: ['REDIS_URL'] });
  });

  it('throws SecrApiError with the API’s status, code and message', async () => {
    const error = await client.pullSecrets(org.slug, 'no-such-project', 'dev').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecrApiError);
    expect(error).toMatchObject({ statusCode: 404, code: 'not_found', message: "Project 'no-such-project' not found" });

    const bad = await client.setSecret(org.slug, project.slug, 'dev', '1-not-a-key', 'x').catch((e: unknown) => e);
    expect(bad).toMatchObject({ statusCode: 400, code: 'validation_failed', errors: [expect.objectContaining({ field: 'key' })] });
  });

  it('answers unauthorized for a revoked token', async () => {
    const { id, token } = await createToken(ctx.api, owner, { access: 'read' });
    await ctx.api.delete(`/v1/auth/tokens/${id}`, { session: owner.session });
    const revoked = new SecrClient({ token, apiUrl: ctx.api.baseUrl });
    await expect(revoked.pullSecrets(org.slug, project.slug, 'dev')).rejects.toMatchObject({ statusCode: 401, code: 'unauthorized' });
  });

  it('reports a network failure as statusCode 0', async () => {
    const offline = new SecrClient({ token: 'secr_tok_x', apiUrl: 'http://127.0.0.1:1', timeout: 2000 });
    await expect(offline.pullSecrets('o', 'p', 'dev')).rejects.toMatchObject({ statusCode: 0, code: 'network_error' });
  });

  it('gives up after the timeout with code timeout', async () => {
    const silent = http.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = new SecrClient({ token: 'secr_tok_x', apiUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeout: 200 });
      await expect(slow.listTemplates('o', 'p')).rejects.toMatchObject({ statusCode: 0, code: 'timeout' });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  describe('events()', () => {
    /** Reads `events` from the iterator into `seen` until `done` holds, within 15 s. */
    async function collect(iterator: AsyncIterator<ChangeStreamEvent>, seen: ChangeStreamEvent[], done: () => boolean): Promise<void> {
      const deadline = Date.now() + 15_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`events() did not deliver in time; got ${JSON.stringify(seen)}`);
        const next = await iterator.next();
        if (next.done) throw new Error(`events() ended; got ${JSON.stringify(seen)}`);
        seen.push(next.value);
      }
    }

    it('iterates typed change events, reconnects with Last-Event-ID after the connection drops (missing nothing), and stops on abort', async () => {
      const p = await createProject(ctx.api, owner, org);
      // A TCP relay to the server that can cut every connection, as a proxy restart would.
      const sockets = new Set<net.Socket>();
      let connections = 0;
      const relay = net.createServer((inbound) => {
        connections++;
        const outbound = net.connect(Number(new URL(ctx.api.baseUrl).port), '127.0.0.1');
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.once('close', () => sockets.delete(s));
        }
        inbound.pipe(outbound).pipe(inbound);
        inbound.once('close', () => outbound.destroy());
        outbound.once('close', () => inbound.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const abort = new AbortController();
      try {
        const { token } = await createToken(ctx.api, owner, { access: 'read', orgId: org.id });
        const watcher = new SecrClient({ token, apiUrl: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`, timeout: 5000 });
        const iterator = watcher.events(org.slug, p.slug, 'development', { signal: abort.signal, reconnect: { minDelayMs: 50, maxDelayMs: 200 } });
        const seen: ChangeStreamEvent[] = [];
        await collect(iterator, seen, () => seen.length === 1);
        expect(seen[0]).toEqual({ event: 'ready', id: '0', seq: '0' });

        const as = { session: owner.session };
        await setSecret(ctx.api, as, org, p, 'development', { key: 'FIRST', value: 'never-in-an-event' });
        await collect(iterator, seen, () => seen.length === 2);
        expect(seen[1]).toMatchObject({ event: 'change', type: 'set', changes: [{ key: 'FIRST', version: 1 }] });
        expect(seen[1].event === 'change' && seen[1].id).toBe(seen[1].event === 'change' && seen[1].seq);

        // Cut the connection, then write twice before the client is back: both arrive, in order, once.
        for (const s of sockets) s.destroy();
        await setSecret(ctx.api, as, org, p, 'development', { key: 'SECOND', value: 'v' });
        await setSecret(ctx.api, as, org, p, 'development', { key: 'FIRST', value: 'w' });
        await collect(iterator, seen, () => seen.length === 4);
        expect(seen.slice(2)).toEqual([
          expect.objectContaining({ event: 'change', changes: [{ key: 'SECOND', version: 1 }] }),
          expect.objectContaining({ event: 'change', changes: [{ key: 'FIRST', version: 2 }] }),
        ]);
        expect(connections).toBeGreaterThanOrEqual(2);
        expect(JSON.stringify(seen)).not.toContain('never-in-an-event');

        // Aborting ends the iteration and closes the connection.
        const pending = iterator.next();
        abort.abort();
        await expect(pending).resolves.toEqual({ done: true, value: undefined });
        const deadline = Date.now() + 5_000;
        while (sockets.size) {
          if (Date.now() > deadline) throw new Error('the stream stayed open after the abort');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        abort.abort();
        for (const s of sockets) s.destroy();
        relay.close();
      }
    });

    it('throws SecrApiError for a refused stream instead of retrying; yields `resync` for a position the server cannot replay from', async () => {
      const p = await createProject(ctx.api, owner, org);
      const missing = client.events(org.slug, p.slug, 'no-such-env');
      await expect(missing.next()).rejects.toMatchObject({ statusCode: 404, code: 'not_found' });
      const bad = client.events(org.slug, p.slug, 'development', { lastEventId: 'not-an-id' });
      await expect(bad.next()).rejects.toMatchObject({ statusCode: 400, code: 'validation_failed' });
      const unknown = client.events(org.slug, p.slug, 'development', { lastEventId: '999999999999' });
      expect((await unknown.next()).value).toEqual({ event: 'resync', id: '0', seq: '0', reason: 'unknown_event_id' });
      await unknown.return(undefined);
    });
  });

  it('refuses to be built without a token', () => {
    expect(() => new SecrClient({ token: '' })).toThrow(/token/);
  });

  describe('redirects and plain http', () => {
    const servers: http.Server[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    });
    const listen = async (handler: http.RequestListener): Promise<number> => {
      const server = http.createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };
    /** What reached "another host" (localhost rather than 127.0.0.1: another origin, as a load balancer moving the API would be). */
    async function elsewhere() {
      const seen: Array<{ method: string; authorization: string | null; body: string }> = [];
      const port = await listen((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          seen.push({ method: req.method!, authorization: req.headers.authorization ?? null, body });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"secrets":[]}');
        });
      });
      return { seen, origin: `http://localhost:${port}` };
    }

    it('does not follow a 307 to another origin with the token and the value; the error names where it led and what to do', async () => {
      const other = await elsewhere();
      const apiPort = await listen((req, res) => res.writeHead(307, { location: `${other.origin}${req.url}?next=x` }).end());
      const redirected = new SecrClient({ token: 'secr_tok_redirect', apiUrl: `http://127.0.0.1:${apiPort}` });
      const error = await redirected.setSecret('org', 'proj', 'production', 'DB_PASSWORD', 'hunter2-prod').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecrApiError);
      expect(error).toMatchObject({ statusCode: 307, code: 'http_error' });
      expect((error as Error).message).toBe(
        `The API at http://127.0.0.1:${apiPort} answered 307, a redirect to ${other.origin}, which secr does not follow (it would send the token and the request there): ` +
          `if ${other.origin} is the API's address and you trust it, set the API URL to it`,
      );
      // The change stream does not follow one either, nor retry it.
      await expect(redirected.events('org', 'proj', 'production').next()).rejects.toMatchObject({ statusCode: 307, code: 'http_error' });
      expect(other.seen).toEqual([]);
    });

    it('warns once per origin, as a process warning, when the API URL is plain http to another machine; loopback is quiet', () => {
      const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        // Nothing is sent: building a client only resolves its URL.
        createApi({ apiUrl: 'http://secr.example.test:8080' });
        createApi({ apiUrl: 'http://secr.example.test:8080/' });
        for (const apiUrl of ['http://127.0.0.1:1', 'http://localhost:1', 'http://[::1]:1', 'https://secr.example.test']) createApi({ apiUrl });
        expect(emitWarning.mock.calls).toEqual([
          [
            'The API URL http://secr.example.test:8080 is plain http to another machine: the token and every value cross the network unencrypted; use https://',
            { code: 'SECR_INSECURE_API_URL' },
          ],
        ]);
      } finally {
        emitWarning.mockRestore();
      }
    });
  });
});

describe('the generated API client', () => {
  it('is up to date with openapi.json (run `npm run gen:client` when this fails)', async () => {
    const bin = path.resolve('node_modules/openapi-typescript/bin/cli.js');
    const run = promisify(execFile);
    await expect(
      run(process.execPath, [bin, 'openapi.json', '--default-non-nullable', 'false', '-o', 'sdk/src/generated/api.ts', '--check']),
    ).resolves.toBeDefined();
  });
});
