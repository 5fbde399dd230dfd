import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { seedSecrets } from '../factories/vault.js';
import { createLinkedCli, removeCliSandboxes, type CliResult, type LinkedCli } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/** Issue 19 with the built `secr` binary: diff, no-op and check-and-set writes, promote --dry-run. */
describe('secr diff, check-and-set and no-op writes (built binary, real server)', () => {
  let ctx: TestContext;
  let linked: LinkedCli;
  let secr: (args: string[], input?: string) => Promise<CliResult>;

  beforeAll(async () => {
    ctx = await startTestContext();
    linked = await createLinkedCli(ctx.api, 'differ', 'Diff');
    secr = (args, input) => linked.cli.run(args, { env: { SECR_TOKEN: linked.token }, input });
    const as = { token: linked.token };
    await seedSecrets(ctx.api, as, linked.org, linked.project, 'staging', { SAME: 'same-value', CHANGED: 'staging-secret', ONLY_STAGING: 's' });
    await seedSecrets(ctx.api, as, linked.org, linked.project, 'production', { SAME: 'same-value', CHANGED: 'production-secret', ONLY_PROD: 'p' });
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  it('secr diff lists each key without values and exits 1 when the environments differ, 0 when they match', async () => {
    const differ = await secr(['diff', '--from', 'stg', '--to', 'prod']);
    expect(differ.stderr).toBe('');
    expect(differ.code).toBe(1);
    expect(differ.stdout.trim().split('\n')).toEqual([
      `${linked.project.slug}: staging → production`,
      'KEY             STATUS',
      '~ CHANGED       changed',
      '- ONLY_PROD     only in target',
      '+ ONLY_STAGING  only in source',
      '= SAME          identical',
      'Differ: 1 only in staging, 1 only in production, 1 changed, 1 identical',
    ]);
    expect(differ.stdout).not.toContain('secret');

    const same = await secr(['diff', '--from', 'staging', '--to', 'production', '--keys', 'SAME', '--json']);
    expect(same.code).toBe(0);
    expect(same.json).toMatchObject({ differ: false, keys: [{ key: 'SAME', status: 'identical' }] });
  });

  it('secr diff --show-values --json prints both values, and a refusal exits 4', async () => {
    const res = await secr(['diff', '--from', 'staging', '--to', 'production', '--keys', 'CHANGED', '--show-values', '--json']);
    expect(res.code).toBe(1);
    expect(res.json.keys).toEqual([
      { key: 'CHANGED', status: 'changed', sourceVersion: 1, targetVersion: 1, sourceValue: 'staging-secret', targetValue: 'production-secret' },
    ]);
    const unknown = await secr(['diff', '--from', 'staging', '--to', 'qa']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("'qa'");
  });

  it('secr promote --dry-run shows create, overwrite (different value) and skip (identical) per key', async () => {
    const res = await secr(['promote', '--from', 'staging', '--to', 'production', '--overwrite', '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split('\n')).toEqual([
      `Dry run (nothing changed): ${linked.project.slug}: staging → production`,
      '  ~ CHANGED       overwrite (different value)',
      '  + ONLY_STAGING  create',
      '  = SAME          skip (identical)',
      'Would promote 2: 1 created, 1 updated, 1 skipped',
    ]);
  });

  it('secr set says Unchanged for the current value, and --if-version refuses a stale version with exit 6', async () => {
    const first = await secr(['set', 'CAS_KEY=one']);
    expect(first.stdout.trim()).toBe(`Created CAS_KEY in ${linked.project.slug}/development (version 1)`);
    const again = await secr(['set', 'CAS_KEY=one', '--json']);
    expect(again.json).toMatchObject({ created: 0, updated: 0, unchanged: 1, secrets: [{ key: 'CAS_KEY', version: 1, unchanged: true }] });

    const stale = await secr(['set', 'CAS_KEY=two', '--if-version', '0']);
    expect(stale.code).toBe(6);
    expect(stale.stderr).toContain("Secret 'CAS_KEY' is at version 1, not 0");
    const ok = await secr(['set', 'CAS_KEY=two', '--if-version', '1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(`Updated CAS_KEY in ${linked.project.slug}/development (version 2)`);
    expect((await secr(['set', 'A=1', 'B=2', '--if-version', '1'])).code).toBe(2);
  });

  it('secr restore --dry-run prints the plan, then restores; --json answers the result', async () => {
    await secr(['set', 'R_KEEP=1', 'R_CHANGE=old', '--env', 'development']);
    const { rows } = await ctx.db.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`);
    const at: string = rows[0].t;
    await secr(['set', 'R_CHANGE=new']);
    await secr(['set', 'R_NEW=x']);

    const plan = await secr(['restore', '--env', 'dev', '--to', at, '--keys', 'R_KEEP,R_CHANGE,R_NEW', '--dry-run']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout.trim().split('\n')).toEqual([
      `Dry run (nothing changed): ${linked.project.slug}/development as of ${new Date(at).toISOString()}`,
      '  ~ R_CHANGE  restore the old value (version 1)',
      '  = R_KEEP    unchanged',
      '  - R_NEW     delete (created since)',
      'Would restore: 1 changed back, 0 brought back, 1 deleted, 1 unchanged',
    ]);
    const done = await secr(['restore', '--to', at, '--keys', 'R_KEEP,R_CHANGE,R_NEW', '--json']);
    expect(done.code).toBe(0);
    expect(done.json).toMatchObject({
      dryRun: false,
      restored: 1,
      deleted: 1,
      unchanged: 1,
      results: expect.arrayContaining([{ key: 'R_CHANGE', action: 'restored', fromVersion: 1, version: 3 }]),
    });
    expect((await secr(['get', 'R_CHANGE', '--plain'])).stdout).toBe('old\n');
    const bad = await secr(['restore', '--to', 'last tuesday']);
    expect(bad.code).toBe(2);
  });

  it('secr import of the same file twice is idempotent, and --if-env-version refuses when a key changed since', async () => {
    writeFileSync(path.join(linked.cli.workDir, '.env.sync'), 'SYNC_A=1\nSYNC_B=2\n');
    const first = await secr(['import', '.env.sync', '--env', 'staging', '--json']);
    expect(first.json).toMatchObject({ created: 2, updated: 0, unchanged: 0, total: 2 });
    const second = await secr(['import', '.env.sync', '--env', 'staging']);
    expect(second.stdout.trim()).toBe(`Imported 2 secrets from .env.sync into ${linked.project.slug}/staging: 0 created, 0 updated, 2 unchanged`);

    const { environmentVersion } = (await secr(['ls', '--env', 'staging', '--json'])).json;
    expect(environmentVersion).toBe(first.json.environmentVersion);
    await secr(['set', 'SYNC_B=changed-elsewhere', '--env', 'staging']);
    const refused = await secr(['import', '.env.sync', '--env', 'staging', '--if-env-version', String(environmentVersion), '--json']);
    expect(refused.code).toBe(6);
    expect(refused.json.error).toMatchObject({ code: 'conflict', statusCode: 409 });
    expect(refused.json.error.message).toContain('SYNC_B');
  });
});
