import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import type { HttpClient } from './support/http.js';
import { SseStream } from './support/sse.js';
import { startTestContext, type TestContext } from './support/test-app.js';

/** Issue 18: the change stream (GET /v1/secrets/…/events) and conditional pulls. */
describe('change stream', () => {
  let ctx: TestContext;
  let a: HttpClient;
  let b: HttpClient;
  let owner: TestUser;
  let org: TestOrg;
  const streams: SseStream[] = [];
  const FAST = { STREAM_RECHECK_MS: '300', STREAM_HEARTBEAT_MS: '200', STREAM_MAX_PER_CREDENTIAL: '3' };

  beforeAll(async () => {
    ctx = await startTestContext(FAST);
    a = ctx.api;
    b = (await ctx.startInstance()).http;
    owner = await registerUser(a, 'watcher');
    org = await createOrg(a, owner, 'Stream');
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await ctx.close();
  });

  const eventsPath = (project: TestProject, env: string) => `${secretsPath(org, project, env)}/events`;

  async function watch(api: HttpClient, path: string, credentials: { token?: string; session?: string; lastEventId?: string }): Promise<SseStream> {
    const opened = await SseStream.open(api.baseUrl, path, credentials);
    if (!opened.stream) throw new Error(`stream refused: ${opened.status} ${JSON.stringify(opened.body)}`);
    streams.push(opened.stream);
    return opened.stream;
  }

  it('announces on instance B, within a second, a change committed through instance A: key names and versions, never values', async () => {
    const project = await createProject(a, owner, org);
    const { token } = await createToken(a, owner, { access: 'read', orgId: org.id });
    const stream = await watch(b, eventsPath(project, 'development'), { token });
    const ready = await stream.next((e) => e.event === 'ready');
    expect(ready.data).toEqual({ seq: ready.id });

    const secret = `value-${Date.now()}-never-sent`;
    await setSecret(a, { session: owner.session }, org, project, 'development', { key: 'API_KEY', value: secret });
    const change = await stream.next((e) => e.event === 'change');
    expect(change.data).toMatchObject({ type: 'set', changes: [{ key: 'API_KEY', version: 1 }] });
    expect(change.id).toBe(change.data.seq);
    expect(BigInt(change.id!)).toBeGreaterThan(BigInt(ready.id!));

    await a.delete(`${secretsPath(org, project, 'development')}/API_KEY`, { session: owner.session });
    const deleted = await stream.next((e) => e.event === 'change' && e.data.type === 'delete');
    expect(deleted.data.changes).toEqual([{ key: 'API_KEY', version: null }]);
    expect(stream.raw).not.toContain(secret);
    // Heartbeats: a comment line every STREAM_HEARTBEAT_MS (200 ms here).
    await stream.until(() => /^:\n\n/m.test(stream.raw), 'no heartbeat');
  });

  it('announces a change too big for a NOTIFY payload (read from the log by its sequence number)', async () => {
    const project = await createProject(a, owner, org);
    const stream = await watch(b, eventsPath(project, 'development'), { session: owner.session });
    await stream.next((e) => e.event === 'ready');
    const keys = Array.from({ length: 300 }, (_, i) => `A_RATHER_LONG_KEY_NAME_FOR_THE_PAYLOAD_${String(i).padStart(3, '0')}`);
    await seedSecrets(a, { session: owner.session }, org, project, 'development', Object.fromEntries(keys.map((k) => [k, 'v'])));
    const change = await stream.next((e) => e.event === 'change');
    expect(JSON.stringify(change.data.changes).length).toBeGreaterThan(8000);
    expect(change.data.changes).toEqual(keys.map((key) => ({ key, version: 1 })));
  });

  it('sends nothing for a change that rolls back, nor for another environment', async () => {
    const project = await createProject(a, owner, org);
    const stream = await watch(a, eventsPath(project, 'development'), { session: owner.session });
    await stream.next((e) => e.event === 'ready');
    // A bulk set with an invalid key fails as a whole: nothing committed, nothing announced.
    const refused = await a.post(
      `${secretsPath(org, project, 'development')}/bulk`,
      {
        secrets: [
          { key: 'OK', value: 'v' },
          { key: 'OK', value: 'w' },
        ],
      },
      { session: owner.session },
    );
    expect(refused.status).toBe(400);
    await setSecret(a, { session: owner.session }, org, project, 'staging', { key: 'ELSEWHERE', value: 'v' });
    await setSecret(a, { session: owner.session }, org, project, 'development', { key: 'HERE', value: 'v' });
    const change = await stream.next((e) => e.event === 'change');
    expect(change.data.changes).toEqual([{ key: 'HERE', version: 1 }]);
    expect(stream.events.filter((e) => e.event === 'change')).toHaveLength(1);
  });

  it('replays to a watcher reconnecting with Last-Event-ID every change it missed, in order, on either instance', async () => {
    const project = await createProject(a, owner, org);
    const first = await watch(a, eventsPath(project, 'development'), { session: owner.session });
    await setSecret(a, { session: owner.session }, org, project, 'development', { key: 'A', value: '1' });
    const seen = await first.next((e) => e.event === 'change');
    first.close();

    await setSecret(b, { session: owner.session }, org, project, 'development', { key: 'A', value: '2' });
    await seedSecrets(a, { session: owner.session }, org, project, 'development', { B: '1', C: '1' });
    await a.post(`${secretsPath(org, project, 'development')}/rollback`, { key: 'A', version: 1 }, { session: owner.session });
    await a.post(`/v1/secrets/${org.slug}/${project.slug}/promote`, { fromEnv: 'development', toEnv: 'staging', keys: ['B'] }, { session: owner.session });
    await a.delete(`${secretsPath(org, project, 'development')}/C`, { session: owner.session });

    const again = await watch(b, eventsPath(project, 'development'), { session: owner.session, lastEventId: seen.id });
    await again.next((e) => e.event === 'change' && e.data.type === 'delete');
    const changes = again.events.filter((e) => e.event === 'change').map((e) => [e.data.type, e.data.changes]);
    expect(changes).toEqual([
      ['set', [{ key: 'A', version: 2 }]],
      [
        'import',
        [
          { key: 'B', version: 1 },
          { key: 'C', version: 1 },
        ],
      ],
      ['rollback', [{ key: 'A', version: 3 }]],
      ['delete', [{ key: 'C', version: null }]],
    ]);
    expect(again.events.some((e) => e.event === 'ready')).toBe(false);
    const ids = again.events.filter((e) => e.event === 'change').map((e) => BigInt(e.id!));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);

    // The promotion is announced on its target.
    const staging = await watch(a, eventsPath(project, 'staging'), { session: owner.session, lastEventId: '0' });
    const promoted = await staging.next((e) => e.event === 'change');
    expect(promoted.data).toMatchObject({ type: 'promotion', changes: [{ key: 'B', version: 1 }] });
  });

  it('tells a watcher with an event id it never issued to pull again, and refuses a malformed one', async () => {
    const project = await createProject(a, owner, org);
    const stream = await watch(a, eventsPath(project, 'development'), { session: owner.session, lastEventId: '999999999999' });
    const resync = await stream.next((e) => e.event === 'resync');
    expect(resync.data).toMatchObject({ reason: 'unknown_event_id' });
    const bad = await SseStream.open(a.baseUrl, eventsPath(project, 'development'), { session: owner.session, lastEventId: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'validation_failed' });
  });

  it('closes a stream within the re-check interval when its token is revoked', async () => {
    const project = await createProject(a, owner, org);
    const { id, token } = await createToken(a, owner, { access: 'read', orgId: org.id });
    const stream = await watch(b, eventsPath(project, 'development'), { token });
    await stream.next((e) => e.event === 'ready');
    expect((await a.delete(`/v1/auth/tokens/${id}`, { session: owner.session })).status).toBe(204);
    const closed = await stream.next((e) => e.event === 'closed');
    expect(closed.data).toEqual({ reason: 'credential_revoked' });
    await stream.untilEnded();
    expect((await SseStream.open(b.baseUrl, eventsPath(project, 'development'), { token })).status).toBe(401);
  });

  it('closes the streams of a removed member and of a member demoted below the tier', async () => {
    const project = await createProject(a, owner, org);
    const removed = await registerUser(a, 'removed');
    const demoted = await registerUser(a, 'demoted');
    await addMember(a, org, owner, removed, 'developer');
    await addMember(a, org, owner, demoted, 'developer');
    const removedStream = await watch(a, eventsPath(project, 'development'), { session: removed.session });
    const demotedStream = await watch(b, eventsPath(project, 'staging'), { session: demoted.session });
    const unaffected = await watch(b, eventsPath(project, 'development'), { session: demoted.session });
    await Promise.all([removedStream, demotedStream, unaffected].map((s) => s.next((e) => e.event === 'ready')));

    expect((await a.delete(`/v1/members/${org.id}/${removed.id}`, { session: owner.session })).status).toBe(204);
    expect((await a.patch(`/v1/members/${org.id}/${demoted.id}`, { role: 'viewer' }, { session: owner.session })).status).toBe(200);
    expect((await removedStream.next((e) => e.event === 'closed')).data).toEqual({ reason: 'membership_removed' });
    expect((await demotedStream.next((e) => e.event === 'closed')).data).toEqual({ reason: 'role_changed' });
    await Promise.all([removedStream.untilEnded(), demotedStream.untilEnded()]);
    // A viewer still reads development: that stream stays open and keeps receiving changes.
    await setSecret(a, { session: owner.session }, org, project, 'development', { key: 'STILL', value: 'v' });
    await unaffected.next((e) => e.event === 'change');
    expect(unaffected.ended).toBe(false);
  });

  it('answers 403 to a role that may not read the tier, 404 for an unknown environment, 429 beyond the streams per credential', async () => {
    const project = await createProject(a, owner, org);
    const viewer = await registerUser(a, 'viewer');
    await addMember(a, org, owner, viewer, 'viewer');
    expect((await SseStream.open(a.baseUrl, eventsPath(project, 'production'), { session: viewer.session })).status).toBe(403);
    expect((await SseStream.open(a.baseUrl, eventsPath(project, 'qa'), { session: owner.session })).status).toBe(404);
    const { token } = await createToken(a, owner, { access: 'read', orgId: org.id });
    for (let i = 0; i < 3; i++) await watch(a, eventsPath(project, 'development'), { token });
    const refused = await SseStream.open(a.baseUrl, eventsPath(project, 'development'), { token });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate_limited' });
    // The limit is per instance: B still accepts.
    expect((await SseStream.open(b.baseUrl, eventsPath(project, 'development'), { token })).stream).toBeDefined();
    streams.at(-1)?.close();
  });

  it('counts a stream against the limits from its first check: twenty concurrent opens with one token get 3, and a closed one frees its slot', async () => {
    const project = await createProject(a, owner, org);
    const { token } = await createToken(a, owner, { access: 'read', orgId: org.id });
    const path = eventsPath(project, 'development');
    const results = await Promise.all(Array.from({ length: 20 }, () => SseStream.open(a.baseUrl, path, { token })));
    const opened = results.flatMap((r) => (r.stream ? [r.stream] : []));
    streams.push(...opened);
    expect(opened).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(17);
    opened[0].close();
    // The server sees the close when the socket ends: poll until the freed slot is given to a new stream.
    const deadline = Date.now() + 5000;
    let again = await SseStream.open(a.baseUrl, path, { token });
    while (!again.stream && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      again = await SseStream.open(a.baseUrl, path, { token });
    }
    expect(again.stream).toBeDefined();
    streams.push(again.stream!);
  });
});

describe('conditional pulls', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  it('answers If-None-Match with 304 and no body while nothing changed, audits it as a read, and a new ETag after a change', async () => {
    const api = ctx.api;
    const owner = await registerUser(api, 'etag');
    const org = await createOrg(api, owner, 'Etag');
    const project = await createProject(api, owner, org);
    const auth = { session: owner.session };
    await seedSecrets(api, auth, org, project, 'development', { A: 'secret-a-value', B: 'b' });
    const path = secretsPath(org, project, 'development');

    const first = await api.get(path, auth);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(etag).not.toContain('secret-a-value');
    const same = await api.get(path, { ...auth, headers: { 'if-none-match': etag } });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect(same.headers.get('etag')).toBe(etag);
    // Another filter is another answer, so another ETag.
    const filtered = await api.get(`${path}?search=A`, { ...auth, headers: { 'if-none-match': etag } });
    expect(filtered.status).toBe(200);
    expect(filtered.headers.get('etag')).not.toBe(etag);

    const { rows } = await ctx.db.query(
      `SELECT metadata FROM audit_events WHERE action = 'secret.read' AND org_id = $1 AND (metadata->>'notModified')::boolean IS TRUE`,
      [org.id],
    );
    expect(rows).toEqual([{ metadata: expect.objectContaining({ count: 2, notModified: true, environment: 'development' }) }]);

    await setSecret(api, auth, org, project, 'development', { key: 'B', value: 'b2' });
    const changed = await api.get(path, { ...auth, headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.secrets.map((s: { key: string; version: number }) => [s.key, s.version])).toEqual([
      ['A', 1],
      ['B', 2],
    ]);
  });
});
