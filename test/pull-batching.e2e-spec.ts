import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PreparedSql } from '../src/database/prepared-sql.js';
import { createOrg, registerUser, type TestOrg, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { startInProcessTestContext, type InProcessTestContext } from './support/in-process-app.js';

/**
 * Pulls of whole environments that arrive together are read by one statement (SecretsRepository's
 * `secrets-pull-environments`): each pull still answers exactly its own environment, as new as the
 * moment it was made.
 */
describe('whole-environment pulls read together', () => {
  let ctx: InProcessTestContext;
  let owner: TestUser;
  let org: TestOrg;
  const projects: TestProject[] = [];
  /** What each project's development environment holds: keys and values of its own. */
  const expected = new Map<string, Record<string, string>>();
  /** Each project's development environment id, by project slug. */
  const environmentIds = new Map<string, string>();

  beforeAll(async () => {
    ctx = await startInProcessTestContext();
    owner = await registerUser(ctx.api, 'pullbatch');
    org = await createOrg(ctx.api, owner, 'Pull batch');
    for (let p = 0; p < 3; p++) {
      const project = await createProject(ctx.api, owner, org);
      const values = Object.fromEntries(Array.from({ length: 3 + p }, (_, i) => [`P${p}_KEY_${i}`, `value ${p}.${i} of ${project.slug}`]));
      await seedSecrets(ctx.api, as(), org, project, 'development', values);
      projects.push(project);
      expected.set(project.slug, values);
    }
    // An environment with no secret: a pull of it answers an empty list, whatever else is read beside it.
    projects.push(await createProject(ctx.api, owner, org));
    expected.set(projects[3].slug, {});
    // A first pull of an environment reads its version with its rows (SecretsService.pullRows); later ones are the batched kind.
    for (const project of projects) await pull(project);
    const { rows } = await ctx.db.query(
      `SELECT p.slug, e.id FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.id = ANY($1::uuid[]) AND e.slug = 'development'`,
      [projects.map((p) => p.id)],
    );
    for (const row of rows) environmentIds.set(row.slug, row.id);
  });
  afterAll(() => ctx.close());

  const as = () => ({ session: owner.session });

  async function pull(project: TestProject): Promise<Record<string, string>> {
    const res = await ctx.api.get(secretsPath(org, project, 'development'), as());
    expect(res.status).toBe(200);
    return Object.fromEntries(res.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]));
  }

  /** The parameters of each execution of each prepared statement of the instance while `work` runs (the statements still run). */
  async function watchingStatements(work: () => Promise<unknown>): Promise<Map<string, unknown[][]>> {
    const sql = ctx.instances[0].app.get(PreparedSql);
    const executions = new Map<string, unknown[][]>();
    const query = sql.query.bind(sql);
    sql.query = ((name: string, text: string, values: unknown[]) => {
      executions.set(name, [...(executions.get(name) ?? []), values]);
      return query(name, text, values);
    }) as typeof sql.query;
    try {
      await work();
    } finally {
      sql.query = query;
    }
    return executions;
  }

  it('concurrent pulls of different environments each answer exactly their own environment’s secrets, read together', async () => {
    const order = Array.from({ length: 48 }, (_, i) => projects[i % projects.length]);
    let answers: Array<Record<string, string>> = [];
    const executions = await watchingStatements(async () => (answers = await Promise.all(order.map((project) => pull(project)))));
    answers.forEach((answer, i) => expect(answer).toEqual(expected.get(order[i].slug)));
    // The pulls went through the shared statement, some of its executions with several environments
    // (the empty one among them).
    const read = (executions.get('secrets-pull-environments') ?? []).map(([ids]) => ids as string[]);
    expect(new Set(read.flat())).toEqual(new Set(environmentIds.values()));
    expect(Math.max(...read.map((ids) => ids.length))).toBeGreaterThan(1);
  });

  it('concurrent pulls share statements: fewer executions than pulls, each environment read once per execution', async () => {
    const pulls = 40;
    const executions = await watchingStatements(() => Promise.all(Array.from({ length: pulls }, (_, i) => pull(projects[i % 3]))));
    const read = (executions.get('secrets-pull-environments') ?? []).map(([ids]) => ids as string[]);
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThan(pulls);
    for (const ids of read) expect(new Set(ids).size).toBe(ids.length);
    // No pull read its environment on its own (each environment's version was known: no versioned read either).
    expect(executions.get('secrets-pull-versioned') ?? []).toHaveLength(0);
    expect(executions.get('secrets-pull') ?? []).toHaveLength(0);
  });

  it('a pull made after a write answers the written value while other pulls of the environment are in flight', async () => {
    const [project] = projects;
    let writing = true;
    // Pulls of the same environment running all along, so that later pulls meet batches in flight.
    const background = (async () => {
      while (writing) await Promise.all(Array.from({ length: 4 }, () => pull(project)));
    })();
    try {
      for (let round = 0; round < 8; round++) {
        const value = `written in round ${round}`;
        await seedSecrets(ctx.api, as(), org, project, 'development', { P0_KEY_0: value });
        const seen = await Promise.all(Array.from({ length: 6 }, () => pull(project)));
        for (const answer of seen) expect(answer.P0_KEY_0).toBe(value);
      }
    } finally {
      writing = false;
      await background;
    }
    await seedSecrets(ctx.api, as(), org, project, 'development', { P0_KEY_0: expected.get(project.slug)!.P0_KEY_0 });
  });
});
