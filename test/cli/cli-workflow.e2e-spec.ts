import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createOrg, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, type TestProject } from '../factories/vault.js';
import { createCliSandbox, removeCliSandboxes, type CliSandbox } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * The built `secr` binary against the real server, the way a developer uses it (issue 5, point 9):
 * login → init → set → ls → run → promote --dry-run → promote → template validate → logout.
 * The steps share one sandbox and run in order.
 */
describe('secr CLI workflow (built binary, real server)', () => {
  let ctx: TestContext;
  let user: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let cli: CliSandbox;

  beforeAll(async () => {
    ctx = await startTestContext();
    user = await registerUser(ctx.api, 'cli');
    org = await createOrg(ctx.api, user, 'CLI');
    project = await createProject(ctx.api, user, org);
    cli = await createCliSandbox(ctx.api.baseUrl);
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  it('logs in with email and password, storing a secr_cli_ token with mode 0600 and no session', async () => {
    const result = await cli.run(['login', '--email', user.email], { input: `${user.password}\n` });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Logged in to ${ctx.api.baseUrl} as ${user.email}`);

    const file = path.join(cli.configDir, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ apiUrl: ctx.api.baseUrl, email: user.email, token: expect.stringMatching(/^secr_cli_/) });

    const tokens = await ctx.api.get('/v1/auth/tokens', { token: stored.token });
    expect(tokens.body.tokens).toEqual([
      expect.objectContaining({ id: stored.tokenId, kind: 'cli', access: 'read_write', name: expect.stringMatching(/^secr CLI on /) }),
    ]);
    // The sign-in session used to mint the token was ended at once.
    const sessions = await ctx.db.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [user.id]);
    expect(sessions.rows[0].n).toBe(1); // the factory's registration session only
  });

  it('says who is logged in', async () => {
    const result = await cli.run(['whoami']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(user.email);
    expect(result.stdout).toMatch(new RegExp(`${org.slug}\\s+.*owner`));
  });

  it('links the directory with init, writing no secret into .secr.json', async () => {
    const result = await cli.run(['init', '--org', org.slug, '--project', project.slug, '--env', 'dev']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Linked ${cli.workDir} to ${org.slug}/${project.slug} (default environment: development)`);
    expect(JSON.parse(readFileSync(path.join(cli.workDir, '.secr.json'), 'utf8'))).toEqual({
      org: org.slug,
      project: project.slug,
      environment: 'development',
    });
  });

  it('sets one secret with a description, then several in one bulk write', async () => {
    const one = await cli.run(['set', 'DATABASE_URL=postgres://app:s3cret@db:5432/app', '--description', 'Primary database']);
    expect(one.code).toBe(0);
    expect(one.stdout.trim()).toBe(`Created DATABASE_URL in ${project.slug}/development (version 1)`);

    const bulk = await cli.run(['set', 'API_KEY=sk-live-1', 'REDIS_URL=redis://cache:6379']);
    expect(bulk.code).toBe(0);
    expect(bulk.stdout.trim()).toBe(`Set 2 secrets in ${project.slug}/development: 2 created, 0 updated`);
  });

  it('lists keys with version, update time and description, and no values', async () => {
    const result = await cli.run(['ls']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${project.slug}/development — 3 secrets`);
    expect(lines[1]).toMatch(/^KEY\s+VERSION\s+UPDATED\s+DESCRIPTION$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/)[0])).toEqual(['API_KEY', 'DATABASE_URL', 'REDIS_URL']);
    expect(lines[3]).toMatch(/^DATABASE_URL\s+v1\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+Primary database$/);
    expect(result.stdout).not.toContain('s3cret');
    expect(result.stdout).not.toContain('sk-live-1');
  });

  it('runs a child with the secrets in its environment', async () => {
    const result = await cli.run(['run', '--', process.execPath, '-e', 'console.log("DB=" + process.env.DATABASE_URL)']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('DB=postgres://app:s3cret@db:5432/app\n');
  });

  it('previews a promotion with --dry-run and changes nothing', async () => {
    const result = await cli.run(['promote', '--from', 'development', '--to', 'staging', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `Dry run (nothing changed): ${project.slug}: development → staging`,
      '  + API_KEY       create',
      '  + DATABASE_URL  create',
      '  + REDIS_URL     create',
      'Would promote 3: 3 created, 0 updated, 0 skipped',
    ]);
    const staging = await ctx.api.get(`/v1/secrets/${org.slug}/${project.slug}/staging/keys`, { session: user.session });
    expect(staging.body.keys).toEqual([]);
  });

  it('promotes, then skips what the target already has', async () => {
    const first = await cli.run(['promote', '--from', 'development', '--to', 'staging']);
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n').at(-1)).toBe('Promoted 3: 3 created, 0 updated, 0 skipped');

    await ctx.api.put(`/v1/secrets/${org.slug}/${project.slug}/development`, { key: 'API_KEY', value: 'sk-live-2' }, { session: user.session });
    const again = await cli.run(['promote', '--from', 'development', '--to', 'staging', '--keys', 'API_KEY,REDIS_URL']);
    expect(again.stdout.trim().split('\n')).toEqual([
      `${project.slug}: development → staging`,
      '  = API_KEY    skipped (different value in target; --overwrite replaces it)',
      '  = REDIS_URL  skipped (identical)',
      'Promoted 0: 0 created, 0 updated, 2 skipped',
    ]);
    const overwrite = await cli.run(['promote', '--from', 'development', '--to', 'staging', '--keys', 'API_KEY', '--overwrite', '--json']);
    expect(overwrite.json).toMatchObject({
      promoted: 1,
      created: 0,
      updated: 1,
      skipped: 0,
      dryRun: false,
      results: [{ key: 'API_KEY', action: 'updated', difference: 'changed' }],
    });
  });

  it('validates an environment against the template, failing (exit 1) while a required key is missing', async () => {
    expect((await cli.run(['template', 'add', 'DATABASE_URL', '--description', 'Primary database'])).code).toBe(0);
    const optional = await cli.run(['template', 'add', 'SENTRY_DSN', '--description', 'Errors', '--optional', '--json']);
    expect(optional.json).toMatchObject({ key: 'SENTRY_DSN', description: 'Errors', required: false });
    expect((await cli.run(['template', 'add', 'STRIPE_KEY'])).code).toBe(0);

    const missing = await cli.run(['template', 'validate', '--env', 'staging']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`${project.slug}/staging is missing 1 required key: STRIPE_KEY`);
    expect(missing.stdout).toContain('Not in the template: API_KEY, REDIS_URL');

    await ctx.api.put(`/v1/secrets/${org.slug}/${project.slug}/staging`, { key: 'STRIPE_KEY', value: 'sk' }, { session: user.session });
    const ok = await cli.run(['template', 'validate', '--env', 'staging', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json).toEqual({ org: org.slug, project: project.slug, env: 'staging', valid: true, missing: [], extra: ['API_KEY', 'REDIS_URL'] });
  });

  it('logs out: revokes the token and deletes the credentials file', async () => {
    const file = path.join(cli.configDir, 'credentials.json');
    const { token } = JSON.parse(readFileSync(file, 'utf8'));
    const result = await cli.run(['logout']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Logged out (token revoked)');
    expect(() => statSync(file)).toThrow();
    expect((await ctx.api.get('/v1/auth/me', { token })).status).toBe(401);

    const after = await cli.run(['ls']);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('Error: Not logged in');
  });
});
