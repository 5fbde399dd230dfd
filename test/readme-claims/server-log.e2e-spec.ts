import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createOrg, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from '../factories/vault.js';
import { createWebhook } from '../factories/webhooks.js';
import { FakeOidcIssuer } from '../support/fake-oidc-issuer.js';
import { HttpClient } from '../support/http.js';
import { launchTracingServer, waitForOutput, type ServerProcess } from '../support/server-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * README (Webhooks, Encryption, Logs): what the real server process prints at its most verbose level
 * while everything succeeds — secret values written, read, listed by version, rolled back and promoted;
 * webhooks whose URL path and query carry a token, created, changed, tested and delivered — holds no value
 * and no part of the URL but its host; and a value that fails authentication is logged by key name only.
 */
describe('the server log, at trace level, of successful work', () => {
  let server: ServerProcess;
  let api: HttpClient;
  let db: pg.Pool;
  let receiver: WebhookReceiver;
  let issuer: FakeOidcIssuer;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  const as = () => ({ session: owner.session });
  const unique = (label: string) => `${label}${randomBytes(10).toString('hex')}`;

  beforeAll(async () => {
    [receiver, issuer] = await Promise.all([WebhookReceiver.start(), FakeOidcIssuer.start()]);
    ({ server, api, db } = await launchTracingServer({ WEBHOOK_TIMEOUT_MS: '2000', OIDC_ALLOW_PRIVATE: 'true' }));
    owner = await registerUser(api, 'logger');
    org = await createOrg(api, owner, 'Logs');
    project = await createProject(api, owner, org);
  }, 120_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await db?.end();
    await receiver?.close();
    await issuer?.close();
  });

  /** The log since `start`, once the server has logged `text` (a request id, or a message). */
  async function logSince(start: number, text: string): Promise<string> {
    await waitForOutput(server, text, 10_000);
    return server.output().slice(start);
  }

  function expectAbsent(log: string, needles: string[]): void {
    for (const needle of needles) {
      const line = log.split('\n').find((l) => l.includes(needle));
      if (line) throw new Error(`the log holds "${needle}": ${line.slice(0, 400)}`);
    }
  }

  it('holds no secret value written, pulled, listed by version, rolled back or promoted', async () => {
    const start = server.output().length;
    const values = [unique('putvalue'), unique('newvalue'), unique('bulkvalue'), unique('bulkvalue')];
    const path = secretsPath(org, project, 'development');
    expect((await api.put(path, { key: 'PUT_KEY', value: values[0] }, as())).status).toBe(200);
    expect((await api.put(path, { key: 'PUT_KEY', value: values[1] }, as())).status).toBe(200);
    await seedSecrets(api, as(), org, project, 'development', { BULK_A: values[2], BULK_B: values[3] });
    const pulled = await api.get(path, as());
    expect(pulled.status).toBe(200);
    expect(pulled.text).toContain(values[1]); // the values did go through the server
    const versions = await api.get(`${path}/versions/PUT_KEY`, as());
    expect(versions.status).toBe(200);
    expect(versions.text).toContain(values[0]);
    expect((await api.post(`${path}/rollback`, { key: 'PUT_KEY', version: 1 }, as())).status).toBe(200);
    const promoted = await api.post(`/v1/secrets/${org.slug}/${project.slug}/promote`, { fromEnv: 'development', toEnv: 'staging' }, as());
    expect(promoted.status).toBe(200);
    const last = await api.get(secretsPath(org, project, 'staging'), as());
    expect(last.status).toBe(200);
    expect(last.text).toContain(values[2]);

    const log = await logSince(start, last.headers.get('x-request-id')!);
    expect(log.split('\n').filter((l) => l.includes('"url":"/v1/secrets/')).length).toBe(8); // every request was logged
    expectAbsent(log, values);
  });

  it('holds no CI OIDC token and no token an exchange minted, accepted or refused', async () => {
    const start = server.output().length;
    const audience = 'https://secr.example.test';
    const trust = await api.post(
      `/v1/orgs/${org.id}/oidc-trusts`,
      { name: 'logged', issuer: issuer.url, audience, conditions: [{ claim: 'repository', pattern: 'acme/api' }], project: project.slug, access: 'read' },
      as(),
    );
    expect(trust.status).toBe(201);
    const accepted = await issuer.sign(audience);
    const refused = await issuer.sign(audience, { claims: { repository: 'evil/api' } });
    const minted = await api.post('/v1/auth/oidc', { trustId: trust.body.id, token: accepted });
    expect(minted.status).toBe(201);
    expect((await api.post('/v1/auth/oidc', { trustId: trust.body.id, token: refused })).status).toBe(401);
    expect((await api.get(secretsPath(org, project, 'development'), { token: minted.body.token })).status).toBe(200);
    const marker = await api.get('/v1/auth/me', as());
    const log = await logSince(start, marker.headers.get('x-request-id')!);
    expect(log).toContain('/v1/auth/oidc'); // the exchanges were logged
    // Neither JWT's payload or signature, nor the minted token.
    expectAbsent(log, [...[accepted, refused].flatMap((jwt) => jwt.split('.').slice(1)), minted.body.token, minted.body.token.slice(9)]);
  });

  it("holds neither a webhook URL's path nor its query, created, changed, tested and delivered, only its host", async () => {
    const start = server.output().length;
    const pathToken = unique('pathtok');
    const queryToken = unique('querytok');
    const changedToken = unique('changedtok');
    const hook = await createWebhook(api, owner, org, { url: receiver.url(`/hooks/${pathToken}?key=${queryToken}`), events: ['secret.created'] });
    const changed = await api.patch(`/v1/webhooks/${org.id}/${hook.id}`, { url: receiver.url(`/hooks/${changedToken}`) }, as());
    expect(changed.status).toBe(200);
    expect((await api.post(`/v1/webhooks/${org.id}/${hook.id}/test`, undefined, as())).status).toBe(202);
    expect((await api.put(secretsPath(org, project, 'production'), { key: 'HOOKED', value: 'x' }, as())).status).toBe(200);
    // A delivery that fails (nothing listens on port 9): its error is logged too.
    const refusedToken = unique('refusedtok');
    const refused = await createWebhook(api, owner, org, { url: `http://127.0.0.1:9/hooks/${refusedToken}?key=${queryToken}`, events: ['secret.created'] });
    expect((await api.post(`/v1/webhooks/${org.id}/${refused.id}/test`, undefined, as())).status).toBe(202);
    await receiver.waitFor(`/hooks/${changedToken}`, 2);
    // Attempts are recorded after the answer (or the error): wait for all three rows, then for the log.
    const deadline = Date.now() + 10_000;
    const recorded = async () =>
      (await db.query(`SELECT outcome FROM webhook_deliveries WHERE webhook_id = ANY($1::uuid[]) ORDER BY outcome`, [[hook.id, refused.id]])).rows.map(
        (r) => r.outcome,
      );
    while ((await recorded()).length < 3) {
      if (Date.now() > deadline) throw new Error(`the deliveries were not recorded: ${await recorded()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await recorded()).toEqual(['delivered', 'delivered', 'failed']);
    const marker = await api.get('/v1/auth/me', as());
    const log = await logSince(start, marker.headers.get('x-request-id')!);
    expect(log).toContain(hook.id); // the webhook's work was logged
    expectAbsent(log, [pathToken, queryToken, changedToken, refusedToken, hook.secret, refused.secret]);
  });

  it('logs a value that fails authentication by key name and version, never its value, and answers 500 naming the key', async () => {
    const start = server.output().length;
    const broken = await createProject(api, owner, org);
    const values = { SOURCE_KEY: unique('sourcevalue'), DAMAGED_KEY: unique('damagedvalue') };
    await seedSecrets(api, as(), org, broken, 'development', values);
    // The ciphertext of another key: AES-GCM authentication fails, as for any damaged or moved value.
    const moved = await db.query(
      `UPDATE secret_versions v SET ciphertext = (SELECT v2.ciphertext FROM secret_versions v2 JOIN secrets s2 ON s2.id = v2.secret_id WHERE s2.project_id = $1 AND s2.key = 'SOURCE_KEY')
         FROM secrets s WHERE s.id = v.secret_id AND s.project_id = $1 AND s.key = 'DAMAGED_KEY'`,
      [broken.id],
    );
    expect(moved.rowCount).toBe(1);

    const res = await api.get(secretsPath(org, broken, 'development'), as());
    expect(res.status).toBe(500);
    expect(res.body.message).toContain('DAMAGED_KEY');
    expect(res.text).not.toContain(values.SOURCE_KEY);

    const log = await logSince(start, 'Stored secret failed authentication');
    const line = log.split('\n').find((l) => l.includes('Stored secret failed authentication'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 50, key: 'DAMAGED_KEY', keyVersion: 1, projectId: broken.id });
    expectAbsent(log, Object.values(values));
  });
});
