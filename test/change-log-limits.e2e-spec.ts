import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { QueryRunner } from 'typeorm';
import { EnvironmentVersion1764910000000 } from '../migrations/1764910000000-environment-version.js';
import { ChangeLogPruner } from '../src/modules/changes/change-log-pruner.service.js';
import { ChangeStreams } from '../src/modules/changes/change-streams.service.js';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, setSecret, type TestProject } from './factories/vault.js';
import type { HttpClient } from './support/http.js';
import { startInProcessTestContext, type InProcessTestContext } from './support/in-process-app.js';
import { SseStream } from './support/sse.js';

/**
 * Issue 18, what bounds the change stream: a client that stops reading is closed once its unsent bytes
 * pass the per-stream budget; the change log is pruned (by age and by count per environment) through
 * the job queue, and a position older than what remains gets a resync or a conflict. And the one
 * environment version: the stream's event id, a write's `environmentVersion`, a pull's header and a
 * bulk import's `ifEnvironmentVersion` are one number.
 */
describe('change stream limits and the environment version', () => {
  let ctx: InProcessTestContext;
  let api: HttpClient;
  let owner: TestUser;
  let org: TestOrg;
  const streams: SseStream[] = [];
  const BUDGET = 64 * 1024;
  const KEEP = 5;

  beforeAll(async () => {
    ctx = await startInProcessTestContext({
      STREAM_BUFFER_BYTES: String(BUDGET),
      STREAM_HEARTBEAT_MS: '60000',
      CHANGE_LOG_MAX_AGE_HOURS: '24',
      CHANGE_LOG_MAX_PER_ENVIRONMENT: String(KEEP),
      CHANGE_LOG_PRUNE_INTERVAL_SECONDS: '86400',
    });
    api = ctx.api;
    owner = await registerUser(api, 'limits');
    org = await createOrg(api, owner, 'Limits');
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await ctx.close();
  });

  const as = () => ({ session: owner.session });
  const eventsPath = (project: TestProject, env = 'development') => `${secretsPath(org, project, env)}/events`;
  const app = () => ctx.instances[0].app;

  async function watch(path: string, credentials: { token?: string; session?: string; lastEventId?: string }): Promise<SseStream> {
    const opened = await SseStream.open(api.baseUrl, path, credentials);
    if (!opened.stream) throw new Error(`stream refused: ${opened.status} ${JSON.stringify(opened.body)}`);
    streams.push(opened.stream);
    return opened.stream;
  }

  async function environmentId(project: TestProject, env = 'development'): Promise<string> {
    const { rows } = await ctx.db.query('SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.slug = $1 AND e.slug = $2', [
      project.slug,
      env,
    ]);
    return rows[0].id;
  }

  const logged = async (envId: string) =>
    (await ctx.db.query('SELECT seq::text AS seq FROM secret_changes WHERE environment_id = $1 ORDER BY secret_changes.seq', [envId])).rows.map(
      (r) => r.seq as string,
    );

  it('closes a stream whose client stops reading once its unsent bytes pass STREAM_BUFFER_BYTES, and goes on serving the others', async () => {
    const project = await createProject(api, owner, org);
    const { token } = await createToken(api, owner, { access: 'read', orgId: org.id });
    const slow = await watch(eventsPath(project), { session: owner.session });
    const healthy = await watch(eventsPath(project), { token });
    await Promise.all([slow.next((e) => e.event === 'ready'), healthy.next((e) => e.event === 'ready')]);
    const open = app().get(ChangeStreams);
    expect(open.count).toBe(2);
    slow.pause();

    // Each import announces ~2,000 long key names (~450 KB a frame): the socket buffers of the loopback
    // (a few MB) fill, then the server's own buffer passes the 64 KB budget and the stream is closed.
    const keys = Array.from({ length: 2_000 }, (_, i) => `K${String(i).padStart(4, '0')}_${'X'.repeat(200)}`);
    let writes = 0;
    while (open.count === 2) {
      if (++writes > 40) throw new Error('the slow stream was never closed');
      await seedSecrets(api, as(), org, project, 'development', Object.fromEntries(keys.map((k) => [k, String(writes)])));
      // The healthy client reads each change as it comes (so only the slow one backs up).
      await healthy.next((e) => e.event === 'change' && e.data.changes[0].version === writes, { timeoutMs: 30_000 });
    }
    expect(open.count).toBe(1);
    expect(writes).toBeGreaterThan(1);

    // The healthy stream goes on: a later change still reaches it.
    await setSecret(api, as(), org, project, 'development', { key: 'AFTER', value: 'v' });
    await healthy.next((e) => e.event === 'change' && e.data.changes[0].key === 'AFTER');
    // The slow client, reading again, finds its stream ended, short of the changes made since.
    slow.resume();
    await slow.untilEnded(30_000);
    expect(slow.events.filter((e) => e.event === 'change').length).toBeLessThan(writes);
  }, 180_000);

  it('one environment version: the event id, the write’s environmentVersion, the pull’s header and ifEnvironmentVersion agree', async () => {
    const project = await createProject(api, owner, org);
    const stream = await watch(eventsPath(project), { session: owner.session });
    const ready = await stream.next((e) => e.event === 'ready');
    expect(ready.id).toBe('0');
    const path = secretsPath(org, project, 'development');

    const first = await api.post(
      `${path}/bulk`,
      {
        secrets: [
          { key: 'A', value: '1' },
          { key: 'B', value: '1' },
        ],
      },
      as(),
    );
    expect(first.status).toBe(200);
    const firstEvent = await stream.next((e) => e.event === 'change');
    expect(first.body.environmentVersion).toBe(Number(firstEvent.id));
    const pull = await api.get(path, as());
    expect(pull.headers.get('x-secr-environment-version')).toBe(firstEvent.id);
    const notModified = await api.get(path, { ...as(), headers: { 'if-none-match': pull.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('x-secr-environment-version')).toBe(firstEvent.id);
    expect((await api.get(`${path}/keys`, as())).body.environmentVersion).toBe(Number(firstEvent.id));

    // Another writer changes A: a check-and-set from the first event's id names A and answers the new version.
    await setSecret(api, as(), org, project, 'development', { key: 'A', value: '2' });
    const second = await stream.next((e) => e.event === 'change', { from: stream.events.indexOf(firstEvent) + 1 });
    const stale = await api.post(`${path}/bulk`, { secrets: [{ key: 'A', value: '3' }], ifEnvironmentVersion: Number(firstEvent.id) }, as());
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'conflict', environmentVersion: Number(second.id), conflicts: [{ key: 'A', currentVersion: 2 }] });
    // B did not change since the first event: that import goes through, and its version is its event's id.
    const fine = await api.post(`${path}/bulk`, { secrets: [{ key: 'B', value: '2' }], ifEnvironmentVersion: Number(firstEvent.id) }, as());
    expect(fine.status).toBe(200);
    const third = await stream.next((e) => e.event === 'change' && e.data.changes[0].key === 'B' && e.data.changes[0].version === 2);
    expect(fine.body.environmentVersion).toBe(Number(third.id));
    // Nothing left in secrets of the old install-wide counter.
    const { rows } = await ctx.db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'secrets' AND column_name = 'change_seq'`);
    expect(rows).toEqual([]);
  });

  it('prunes the log by age and by count per environment; a position from before what remains gets a resync and a conflict', async () => {
    const aged = await createProject(api, owner, org);
    const counted = await createProject(api, owner, org);
    const agedEnv = await environmentId(aged);
    const countedEnv = await environmentId(counted);
    for (let i = 1; i <= 3; i++) await setSecret(api, as(), org, aged, 'development', { key: `OLD_${i}`, value: 'v' });
    for (let i = 1; i <= KEEP + 3; i++) await setSecret(api, as(), org, counted, 'development', { key: 'COUNTED', value: String(i) });
    const agedBefore = await logged(agedEnv);
    const countedBefore = await logged(countedEnv);
    // The first two changes of `aged` are two days old; the third is recent.
    await ctx.db.query(`UPDATE secret_changes SET created_at = now() - interval '48 hours' WHERE seq = ANY($1::bigint[])`, [agedBefore.slice(0, 2)]);

    const pruner = app().get(ChangeLogPruner);
    const result = await pruner.prune();
    expect(result.byAge).toBeGreaterThanOrEqual(2);
    expect(result.byCount).toBeGreaterThanOrEqual(3);
    expect(await logged(agedEnv)).toEqual(agedBefore.slice(2));
    expect(await logged(countedEnv)).toEqual(countedBefore.slice(3));
    const horizons = await ctx.db.query('SELECT environment_id, pruned_through::text AS h FROM secret_change_horizons WHERE environment_id = ANY($1::uuid[])', [
      [agedEnv, countedEnv],
    ]);
    expect(Object.fromEntries(horizons.rows.map((r) => [r.environment_id, r.h]))).toEqual({ [agedEnv]: agedBefore[1], [countedEnv]: countedBefore[2] });

    // From before the horizon: resync. From the horizon itself: nothing was lost, the rest is replayed.
    const behind = await watch(eventsPath(counted), { session: owner.session, lastEventId: countedBefore[1] });
    expect((await behind.next((e) => e.event === 'resync')).data).toEqual({ seq: countedBefore.at(-1), reason: 'changes_pruned' });
    const atHorizon = await watch(eventsPath(counted), { session: owner.session, lastEventId: countedBefore[2] });
    await atHorizon.next((e) => e.event === 'change' && e.id === countedBefore.at(-1));
    expect(atHorizon.events.filter((e) => e.event === 'change').map((e) => e.id)).toEqual(countedBefore.slice(3));

    // A check-and-set from before the horizon cannot know which keys changed: every key conflicts.
    const path = secretsPath(org, counted, 'development');
    const old = await api.post(`${path}/bulk`, { secrets: [{ key: 'OTHER', value: 'v' }], ifEnvironmentVersion: Number(countedBefore[1]) }, as());
    expect(old.status).toBe(409);
    expect(old.body).toMatchObject({ environmentVersion: Number(countedBefore.at(-1)), conflicts: [{ key: 'OTHER', currentVersion: 0 }] });
    const current = await api.post(`${path}/bulk`, { secrets: [{ key: 'OTHER', value: 'v' }], ifEnvironmentVersion: Number(countedBefore.at(-1)) }, as());
    expect(current.status).toBe(200);

    // An environment whose whole log was pruned keeps its version.
    await ctx.db.query(`UPDATE secret_changes SET created_at = now() - interval '48 hours' WHERE environment_id = $1`, [agedEnv]);
    await pruner.prune();
    expect(await logged(agedEnv)).toEqual([]);
    expect((await api.get(`${secretsPath(org, aged, 'development')}/keys`, as())).body.environmentVersion).toBe(Number(agedBefore[2]));
    const fresh = await watch(eventsPath(aged), { session: owner.session });
    expect((await fresh.next((e) => e.event === 'ready')).id).toBe(agedBefore[2]);
  });

  it('runs the pruning pass as a job of the queue when an instance asks for one', async () => {
    const project = await createProject(api, owner, org);
    const envId = await environmentId(project);
    for (let i = 1; i <= KEEP + 2; i++) await setSecret(api, as(), org, project, 'development', { key: 'QUEUED', value: String(i) });
    const before = await logged(envId);
    expect(await app().get(ChangeLogPruner).request()).toBe(true);
    const deadline = Date.now() + 30_000;
    while ((await logged(envId)).length > KEEP) {
      if (Date.now() > deadline) throw new Error('the queued pruning pass did not run within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await logged(envId)).toEqual(before.slice(2));
  });

  // Last: it takes the schema down and up again under the running app.
  it('migrates an install whose environments were written before the change log: they get a horizon, so old versions conflict', async () => {
    const project = await createProject(api, owner, org);
    const envId = await environmentId(project);
    await setSecret(api, as(), org, project, 'development', { key: 'EARLY', value: 'v' });
    const migration = new EnvironmentVersion1764910000000();
    const runner = { query: (sql: string) => ctx.db.query(sql) } as unknown as QueryRunner;
    await migration.down(runner);
    expect((await ctx.db.query(`SELECT count(*)::int AS n FROM secrets WHERE change_seq IS NULL`)).rows).toEqual([{ n: 0 }]);
    // As if EARLY had been written before secret_changes existed: no row of it in the log.
    await ctx.db.query('DELETE FROM secret_changes WHERE environment_id = $1', [envId]);
    const { rows: last } = await ctx.db.query('SELECT COALESCE(max(seq), 0)::text AS seq FROM secret_changes');
    await migration.up(runner);

    const { rows } = await ctx.db.query('SELECT pruned_through::text AS h FROM secret_change_horizons WHERE environment_id = $1', [envId]);
    expect(BigInt(rows[0].h)).toBeGreaterThan(BigInt(last[0].seq));
    const path = secretsPath(org, project, 'development');
    expect((await api.get(`${path}/keys`, as())).body.environmentVersion).toBe(Number(rows[0].h));
    const stale = await api.post(`${path}/bulk`, { secrets: [{ key: 'EARLY', value: 'w' }], ifEnvironmentVersion: 0 }, as());
    expect(stale.status).toBe(409);
    const fresh = await api.post(`${path}/bulk`, { secrets: [{ key: 'EARLY', value: 'w' }], ifEnvironmentVersion: Number(rows[0].h) }, as());
    expect(fresh.status).toBe(200);
    const replay = await watch(eventsPath(project), { session: owner.session, lastEventId: '0' });
    expect((await replay.next((e) => e.event === 'resync')).data).toMatchObject({ reason: 'changes_pruned' });
  });
});
