import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { registerUser, type TestUser } from './factories/accounts.js';
import { createProject, createVaultToken, secretsPath, type TestProject } from './factories/vault.js';
import type { Credentials, Response } from './support/http.js';
import { startTestContext, type TestContext } from './support/test-app.js';
import { until } from './support/until.js';

/** Concurrent writers of the same keys: no lost update, no gap, no duplicate version, no deadlock. */
describe('secrets under concurrent writes', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let as: Credentials;
  const org = () => owner.personalOrg;

  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'concurrent');
    // A bearer token: every request authenticates the same way, with no session bookkeeping.
    as = { token: (await createVaultToken(ctx.api, owner, { access: 'read_write', orgId: owner.personalOrg.id })).token };
  });
  afterAll(() => ctx.close());

  const path = (p: TestProject) => secretsPath(org(), p, 'development');

  /** Every version of every key of the project, straight from the database. */
  async function storedVersions(p: TestProject): Promise<Map<string, { current: number; versions: number[] }>> {
    const { rows } = await ctx.db.query(
      `SELECT s.key, s.current_version, array_agg(v.version ORDER BY v.version) AS versions
         FROM secrets s JOIN secret_versions v ON v.secret_id = s.id
        WHERE s.project_id = $1 GROUP BY s.id`,
      [p.id],
    );
    return new Map(rows.map((r) => [r.key, { current: r.current_version, versions: r.versions }]));
  }

  async function pullAll(p: TestProject): Promise<Map<string, { value: string; version: number }>> {
    const res = await ctx.api.get(path(p), as);
    expect(res.status).toBe(200);
    return new Map(res.body.secrets.map((s: { key: string; value: string; version: number }) => [s.key, { value: s.value, version: s.version }]));
  }

  /** Value of each version of a key, from its history. */
  async function valuesByVersion(p: TestProject, key: string): Promise<Map<number, string>> {
    const res = await ctx.api.get(`${path(p)}/versions/${key}`, as);
    expect(res.status).toBe(200);
    return new Map(res.body.versions.map((v: { version: number; value: string }) => [v.version, v.value]));
  }

  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  function expectNoServerErrors(responses: Response[]): void {
    const failures = responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`);
    expect(failures).toEqual([]);
  }

  it('gives 50 concurrent PUTs of one key the versions 1 to 50, with no gap, no duplicate and the last one current', async () => {
    const p = await createProject(ctx.api, owner, org());
    const values = range(50).map((i) => `value-${i}-${'x'.repeat(i)}`);
    const responses = await Promise.all(values.map((value) => ctx.api.put(path(p), { key: 'HOT_KEY', value }, as)));
    expectNoServerErrors(responses);

    const versions = responses.map((r) => r.body.version as number);
    expect([...versions].sort((a, b) => a - b)).toEqual(range(50));
    expect(responses.filter((r) => r.body.created).map((r) => r.body.version)).toEqual([1]);

    const stored = (await storedVersions(p)).get('HOT_KEY');
    expect(stored).toEqual({ current: 50, versions: range(50) });

    // Each request's value is stored under the version it was told it got; the current one is version 50's.
    const history = await valuesByVersion(p, 'HOT_KEY');
    responses.forEach((r, i) => expect(history.get(r.body.version)).toBe(values[i]));
    const winner = values[versions.indexOf(50)];
    expect((await pullAll(p)).get('HOT_KEY')).toEqual({ value: winner, version: 50 });
  });

  it('queues writers beyond the pool for their turn instead of answering 503 once DATABASE_CONNECT_TIMEOUT_MS has passed', async () => {
    const p = await createProject(ctx.api, owner, org());
    // One connection, and a connect time-out of 200 ms: the second PUT waits for that connection for as
    // long as the first, holding it, waits for the key. (Until the pool's wait was bounded separately,
    // it answered 503 "The database is unavailable" after the connect time-out, from a healthy database.)
    const narrow = await ctx.startInstance({
      DATABASE_POOL_SIZE: '1',
      DATABASE_CONNECT_TIMEOUT_MS: '200',
      DATABASE_LOCK_TIMEOUT_MS: '0',
      DATABASE_STATEMENT_TIMEOUT_MS: '60000',
    });
    const { rows } = await ctx.db.query(`SELECT id FROM environments WHERE project_id = $1 AND slug = 'development'`, [p.id]);
    const holder = await ctx.db.connect();
    try {
      await holder.query('BEGIN');
      // The key's lock, as SecretsRepository.lockKeys takes it.
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2, 0))`, [rows[0].id, 'QUEUED']);
      const writes = ['first', 'second'].map((value) => narrow.http.put(path(p), { key: 'QUEUED', value }, as));
      // Five times the connect time-out: one writer waits for the key on the only connection, the other for it.
      await until(
        'a writer waited 1 s for the key',
        async () =>
          // Not on the holder's connection: a transaction sees one snapshot of pg_stat_activity, and one now().
          (
            await ctx.db.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND now() - query_start > interval '1 second'`,
            )
          ).rows[0].n === 1,
        60_000,
      );
      await holder.query('COMMIT');
      const responses = await Promise.all(writes);
      expectNoServerErrors(responses);
      expect(responses.map((r) => r.body.version).sort()).toEqual([1, 2]);
      expect((await storedVersions(p)).get('QUEUED')).toEqual({ current: 2, versions: [1, 2] });
    } finally {
      holder.release();
      ctx.instances.splice(ctx.instances.indexOf(narrow), 1);
      await narrow.close();
    }
  });

  it('loses no update when 8 bulk imports of the same 30 keys run at once', async () => {
    const p = await createProject(ctx.api, owner, org());
    const keys = range(30).map((i) => `BULK_${String(i).padStart(2, '0')}`);
    const imports = range(8).map((j) => keys.map((key) => ({ key, value: `import-${j}:${key}` })));
    // Different orders in the requests: the server must still lock keys in one order.
    imports.forEach((secrets, j) => j % 2 && secrets.reverse());

    const responses = await Promise.all(imports.map((secrets) => ctx.api.post(`${path(p)}/bulk`, { secrets }, as)));
    expectNoServerErrors(responses);
    for (const r of responses) expect(r.body.total).toBe(30);
    // Each key was created by exactly one import and updated by the 7 others.
    expect(responses.reduce((n, r) => n + r.body.created, 0)).toBe(30);
    expect(responses.reduce((n, r) => n + r.body.updated, 0)).toBe(7 * 30);

    const stored = await storedVersions(p);
    expect([...stored.keys()].sort()).toEqual(keys);
    for (const key of keys) expect(stored.get(key)).toEqual({ current: 8, versions: range(8) });

    const current = await pullAll(p);
    const winners = new Set<string>();
    for (const key of keys) {
      const history = await valuesByVersion(p, key);
      expect(history.size).toBe(8);
      // Every import's value of the key is there exactly once: nothing overwritten in place.
      expect([...history.values()].sort()).toEqual(
        range(8)
          .map((j) => `import-${j}:${key}`)
          .sort(),
      );
      expect(current.get(key)).toEqual({ value: history.get(8), version: 8 });
      winners.add(history.get(8)!.split(':')[0]);
    }
    // Imports are atomic and serialised on their keys: the last one to commit is current for every key.
    expect(winners.size).toBe(1);
  });

  it('never answers 500 or deadlocks when PUTs and bulk imports of the same new keys race', async () => {
    const p = await createProject(ctx.api, owner, org());
    const put = (key: string, value: string) => ctx.api.put(path(p), { key, value }, as);
    const bulk = (keys: string[], value: string) => ctx.api.post(`${path(p)}/bulk`, { secrets: keys.map((key) => ({ key, value: `${value}:${key}` })) }, as);

    // Fresh keys each round: a key that a PUT creates while an import is half-way through the same
    // keys is the race that deadlocked (PostgreSQL 40P01, a 500). 25 rounds catch it nearly always.
    for (let round = 0; round < 25; round++) {
      const keys = ['A', 'B', 'C', 'D'].map((k) => `R${round}_${k}`);
      const responses = await Promise.all([
        ...keys.map((key) => put(key, `put-a:${key}`)),
        ...range(6).map((j) => bulk(j % 2 ? [...keys].reverse() : keys, `bulk-${j}`)),
        ...[...keys].reverse().map((key) => put(key, `put-b:${key}`)),
      ]);
      expectNoServerErrors(responses);
      expect(responses.reduce((n, r) => n + (r.body.created === true ? 1 : r.body.created || 0), 0)).toBe(keys.length);

      const stored = await storedVersions(p);
      for (const key of keys) {
        // Two PUTs and six imports of each key: eight versions, every value kept once.
        expect({ key, ...stored.get(key) }).toEqual({ key, current: 8, versions: range(8) });
        const values = [...(await valuesByVersion(p, key)).values()].sort();
        expect(values).toEqual([`put-a:${key}`, `put-b:${key}`, ...range(6).map((j) => `bulk-${j}:${key}`)].sort());
      }
    }
    // 25 rounds of 14 racing writes: 7.7 s alone at a load average of 11, 23 s in a full run; at 7 to 14
    // (other runs sharing the 2 cores) two full runs timed out at jest's 60 s default: a time-out, not a 500.
  }, 180_000);

  it('never answers 500 when rollbacks, deletes, bulk deletes, imports and PUTs of the same keys race', async () => {
    const p = await createProject(ctx.api, owner, org());
    const keys = ['K1', 'K2', 'K3', 'K4'];
    for (let round = 0; round < 10; round++) {
      const seeded = await ctx.api.post(`${path(p)}/bulk`, { secrets: keys.map((key) => ({ key, value: `seed-${round}` })) }, as);
      expect(seeded.status).toBe(200);
      const responses = await Promise.all([
        ctx.api.post(`${path(p)}/rollback`, { key: 'K1', version: 1 }, as),
        ctx.api.post(`${path(p)}/rollback`, { key: 'K4', version: 1 }, as),
        ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['K4', 'K2'] }, as),
        ctx.api.post(`${path(p)}/bulk-delete`, { keys: ['K1', 'K3'] }, as),
        ctx.api.post(`${path(p)}/bulk`, { secrets: [...keys].reverse().map((key) => ({ key, value: `bulk-${round}` })) }, as),
        ctx.api.put(path(p), { key: 'K3', value: `put-${round}` }, as),
        ctx.api.delete(`${path(p)}/K2`, as),
      ]);
      // A delete may find its key already deleted (404); nothing else may fail.
      const unexpected = responses.filter((r) => r.status !== 200 && r.status !== 404).map((r) => `${r.status} ${r.text}`);
      expect(unexpected).toEqual([]);
      for (const r of responses.filter((r) => r.status === 404)) expect(r.body.message).toMatch(/^Secrets? (not found|'K\d' not found)/);
    }
    // Whatever the interleaving, every key's versions are 1…n with no gap and no duplicate.
    for (const [key, { current, versions }] of await storedVersions(p)) {
      expect({ key, versions }).toEqual({ key, versions: range(current) });
    }
  });

  it('neither deadlocks nor loses a version when promotions and bulk sets of the same keys race, in both orders', async () => {
    // An org on a plan with a secrets limit: both writers then also take the limit's lock.
    const racer = await registerUser(ctx.api, 'racer');
    const org = racer.personalOrg;
    await ctx.db.query(`UPDATE orgs SET plan = 'team' WHERE id = $1`, [org.id]);
    const as = { token: (await createVaultToken(ctx.api, racer, { access: 'read_write', orgId: org.id })).token };
    const p = await createProject(ctx.api, racer, org);
    const path = secretsPath(org, p, 'development');
    const keys = ['P1', 'P2', 'P3', 'P4'];
    const promote = () => ctx.api.post(`/v1/secrets/${org.slug}/${p.slug}/promote`, { fromEnv: 'staging', toEnv: 'development', overwrite: true }, as);
    const bulk = (value: string, order: string[]) => ctx.api.post(`${path}/bulk`, { secrets: order.map((key) => ({ key, value: `${value}:${key}` })) }, as);
    const developmentVersions = async () => {
      const { rows } = await ctx.db.query(
        `SELECT s.key, s.current_version, array_agg(v.version ORDER BY v.version) AS versions
           FROM secrets s JOIN secret_versions v ON v.secret_id = s.id JOIN environments e ON e.id = s.environment_id
          WHERE s.project_id = $1 AND e.slug = 'development' GROUP BY s.id`,
        [p.id],
      );
      return new Map<string, { current: number; versions: number[] }>(rows.map((r) => [r.key, { current: r.current_version, versions: r.versions }]));
    };

    const rounds = 12;
    // Bulk values are new every time; a promotion skips a key already holding the identical value (issue 19).
    const written = new Map(keys.map((key) => [key, 0]));
    const promotedIn = new Map(keys.map((key) => [key, [] as number[]]));
    for (let round = 0; round < rounds; round++) {
      const seeded = await ctx.api.post(`${secretsPath(org, p, 'staging')}/bulk`, { secrets: keys.map((key) => ({ key, value: `stg-${round}:${key}` })) }, as);
      expect(seeded.status).toBe(200);
      // Both orders: promotions sent first on even rounds, bulk sets first on odd ones, with the keys reversed.
      const order = round % 2 ? [...keys].reverse() : keys;
      const writes = [promote, () => bulk(`bulk-a-${round}`, order), promote, () => bulk(`bulk-b-${round}`, [...order].reverse())];
      const responses = await Promise.all((round % 2 ? [...writes].reverse() : writes).map((write) => write()));
      expectNoServerErrors(responses);
      for (const key of keys) {
        const promotedNow = responses.filter((r) =>
          r.body.results?.some((x: { key: string; action: string }) => x.key === key && x.action !== 'skipped'),
        ).length;
        written.set(key, written.get(key)! + 2 + promotedNow);
        promotedIn.get(key)!.push(promotedNow);
      }

      // Every write that changed a key is a version: 1…n, no gap, no duplicate, none lost.
      const stored = await developmentVersions();
      for (const key of keys) {
        const expected = written.get(key)!;
        expect({ key, ...stored.get(key) }).toEqual({ key, current: expected, versions: range(expected) });
      }
      // The last write is what a pull sees.
      const pulled = await ctx.api.get(path, as);
      expect(pulled.status).toBe(200);
      for (const s of pulled.body.secrets as Array<{ key: string; version: number }>)
        expect({ key: s.key, version: s.version }).toEqual({ key: s.key, version: written.get(s.key) });
      expect(pulled.body.secrets).toHaveLength(keys.length);
    }

    // Every write kept its own version: each round's versions hold that round's values (both bulk values, and the staging value once per promotion that wrote).
    for (const key of keys) {
      const res = await ctx.api.get(`${path}/versions/${key}`, as);
      expect(res.status).toBe(200);
      const history = new Map<number, string>(res.body.versions.map((v: { version: number; value: string }) => [v.version, v.value]));
      let first = 1;
      for (let round = 0; round < rounds; round++) {
        const promoted = promotedIn.get(key)![round];
        const values = range(2 + promoted)
          .map((i) => history.get(first + i - 1))
          .sort();
        first += 2 + promoted;
        expect({ key, round, values }).toEqual({
          key,
          round,
          values: [`bulk-a-${round}:${key}`, `bulk-b-${round}:${key}`, ...Array(promoted).fill(`stg-${round}:${key}`)].sort(),
        });
      }
      const pulled = await ctx.api.get(path, as);
      const current = pulled.body.secrets.find((s: { key: string }) => s.key === key);
      expect(current.value).toBe(history.get(written.get(key)!));
    }
  });
});
