import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditChain } from '../src/modules/audit/audit-chain.service.js';
import { AuditRetention } from '../src/modules/audit/audit-retention.service.js';
import { AuditRepository, type AuditValues } from '../src/modules/audit/audit.repository.js';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets } from './factories/vault.js';
import { startInProcessTestContext, type InProcessTestContext } from './support/in-process-app.js';

/**
 * Issue 21: keyset paging and filters, the per-org hash chain (tampering in SQL is found and named),
 * signed checkpoints, two instances writing one chain, export and retention.
 */
describe('audit log at scale', () => {
  let ctx: InProcessTestContext;
  let owner: TestUser;
  beforeAll(async () => {
    ctx = await startInProcessTestContext();
    owner = await registerUser(ctx.api, 'chain-owner');
  });
  afterAll(() => ctx.close());
  const as = () => ({ session: owner.session });
  const chain = () => ctx.instances[0].app.get(AuditChain);
  const get = async (path: string) => {
    const res = await ctx.api.get(path, as());
    expect(res.status).toBe(200);
    return res.body;
  };
  const verify = (org: TestOrg, query = '') => get(`/v1/audit/${org.id}/verify${query}`);
  /** `n` rows written straight into the table (the trigger chains them as it would the app's). */
  const seed = (org: TestOrg, n: number, action = 'test.event') =>
    ctx.db.query(`INSERT INTO audit_events (action, org_id, metadata) SELECT $1, $2, jsonb_build_object('n', g) FROM generate_series(1, $3) g`, [
      action,
      org.id,
      n,
    ]);
  const newOrg = (name: string) => createOrg(ctx.api, owner, name);
  const positions = async (org: TestOrg) =>
    (
      await ctx.db.query<{ id: string; seq: string }>('SELECT id::text, chain_seq::text AS seq FROM audit_events WHERE org_id = $1 ORDER BY chain_seq', [
        org.id,
      ])
    ).rows;

  describe('paging by cursor', () => {
    it.concurrent('walks the whole log with before-cursors, without a repeat or a gap, while rows are being added', async () => {
      const org = await newOrg('Paged');
      await seed(org, 230);
      const first = await get(`/v1/audit/${org.id}?limit=25`);
      expect(first.pagination).toEqual({ limit: 25, offset: 0, total: expect.any(Number) });
      const known = first.pagination.total;
      const seen: string[] = first.events.map((e: { id: string }) => e.id);
      let cursor: string | null = first.cursors.before;
      let adding = 0;
      while (cursor) {
        // Rows committed between pages land above the first page, never inside the walk.
        await seed(org, 7, 'test.concurrent');
        adding += 7;
        const page = await get(`/v1/audit/${org.id}?limit=25&before=${cursor}`);
        expect(page.pagination).toBeUndefined();
        seen.push(...page.events.map((e: { id: string }) => e.id));
        cursor = page.cursors.before;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toHaveLength(known);
      const ids = (await positions(org)).map((r) => r.id);
      expect([...seen].reverse()).toEqual(ids.slice(0, known));

      // after-cursors from the first page find exactly the rows added since, oldest page first.
      const newer: string[] = [];
      let after: string | null = first.cursors.after;
      for (;;) {
        const page = await get(`/v1/audit/${org.id}?limit=10&after=${after}`);
        if (!page.events.length) break;
        expect(Number(page.events[0].id)).toBeGreaterThan(Number(page.events[page.events.length - 1].id));
        newer.push(...[...page.events].reverse().map((e: { id: string }) => e.id));
        after = page.cursors.after;
      }
      expect(newer).toEqual(ids.slice(known));
      expect(newer).toHaveLength(adding);
    });

    it.concurrent('refuses a malformed cursor and mixed paging with a 400', async () => {
      const org = await newOrg('Bad cursors');
      for (const query of [
        'before=not%20a%20cursor',
        `before=${Buffer.from('v1:x').toString('base64url')}`,
        'before=MQ&after=MQ',
        `before=${Buffer.from('v1:5').toString('base64url')}&offset=5`,
      ]) {
        const res = await ctx.api.get(`/v1/audit/${org.id}?${query}`, as());
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
    });
  });

  it.concurrent('filters by action, actor, project, environment, key and time range, with cursors too', async () => {
    const org = await newOrg('Filtered');
    const dev = await registerUser(ctx.api, 'filter-dev');
    await addMember(ctx.api, org, owner, dev, 'developer');
    const a = await createProject(ctx.api, owner, org);
    const b = await createProject(ctx.api, owner, org);
    const start = new Date().toISOString();
    await seedSecrets(ctx.api, as(), org, a, 'development', { ONE: '1', TWO: '2' });
    await ctx.api.put(secretsPath(org, a, 'staging'), { key: 'ONE', value: 'x' }, { session: dev.session });
    await ctx.api.put(secretsPath(org, b, 'development'), { key: 'OTHER', value: 'y' }, as());
    const middle = new Date().toISOString();
    await ctx.api.get(`${secretsPath(org, b, 'development')}?keys=OTHER`, as());
    const events = async (query: string) => (await get(`/v1/audit/${org.id}?limit=500&${query}`)).events as Array<Record<string, any>>;

    expect((await events('action=secret.bulk_set')).map((e) => e.action)).toEqual(['secret.bulk_set']);
    const byDev = await events(`actor=${dev.id}`);
    expect(byDev.every((e) => e.actorUserId === dev.id)).toBe(true);
    expect(byDev.filter((e) => e.action.startsWith('secret.')).map((e) => [e.action, e.metadata.key])).toEqual([['secret.created', 'ONE']]);
    const ofA = await events(`projectId=${a.id}`);
    expect(ofA.every((e) => e.metadata.projectId === a.id)).toBe(true);
    const secretsOfA = ofA.filter((e) => e.action.startsWith('secret.'));
    expect(secretsOfA.map((e) => e.action)).toEqual(['secret.created', 'secret.bulk_set']);
    const envId = secretsOfA[0].metadata.environmentId;
    expect((await events(`environmentId=${envId}`)).map((e) => e.action)).toEqual(['secret.created']);
    // A key matches single-key events and the keys of bulk changes and named pulls.
    expect((await events('key=ONE')).map((e) => e.action)).toEqual(['secret.created', 'secret.bulk_set']);
    expect((await events('key=OTHER')).map((e) => e.action)).toEqual(['secret.read', 'secret.created']);
    expect((await events(`from=${start}&to=${middle}`)).map((e) => e.action)).toEqual(['secret.created', 'secret.created', 'secret.bulk_set']);
    expect((await events(`from=${middle}`)).map((e) => e.action)).toEqual(['secret.read']);
    expect(await events(`to=${start}&action=secret.read`)).toEqual([]);

    const page1 = await get(`/v1/audit/${org.id}?limit=1&key=ONE`);
    const page2 = await get(`/v1/audit/${org.id}?limit=1&key=ONE&before=${page1.cursors.before}`);
    expect([page1.events[0].action, page2.events[0].action]).toEqual(['secret.created', 'secret.bulk_set']);
    expect(page2.cursors.before).toBeNull();
    for (const bad of ['actor=nope', 'projectId=1', 'key=not-a-key', 'from=yesterday', 'to=2026-13-01T00:00:00Z']) {
      expect((await ctx.api.get(`/v1/audit/${org.id}?${bad}`, as())).status).toBe(400);
    }
  });

  describe('tamper evidence', () => {
    /** An org with `n` chained rows (after its own `org.created`) and a signed checkpoint at its head. */
    async function chained(name: string, n = 40): Promise<TestOrg & { head: number }> {
      const org = await newOrg(name);
      await seed(org, n);
      await chain().checkpointAll();
      return { ...org, head: (await positions(org)).length };
    }
    const rowAt = async (org: TestOrg, seq: number) =>
      (await ctx.db.query<{ id: string }>('SELECT id::text FROM audit_events WHERE org_id = $1 AND chain_seq = $2', [org.id, seq])).rows[0].id;

    it.concurrent('verifies an untouched chain and its signed checkpoints', async () => {
      const org = await chained('Intact');
      const result = await verify(org);
      expect(result).toMatchObject({ valid: true, fromSeq: '1', firstProblem: null });
      expect(result.checked).toBe((await positions(org)).length);
      expect(result.checkpoints).toBeGreaterThan(0);
      const developer = await registerUser(ctx.api, 'verify-dev');
      await addMember(ctx.api, org, owner, developer, 'developer');
      expect((await ctx.api.get(`/v1/audit/${org.id}/verify`, { session: developer.session })).status).toBe(403);
    });

    it.concurrent('names the first row changed in SQL', async () => {
      const org = await chained('Edited');
      const id = await rowAt(org, 17);
      await ctx.db.query(`UPDATE audit_events SET metadata = '{"n": 999}' WHERE id = $1`, [id]);
      await ctx.db.query(`UPDATE audit_events SET ip = '10.0.0.1' WHERE org_id = $1 AND chain_seq = 30`, [org.id]);
      expect((await verify(org)).firstProblem).toMatchObject({ problem: 'changed', seq: '17', eventId: id });
    });

    it.concurrent('names the first row deleted in SQL', async () => {
      const org = await chained('Deleted');
      await ctx.db.query('DELETE FROM audit_events WHERE org_id = $1 AND chain_seq IN (9, 25)', [org.id]);
      expect((await verify(org)).firstProblem).toMatchObject({ problem: 'removed', seq: '9', eventId: null });
    });

    it.concurrent('finds rows deleted from the end, against the signed checkpoint', async () => {
      const org = await chained('Truncated');
      await ctx.db.query('DELETE FROM audit_events WHERE org_id = $1 AND chain_seq > 35', [org.id]);
      await ctx.db.query(
        `UPDATE audit_chain_heads h SET seq = 35, hash = a.hash FROM audit_events a WHERE h.org_id = $1 AND a.org_id = $1 AND a.chain_seq = 35`,
        [org.id],
      );
      expect((await verify(org)).firstProblem).toMatchObject({ problem: 'removed', seq: '36' });
    });

    it.concurrent('names the first of two rows swapped in SQL', async () => {
      const org = await chained('Swapped');
      const [id12, id13] = [await rowAt(org, 12), await rowAt(org, 13)];
      await ctx.db.query(`UPDATE audit_events SET chain_seq = CASE chain_seq WHEN 12 THEN -13 ELSE -12 END WHERE org_id = $1 AND chain_seq IN (12, 13)`, [
        org.id,
      ]);
      await ctx.db.query('UPDATE audit_events SET chain_seq = -chain_seq WHERE org_id = $1 AND chain_seq < 0', [org.id]);
      expect(await rowAt(org, 12)).toBe(id13);
      expect((await verify(org)).firstProblem).toMatchObject({ problem: 'reordered', seq: '12', eventId: id13 });
      expect(id12).not.toBe(id13);
    });

    it.concurrent('finds a chain recomputed after an edit, against the signed checkpoint', async () => {
      const org = await chained('Rewritten');
      // Whoever can write the table can recompute every hash after an edit; only the signature stops them.
      await ctx.db.query(`UPDATE audit_events SET metadata = '{"n": -1}' WHERE org_id = $1 AND chain_seq = 5`, [org.id]);
      await ctx.db.query(
        `DO $$ DECLARE r audit_events; prev bytea := '\\x'; BEGIN
           FOR r IN SELECT * FROM audit_events WHERE org_id = '${org.id}' ORDER BY chain_seq LOOP
             prev := sha256(prev || convert_to(audit_event_content(r), 'UTF8'));
             UPDATE audit_events SET hash = prev WHERE id = r.id;
           END LOOP;
           UPDATE audit_chain_heads SET hash = prev WHERE org_id = '${org.id}';
         END $$`,
      );
      const result = await verify(org);
      expect(result.firstProblem).toMatchObject({ problem: 'checkpoint_mismatch', seq: String(org.head) });
      expect(result.valid).toBe(false);
    });

    it.concurrent('finds a forged checkpoint', async () => {
      const org = await chained('Forged');
      await seed(org, 5);
      await ctx.db.query(
        `INSERT INTO audit_checkpoints (org_id, chain_seq, hash, kind, key_id, mac)
         SELECT org_id, chain_seq, hash, 'retention', 1, sha256('forged'::bytea) FROM audit_events WHERE org_id = $1 AND chain_seq = $2`,
        [org.id, org.head + 3],
      );
      const result = await verify(org);
      expect(result.firstProblem).toMatchObject({ problem: 'checkpoint_forged', seq: String(org.head + 3) });
      await ctx.db.query(`UPDATE audit_checkpoints SET mac = sha256('also forged'::bytea) WHERE org_id = $1 AND chain_seq = $2`, [org.id, org.head]);
      expect((await verify(org)).firstProblem).toMatchObject({ problem: 'checkpoint_forged', seq: String(org.head) });
    });

    it.concurrent('checks a time range from the checkpoint before it', async () => {
      const org = await chained('Ranged', 20);
      const from = new Date().toISOString();
      await seed(org, 10);
      await ctx.db.query(`UPDATE audit_events SET action = 'x.y' WHERE org_id = $1 AND chain_seq = $2`, [org.id, org.head + 5]);
      const result = await verify(org, `?from=${from}`);
      expect(result).toMatchObject({
        fromSeq: String(org.head + 1),
        toSeq: String(org.head + 10),
        firstProblem: { problem: 'changed', seq: String(org.head + 5) },
      });
    });
  });

  it.concurrent('keeps one valid chain when two instances write the same org at once', async () => {
    const org = await newOrg('Two instances');
    const project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, as(), org, project, 'development', { SHARED: 'v' });
    const second = await ctx.startInstance();
    const { token } = await createToken(ctx.api, owner, { access: 'read_write', orgId: org.id });
    const path = secretsPath(org, project, 'development');
    const request = (i: number) => {
      const api = i % 2 ? second.http : ctx.api;
      return i % 5 === 0 ? api.put(path, { key: `K_${i}`, value: 'x' }, { token }) : api.get(path, { token });
    };
    // Six waves of ten at once (five per instance, each a pool of ten): both instances write the org's
    // chain at the same moment in every wave, while no request waits out the pool's bounded wait for a
    // connection behind fifty others on a loaded CI machine (503, seen in full runs).
    const answers = [];
    for (let wave = 0; wave < 6; wave++) answers.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => request(wave * 10 + i)))));
    expect(answers.filter((r) => r.status !== 200 && r.status !== 201).map((r) => ({ status: r.status, body: r.body }))).toEqual([]);
    await chain().checkpointAll();
    const rows = await positions(org);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    expect(await verify(org)).toMatchObject({ valid: true, checked: rows.length });
  });

  it.concurrent('links the rows of several orgs inserted by one statement in any order, as one chain per org', async () => {
    const [a, b] = [await newOrg('Interleaved A'), await newOrg('Interleaved B')];
    await ctx.db.query(
      `INSERT INTO audit_events (action, org_id, metadata)
       SELECT 'test.mixed', CASE WHEN g % 3 = 0 THEN $2::uuid ELSE $1::uuid END, jsonb_build_object('n', g) FROM generate_series(1, 30) g`,
      [a.id, b.id],
    );
    for (const org of [a, b]) {
      const rows = await positions(org);
      expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
      expect(await verify(org)).toMatchObject({ valid: true, checked: rows.length });
      const head = await ctx.db.query('SELECT seq::int FROM audit_chain_heads WHERE org_id = $1', [org.id]);
      expect(head.rows[0].seq).toBe(rows.length);
    }
  });

  it.concurrent('links a group commit of several orgs (and rows without one) in one call, heads taken in org order', async () => {
    const [a, b] = [await newOrg('Batched A'), await newOrg('Batched B')];
    const row = (orgId: string | null, n: number): AuditValues => ['test.batched', orgId, null, null, null, null, `req-${n}`, JSON.stringify({ n })];
    const rows = Array.from({ length: 24 }, (_, n) => row(n % 5 === 4 ? null : n < 12 ? a.id : b.id, n));
    const repo = ctx.instances[0].app.get(AuditRepository);
    await repo.insertMany(rows);
    await repo.insertMany([...rows].reverse());
    for (const org of [a, b]) {
      const stored = await positions(org);
      expect(stored.map((r) => Number(r.seq))).toEqual(stored.map((_, i) => i + 1));
      expect(await verify(org)).toMatchObject({ valid: true, checked: stored.length });
      const head = await ctx.db.query('SELECT seq::int FROM audit_chain_heads WHERE org_id = $1', [org.id]);
      expect(head.rows[0].seq).toBe(stored.length);
    }
    // Whatever order a call is given, it links the lower org id first (two calls never wait on each other in a
    // cycle), and within an org the rows keep the order they were given.
    const linked = await ctx.db.query<{ org: string; n: number }>(
      `SELECT org_id::text AS org, (metadata->>'n')::int AS n FROM audit_events WHERE org_id IN ($1, $2) AND action = 'test.batched' ORDER BY created_at, chain_seq`,
      [a.id, b.id],
    );
    const [low, high] = [a.id, b.id].sort();
    const given = (org: string) => rows.filter((r) => r[1] === org).map((r) => JSON.parse(r[7]).n as number);
    const expected = [...given(low), ...given(high), ...given(low).reverse(), ...given(high).reverse()];
    expect(linked.rows.map((r) => r.n)).toEqual(expected);
  });

  it.concurrent('hashes the same canonical content as before, whichever way a row is linked', async () => {
    const org = await newOrg('Content');
    const repo = ctx.instances[0].app.get(AuditRepository);
    await repo.insertMany([['test.content', org.id, null, null, '10.0.0.1', 'ua "q"\n\u00e9', 'req-c', JSON.stringify({ quote: 'x', n: 1 })]]);
    await ctx.db.query(
      `INSERT INTO audit_events (action, org_id, ip, user_agent, request_id, metadata) VALUES ('test.content', $1, '10.0.0.1', $2, 'req-c', $3)`,
      [org.id, 'ua "q"\n\u00e9', JSON.stringify({ quote: 'x', n: 1 })],
    );
    const { rows } = await ctx.db.query<{ id: string; micros: string; content: string }>(
      `SELECT id::text, (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros, audit_event_content(a) AS content
         FROM audit_events a WHERE org_id = $1 AND action = 'test.content' ORDER BY chain_seq`,
      [org.id],
    );
    // What the hash covers is pinned: a change to it would leave every stored row unverifiable.
    expect(rows.map((r) => r.content)).toEqual(
      rows.map((r) => `[${r.id}, "${org.id}", ${r.micros}, "test.content", null, null, "10.0.0.1", "ua \\"q\\"\\n\u00e9", "req-c", {"n": 1, "quote": "x"}]`),
    );
    expect(rows).toHaveLength(2);
    expect(await verify(org)).toMatchObject({ valid: true, firstProblem: null });
  });

  it.concurrent('keeps one chain when group commits race multi-row inserts linked by the trigger, in the same org', async () => {
    const org = await newOrg('Raced');
    const repo = ctx.instances[0].app.get(AuditRepository);
    const before = (await positions(org)).length;
    const row = (n: number): AuditValues => ['test.raced', org.id, null, null, null, null, `req-${n}`, JSON.stringify({ n, quote: 'a "b"\n\u00e9' })];
    // The trigger carries the head through its statement and the statement trigger writes it back; a group
    // commit arrives linked and leaves nothing to write back. Either kind may take the head after the other.
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 15; i++) {
      writes.push(repo.insertMany(Array.from({ length: 4 }, (_, k) => row(i * 10 + k))));
      writes.push(
        ctx.db.query(
          `INSERT INTO audit_events (action, org_id, metadata) SELECT 'test.raced', $1, jsonb_build_object('n', $2::int + g) FROM generate_series(0, 2) g`,
          [org.id, i * 10 + 4],
        ),
      );
    }
    await Promise.all(writes);
    const rows = await positions(org);
    expect(rows.length).toBe(before + 15 * 7);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    const head = await ctx.db.query('SELECT seq::int FROM audit_chain_heads WHERE org_id = $1', [org.id]);
    expect(head.rows[0].seq).toBe(rows.length);
    expect(await verify(org)).toMatchObject({ valid: true, checked: rows.length, firstProblem: null });
  });

  it.concurrent('exports NDJSON and CSV, oldest first, every matching row once', async () => {
    const org = await newOrg('Exported');
    await seed(org, 2_500);
    await seed(org, 3, 'test.other');
    await ctx.db.query(`INSERT INTO audit_events (action, org_id, user_agent, metadata) VALUES ('test.quoted', $1, '=cmd|"x", y', '{"k": "a,b"}')`, [org.id]);
    const ndjson = await ctx.api.get(`/v1/audit/${org.id}/export`, as());
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = ndjson.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const stored = await positions(org);
    // The export's own audit row is written before it starts, so it is in the export too.
    expect(lines.map((l) => l.id)).toEqual(stored.map((r) => r.id));
    expect(lines[0]).toMatchObject({ seq: '1', action: 'org.created' });
    expect(lines[1]).toMatchObject({ seq: '2', action: 'test.event', metadata: { n: 1 } });
    expect(lines.at(-1)).toMatchObject({ action: 'audit.exported', actorEmail: owner.email, metadata: { format: 'ndjson' } });

    const csv = await ctx.api.get(`/v1/audit/${org.id}/export?format=csv&action=test.quoted`, as());
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const [header, row, end] = csv.text.split('\r\n');
    expect(header).toBe('seq,id,createdAt,action,actorUserId,actorEmail,actorTokenId,ip,userAgent,requestId,metadata');
    expect(row).toContain(`"'=cmd|""x"", y"`);
    expect(row).toContain('"{""k"":""a,b""}"');
    expect(end).toBe('');
    expect((await ctx.api.get(`/v1/audit/${org.id}/export?format=xml`, as())).status).toBe(400);
  });

  it.concurrent('indexes each key an audit row names, and the entries follow their row when it moves or goes', async () => {
    const org = await newOrg('Keyed');
    const project = await createProject(ctx.api, owner, org);
    const path = secretsPath(org, project, 'development');
    await seedSecrets(ctx.api, as(), org, project, 'development', { K_A: '1', K_B: '2' });
    await ctx.api.put(path, { key: 'K_A', value: 'x' }, as());
    await ctx.api.get(path, as());
    await ctx.api.get(`${path}?keys=K_B,K_NONE`, as());
    const seqOf = async (action: string) =>
      (
        await ctx.db.query<{ seq: string }>('SELECT chain_seq::text AS seq FROM audit_events WHERE org_id = $1 AND action = $2 ORDER BY chain_seq', [
          org.id,
          action,
        ])
      ).rows.map((r) => r.seq);
    const entries = async () =>
      (
        await ctx.db.query<{ key: string; seq: string }>('SELECT key, chain_seq::text AS seq FROM audit_event_keys WHERE org_id = $1 ORDER BY chain_seq, key', [
          org.id,
        ])
      ).rows;
    const [bulk] = await seqOf('secret.bulk_set');
    const [updated] = await seqOf('secret.updated');
    const [, namedPull] = await seqOf('secret.read');
    // A pull that names no key adds no entry; a named pull's entries are the keys it read.
    expect(await entries()).toEqual([
      { key: 'K_A', seq: bulk },
      { key: 'K_B', seq: bulk },
      { key: 'K_A', seq: updated },
      { key: 'K_B', seq: namedPull },
    ]);
    const keyed = async (key: string) => ((await get(`/v1/audit/${org.id}?key=${key}`)).events as Array<{ action: string }>).map((e) => e.action);
    expect(await keyed('K_B')).toEqual(['secret.read', 'secret.bulk_set']);
    // An offset page's total counts the key's entries (alone) or its rows (with another filter).
    expect((await get(`/v1/audit/${org.id}?limit=1&key=K_A`)).pagination.total).toBe(2);
    expect((await get(`/v1/audit/${org.id}?limit=1&key=K_A&action=secret.updated`)).pagination.total).toBe(1);

    // A row moved (as the swap of the tamper test does) takes its entries along; a deleted row's go with it.
    await ctx.db.query('UPDATE audit_events SET chain_seq = -chain_seq WHERE org_id = $1 AND chain_seq = $2', [org.id, updated]);
    expect((await entries()).filter((e) => e.seq === `-${updated}`)).toEqual([{ key: 'K_A', seq: `-${updated}` }]);
    await ctx.db.query('DELETE FROM audit_events WHERE org_id = $1 AND chain_seq IN ($2, $3)', [org.id, `-${updated}`, bulk]);
    expect(await entries()).toEqual([{ key: 'K_B', seq: namedPull }]);
    expect(await keyed('K_A')).toEqual([]);
    await ctx.db.query('DELETE FROM orgs WHERE id = $1', [org.id]);
    expect(await entries()).toEqual([]);
  });

  it.concurrent('deletes rows past the retention period in batches and what remains still verifies', async () => {
    const org = await newOrg('Retained');
    await seed(org, 120);
    const cutoff = new Date();
    await seed(org, 30, 'test.recent');
    const viewer = await registerUser(ctx.api, 'retention-admin');
    await addMember(ctx.api, org, owner, viewer, 'admin');
    expect((await ctx.api.put(`/v1/audit/${org.id}/retention`, { days: 1 }, { session: viewer.session })).status).toBe(403);
    expect((await ctx.api.put(`/v1/audit/${org.id}/retention`, { days: 0 }, as())).status).toBe(400);
    const set = await ctx.api.put(`/v1/audit/${org.id}/retention`, { days: 1 }, as());
    expect(set.body).toMatchObject({ days: 1, source: 'org' });
    expect(await get(`/v1/audit/${org.id}/retention`)).toMatchObject({ days: 1, source: 'org' });

    // A day after `cutoff`: the 120 seeded rows (and the org's own earlier rows) are past their time.
    const results = await ctx.instances[0].app.get(AuditRetention).runAll(new Date(cutoff.getTime() + 86_400_000));
    const mine = results.find((r) => r.orgId === org.id)!;
    const kept = await positions(org);
    expect(kept[0].seq).toBe(String(Number(mine.upTo) + 1));
    expect(mine.deleted).toBeGreaterThanOrEqual(120);
    const result = await verify(org);
    expect(result).toMatchObject({ valid: true, fromSeq: String(Number(mine.upTo) + 1), checked: kept.length });
    // The total of an unfiltered page comes from the chain's head less what retention deleted.
    expect((await get(`/v1/audit/${org.id}?limit=1`)).pagination.total).toBe(kept.length);

    // Deleting the oldest kept row by hand is still found: the chain restarts only at the signed checkpoint.
    await ctx.db.query('DELETE FROM audit_events WHERE id = $1', [kept[0].id]);
    expect((await verify(org)).firstProblem).toMatchObject({ problem: 'removed', seq: kept[0].seq });
    // …and a retention pass refuses to delete over a broken chain.
    await ctx.db.query(`UPDATE audit_events SET created_at = created_at - interval '3 days' WHERE id = $1`, [kept[1].id]);
    const refused = await ctx.instances[0].app.get(AuditRetention).run(org.id, new Date(cutoff.getTime() - 86_400_000));
    expect(refused).toMatchObject({ deleted: 0 });
    expect(refused.refused).toEqual(expect.any(String));
  });
});
