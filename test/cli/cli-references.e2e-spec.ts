import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { seedSecrets } from '../factories/vault.js';
import { createLinkedCli, removeCliSandboxes, type CliResult, type LinkedCli } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/** Issue 19, point 3, with the built `secr` binary: references resolved by the server, `--raw` for the stored text. */
describe('secr and secret references (built binary, real server)', () => {
  let ctx: TestContext;
  let linked: LinkedCli;
  let secr: (args: string[]) => Promise<CliResult>;

  beforeAll(async () => {
    ctx = await startTestContext();
    linked = await createLinkedCli(ctx.api, 'referrer', 'Refs');
    secr = (args) => linked.cli.run(args, { env: { SECR_TOKEN: linked.token } });
    const as = { token: linked.token };
    await seedSecrets(ctx.api, as, linked.org, linked.project, 'staging', { DB_HOST: 'db.staging', BROKEN: 'x${NOPE}' });
    await seedSecrets(ctx.api, as, linked.org, linked.project, 'development', { USER: 'app', DB_URL: 'pg://${USER}@${stg.DB_HOST}/x', LITERAL: '$${USER}' });
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  it.concurrent('secr get prints the resolved value, and with --raw the stored text (--json too)', async () => {
    const resolved = await secr(['get', 'DB_URL', '--plain']);
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toBe('pg://app@db.staging/x\n');
    const raw = await secr(['get', 'DB_URL', 'LITERAL', '--raw', '--json']);
    expect(raw.json.map((s: { key: string; value: string }) => [s.key, s.value])).toEqual([
      ['DB_URL', 'pg://${USER}@${stg.DB_HOST}/x'],
      ['LITERAL', '$${USER}'],
    ]);
  });

  it.concurrent('secr export resolves references, and --raw exports the stored text', async () => {
    const resolved = await secr(['export', '--json']);
    expect(resolved.json).toEqual({ DB_URL: 'pg://app@db.staging/x', LITERAL: '${USER}', USER: 'app' });
    const raw = await secr(['export', '--format', 'dotenv', '--raw']);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toContain("DB_URL='pg://${USER}@${stg.DB_HOST}/x'");
  });

  it.concurrent('secr run injects resolved values, and --raw the stored text (the fast path and oclif alike)', async () => {
    const print = ['node', '-e', 'process.stdout.write(process.env.DB_URL)'];
    const resolved = await secr(['run', '--', ...print]);
    expect(resolved.stdout).toBe('pg://app@db.staging/x');
    const raw = await secr(['run', '--raw', '--', ...print]);
    expect(raw.stdout).toBe('pg://${USER}@${stg.DB_HOST}/x');
    // --json goes through oclif rather than the fast path.
    const viaOclif = await secr(['run', '--raw', '--json', '--', ...print]);
    expect(viaOclif.stdout).toContain('pg://${USER}@${stg.DB_HOST}/x');
    const refused = await secr(['run', '--raw', '--fallback', '--', ...print]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--raw does not go with --fallback');
  });

  it.concurrent('a reference to a missing key exits 6 naming the chain; --raw still reads it', async () => {
    const res = await secr(['get', 'BROKEN', '--env', 'staging']);
    expect(res.code).toBe(6);
    expect(res.stderr).toContain('BROKEN -> ${NOPE}: staging has no secret NOPE');
    const raw = await secr(['get', 'BROKEN', '--env', 'staging', '--raw', '--plain']);
    expect(raw.stdout).toBe('x${NOPE}\n');
  });

  it.concurrent('secr ls --show-values --raw shows the stored text', async () => {
    const res = await secr(['ls', '--show-values', '--raw', '--json']);
    expect(res.json.secrets.find((s: { key: string }) => s.key === 'DB_URL').value).toBe('pg://${USER}@${stg.DB_HOST}/x');
    const alone = await secr(['ls', '--raw']);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toContain('--raw goes with --show-values');
  });
});
