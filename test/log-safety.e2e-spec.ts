import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { issueEmailToken } from './factories/mail.js';
import { DEFAULT_PASSWORD, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, type TestProject } from './factories/vault.js';
import { HttpClient, type Response } from './support/http.js';
import { TestMailServer, tokenOf } from './support/mail-server.js';
import { launchTracingServer, waitForOutput, type ServerProcess } from './support/server-process.js';

/**
 * No credential in any log (issue #11): the real server process logs at its most verbose level while a
 * trigger makes the write of every route that takes a secret value, password or token fail. Everything
 * it prints (stdout and stderr) is then searched for each credential and for every form of its hash.
 * The trigger puts the whole refused row in PostgreSQL's message and detail, as PostgreSQL itself does
 * for check and not-null violations ("Failing row contains …"): logging an error's message is a leak too.
 */

const FAIL_FUNCTION = `
  CREATE OR REPLACE FUNCTION log_safety_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    row_text text := CASE WHEN TG_OP = 'DELETE' THEN row_to_json(OLD)::text ELSE row_to_json(NEW)::text END;
  BEGIN
    RAISE EXCEPTION 'log-safety refused % on %: %', TG_OP, TG_TABLE_NAME, row_text USING DETAIL = row_text, HINT = row_text;
  END $$`;

/** Every representation of a token's SHA-256 a log line could hold: hex, base64(url), a serialised Buffer. */
function hashForms(credential: string): string[] {
  const digest = createHash('sha256').update(credential).digest();
  return [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url'), `[${[...digest].join(',')}]`, [...digest].join(',')];
}

/** The log line holding `text`, cut short around it (the failure message must not be a wall of JSON). */
function lineWith(log: string, text: string): string {
  const line = log.split('\n').find((l) => l.includes(text)) ?? '';
  const at = line.indexOf(text);
  return line.slice(Math.max(0, at - 200), at + text.length + 100);
}

/**
 * Credential patterns that must never appear at all, whoever's they are (the hashes of refused writes are
 * unknowable): an argon2 hash, a token, a signing secret, any 64-digit hex run (a SHA-256, as bytea or
 * text) and a serialised Buffer (how a bytea parameter prints).
 */
const FORBIDDEN_PATTERNS = [
  /\$argon2/,
  /secr_(tok|cli)_[0-9A-Za-z]{8}/,
  /whsec_[0-9A-Za-z]{8}/,
  /(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/,
  /"type":"Buffer"/,
];

describe('log safety: a failing query logs no credential', () => {
  let server: ServerProcess;
  let api: HttpClient;
  let db: pg.Pool;
  let mail: TestMailServer;
  /** Every credential the tests used, with a label for the failure message. */
  const needles: Array<{ label: string; text: string }> = [];
  const addCredential = (label: string, credential: string, hashed = true) => {
    needles.push({ label, text: credential });
    if (hashed) hashForms(credential).forEach((form, i) => needles.push({ label: `${label} (sha-256 form ${i})`, text: form }));
  };

  let owner: TestUser;
  let member: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let bearer: string;
  let webhookId: string;

  beforeAll(async () => {
    mail = await TestMailServer.start();
    ({ server, api, db } = await launchTracingServer({ SMTP_URL: mail.url, WEBHOOK_CONCURRENCY: '1', WEBHOOK_TIMEOUT_MS: '1000' }));
    await db.query(FAIL_FUNCTION);

    owner = await registerUser(api, 'owner');
    member = await registerUser(api, 'member');
    addCredential('password', DEFAULT_PASSWORD, false);
    const orgRes = await api.post('/v1/orgs', { name: `Logs ${randomBytes(3).toString('hex')}` }, { session: owner.session });
    org = { id: orgRes.body.id, slug: orgRes.body.slug };
    project = await createProject(api, owner, org);
    const token = await api.post('/v1/auth/token', { name: 'ci', access: 'read_write', orgId: org.id }, { session: owner.session });
    expect(token.status).toBe(201);
    bearer = token.body.token;
    addCredential('bearer token', bearer);
    const hookToken = `hooktok${randomBytes(12).toString('hex')}`;
    addCredential('webhook URL token', hookToken, false);
    const hook = await api.post(
      `/v1/webhooks/${org.id}`,
      { url: `http://127.0.0.1:9/hook?token=${hookToken}`, events: ['secret.created'] },
      { session: owner.session },
    );
    expect(hook.status).toBe(201);
    webhookId = hook.body.id;
    addCredential('webhook signing secret', hook.body.secret);
  }, 120_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await db?.end();
    await mail?.stop();
  });

  /** Makes every insert, update and delete on `tables` fail while `run` runs. */
  async function withFailingWrites<T>(tables: string[], run: () => Promise<T>): Promise<T> {
    for (const table of tables) {
      await db.query(`CREATE TRIGGER log_safety_refuse BEFORE INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION log_safety_refuse()`);
    }
    try {
      return await run();
    } finally {
      for (const table of tables) await db.query(`DROP TRIGGER log_safety_refuse ON ${table}`);
    }
  }

  /** Where the log of the current test starts: each test searches what its own requests logged. */
  let logStart = 0;
  beforeEach(() => {
    logStart = server.output().length;
  });

  /**
   * What this test's requests logged; waits until the server has logged `text` (the failure) first, then
   * for the log line of a later request (an anonymous one, refused), so that what was logged around the
   * failure is in too: an event to wait for, not a fixed time.
   */
  async function logAfter(text: string): Promise<string> {
    await waitForOutput(server, text, 10_000);
    const marker = await api.get('/v1/auth/me');
    expect(marker.status).toBe(401);
    await waitForOutput(server, marker.headers.get('x-request-id')!, 10_000);
    return server.output().slice(logStart);
  }

  function expectNoCredential(log: string): void {
    for (const needle of needles) {
      if (log.includes(needle.text)) throw new Error(`the log holds the ${needle.label}: ${lineWith(log, needle.text)}`);
    }
    for (const pattern of FORBIDDEN_PATTERNS) {
      const line = log.split('\n').find((l) => pattern.test(l));
      if (line) throw new Error(`the log matches ${pattern}: ${line}`);
    }
  }

  /** The request failed in the database (500), and its failure was logged with the SQLSTATE and statement only. */
  async function expectLoggedFailure(res: Response): Promise<void> {
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, code: 'internal_error', message: 'Internal server error', requestId: res.headers.get('x-request-id') });
    const log = await logAfter(res.body.requestId);
    expectNoCredential(log);
    const failure = log
      .split('\n')
      .filter((l) => l.includes(res.body.requestId) && l.includes('"msg":"Unhandled error"'))
      .map((l) => JSON.parse(l) as { err?: { type?: string; sqlstate?: string; statement?: string } });
    expect(failure).toHaveLength(1);
    expect(failure[0].err).toMatchObject({ type: 'QueryFailedError', sqlstate: 'P0001', statement: expect.stringMatching(/^[A-Za-z]+ [a-z_]+$|^[a-z0-9-]+$/) });
  }

  it('register: the password and its argon2 hash stay out of the log', async () => {
    const password = `reg-${randomBytes(8).toString('hex')}`;
    addCredential('registration password', password, false);
    const res = await withFailingWrites(['users'], () =>
      api.post('/v1/auth/register', { email: `r-${randomBytes(3).toString('hex')}@example.com`, password, name: 'R' }),
    );
    await expectLoggedFailure(res);
  });

  it('login: the password stays out of the log', async () => {
    const res = await withFailingWrites(['sessions', 'users'], () => api.post('/v1/auth/login', { email: member.email, password: member.password }));
    await expectLoggedFailure(res);
  });

  it('change-password: neither password nor the new hash reaches the log', async () => {
    const newPassword = `new-${randomBytes(8).toString('hex')}`;
    addCredential('new password', newPassword, false);
    const res = await withFailingWrites(['users', 'sessions'], () =>
      api.post('/v1/auth/change-password', { currentPassword: member.password, newPassword }, { session: member.session }),
    );
    await expectLoggedFailure(res);
  });

  it('reset-password: the mailed token, its hash and the new password stay out of the log', async () => {
    const token = await issueEmailToken(db, member.id, 'reset_password');
    addCredential('reset token', token);
    const password = `reset-${randomBytes(8).toString('hex')}`;
    addCredential('reset password', password, false);
    const res = await withFailingWrites(['email_tokens', 'users', 'sessions'], () => api.post('/v1/auth/reset-password', { token, password }));
    await expectLoggedFailure(res);
  });

  it('forgot-password: the reset token made in the background, whose insert fails, stays out of the log (mail outbox)', async () => {
    await withFailingWrites(['email_tokens'], async () => {
      const res = await api.post('/v1/auth/forgot-password', { email: member.email });
      expect(res.status).toBe(202);
      await logAfter('Background mail work failed');
    });
    const log = await logAfter('Background mail work failed');
    expectNoCredential(log);
    const line = log.split('\n').find((l) => l.includes('Background mail work failed'))!;
    expect(JSON.parse(line).err).toMatchObject({ type: 'QueryFailedError', sqlstate: 'P0001', statement: 'INSERT email_tokens' });
  });

  it('send-verification: the verification token whose insert fails stays out of the log', async () => {
    const res = await withFailingWrites(['email_tokens'], () => api.post('/v1/auth/send-verification', undefined, { session: owner.session }));
    await expectLoggedFailure(res);
  });

  it('verify-email: the mailed token and its hash stay out of the log', async () => {
    const token = await issueEmailToken(db, member.id, 'verify_email');
    addCredential('verification token', token);
    const res = await withFailingWrites(['email_tokens', 'users'], () => api.post('/v1/auth/verify-email', { token }));
    await expectLoggedFailure(res);
  });

  it('token create: the new token hash stays out of the log', async () => {
    const res = await withFailingWrites(['api_tokens'], () => api.post('/v1/auth/token', { name: 'refused', access: 'read' }, { session: owner.session }));
    await expectLoggedFailure(res);
  });

  it('token revoke: the token and its hash stay out of the log', async () => {
    const created = await api.post('/v1/auth/token', { name: 'to revoke', access: 'read' }, { session: owner.session });
    addCredential('revoked token', created.body.token);
    const res = await withFailingWrites(['api_tokens'], () => api.delete(`/v1/auth/tokens/${created.body.id}`, { session: owner.session }));
    await expectLoggedFailure(res);
  });

  it('a bearer request whose last-used update fails: the token and its hash stay out of the log', async () => {
    const created = await api.post('/v1/auth/token', { name: 'touch', access: 'read', orgId: org.id }, { session: owner.session });
    addCredential('touched token', created.body.token);
    await withFailingWrites(['api_tokens'], async () => {
      const res = await api.get(`/v1/projects/${org.id}`, { token: created.body.token });
      expect(res.status).toBe(200);
      expectNoCredential(await logAfter('Could not record token use'));
    });
    const line = (await logAfter('Could not record token use')).split('\n').find((l) => l.includes('Could not record token use'))!;
    expect(JSON.parse(line).err).toMatchObject({ type: 'QueryFailedError', sqlstate: 'P0001', statement: 'UPDATE api_tokens' });
  });

  it('secrets PUT: the value, the bearer token and its hash stay out of the log', async () => {
    const value = `sv-${randomBytes(12).toString('hex')}`;
    addCredential('secret value', value, false);
    const res = await withFailingWrites(['secrets', 'secret_versions'], () =>
      api.put(secretsPath(org, project, 'development'), { key: 'DB_PASSWORD', value }, { token: bearer }),
    );
    await expectLoggedFailure(res);
  });

  it('secrets bulk: the values stay out of the log', async () => {
    const values = [`bv-${randomBytes(12).toString('hex')}`, `bv-${randomBytes(12).toString('hex')}`];
    values.forEach((v) => addCredential('bulk secret value', v, false));
    const res = await withFailingWrites(['secrets', 'secret_versions'], () =>
      api.post(`${secretsPath(org, project, 'staging')}/bulk`, { secrets: values.map((value, i) => ({ key: `K${i}`, value })) }, { session: owner.session }),
    );
    await expectLoggedFailure(res);
  });

  it('webhook create: the URL token and the signing secret stay out of the log', async () => {
    const hookToken = `newhook${randomBytes(12).toString('hex')}`;
    addCredential('new webhook URL token', hookToken, false);
    const res = await withFailingWrites(['webhooks'], () =>
      api.post(`/v1/webhooks/${org.id}`, { url: `http://127.0.0.1:9/in?token=${hookToken}`, events: ['secret.created'] }, { session: owner.session }),
    );
    await expectLoggedFailure(res);
  });

  it('webhook update: the new URL token stays out of the log', async () => {
    const hookToken = `updhook${randomBytes(12).toString('hex')}`;
    addCredential('updated webhook URL token', hookToken, false);
    const res = await withFailingWrites(['webhooks'], () =>
      api.patch(`/v1/webhooks/${org.id}/${webhookId}`, { url: `http://127.0.0.1:9/up?token=${hookToken}` }, { session: owner.session }),
    );
    await expectLoggedFailure(res);
  });

  it('webhook delivery: an attempt whose record fails is logged without the URL token or the signing secret (job worker)', async () => {
    await withFailingWrites(['webhook_deliveries'], async () => {
      const res = await api.post(`/v1/webhooks/${org.id}/${webhookId}/test`, undefined, { session: owner.session });
      expect(res.status).toBeLessThan(300);
      await waitForOutput(server, 'Webhook delivery could not be processed', 20_000);
    });
    const log = await logAfter('Webhook delivery could not be processed');
    expectNoCredential(log);
    const line = log.split('\n').find((l) => l.includes('Webhook delivery could not be processed'))!;
    expect(JSON.parse(line).err).toMatchObject({ type: 'QueryFailedError', sqlstate: 'P0001', statement: 'INSERT webhook_deliveries' });
  });

  it('invite create and accept: the invitation token and its hash stay out of the log', async () => {
    const created = await withFailingWrites(['org_invites'], () =>
      api.post(`/v1/members/${org.id}/invite`, { email: member.email, role: 'viewer' }, { session: owner.session }),
    );
    await expectLoggedFailure(created);

    const invited = await api.post(`/v1/members/${org.id}/invite`, { email: member.email, role: 'viewer' }, { session: owner.session });
    expect(invited.status).toBe(201);
    const token = tokenOf((await mail.next(member.email, /^Join /)).links[0]);
    addCredential('invitation token', token);
    const res = await withFailingWrites(['memberships', 'org_invites'], () =>
      api.post(`/v1/members/invite/${token}/accept`, undefined, { session: member.session }),
    );
    await expectLoggedFailure(res);
  });

  it("logs a caller's well-formed X-Request-Id only as clientRequestId, beside the server's own request id", async () => {
    const callerId = `caller-${randomBytes(6).toString('hex')}`;
    const res = await api.get('/v1/auth/me', { session: owner.session, headers: { 'x-request-id': callerId } });
    expect(res.status).toBe(200);
    const serverId = res.headers.get('x-request-id')!;
    expect(serverId).not.toBe(callerId);
    const lines = (await logAfter(serverId))
      .split('\n')
      .filter((l) => l.includes(serverId))
      .map((l) => JSON.parse(l) as { req?: { id?: string; clientRequestId?: string } });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatchObject({ req: { id: serverId, clientRequestId: callerId } });
  });

  it('the whole log, read after the server stopped, holds none of the credentials nor the stored password hashes', async () => {
    const { rows } = await db.query<{ password_hash: string }>('SELECT password_hash FROM users');
    expect(rows.length).toBeGreaterThan(1);
    rows.forEach((row) => addCredential('stored argon2 hash', row.password_hash, false));
    addCredential('member session', member.session, false);
    addCredential('owner session', owner.session, false);
    server.child.kill('SIGTERM');
    await server.exited;
    expect(server.output()).toContain('"level":20'); // debug lines were logged: the verbose levels were on
    expectNoCredential(server.output());
  });
});
