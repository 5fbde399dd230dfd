import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import path from 'node:path';
import TemplateAdd from '../../cli/src/commands/template/add.js';
import TemplateList from '../../cli/src/commands/template/list.js';
import TemplateRemove from '../../cli/src/commands/template/remove.js';
import type { TestOrg } from '../factories/accounts.js';
import type { TestProject } from '../factories/vault.js';
import { createLinkedCli, removeCliSandboxes, type CliSandbox } from '../support/cli.js';
import { runCommand } from '../support/cli-in-process.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

/**
 * README (CLI) claims that had no test: `template list` and `template remove` ("every command" is
 * covered), `secr run` starts its command with no shell, and the exit codes 6 (conflict) and 8 (plan
 * limit) as the built binary sets them.
 */
describe('secr CLI claims (real server)', () => {
  let ctx: TestContext;
  let org: TestOrg;
  let project: TestProject;
  let token: string;
  let cli: CliSandbox;

  beforeAll(async () => {
    ctx = await startTestContext();
    ({ org, project, token, cli } = await createLinkedCli(ctx.api, 'claims', 'Claims'));
    cli.env.SECR_TOKEN = token;
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  const inProcess = { cwd: '', env: {} as Record<string, string | undefined> };
  beforeAll(() => {
    inProcess.cwd = cli.workDir;
    inProcess.env = {
      HOME: cli.home,
      XDG_CONFIG_HOME: cli.env.XDG_CONFIG_HOME,
      SECR_CONFIG_DIR: cli.configDir,
      SECR_API_URL: cli.env.SECR_API_URL,
      SECR_TOKEN: token,
    };
  });

  it('template list shows the keys with required/optional and description; template remove takes one out', async () => {
    expect((await runCommand(TemplateAdd, ['DATABASE_URL', '--description', 'Primary database'], inProcess)).code).toBe(0);
    expect((await runCommand(TemplateAdd, ['SENTRY_DSN', '--optional'], inProcess)).code).toBe(0);

    const listed = await runCommand(TemplateList, [], inProcess);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${project.slug} template — 2 keys`);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/))).toEqual([
      ['DATABASE_URL', 'yes', 'Primary database'],
      ['SENTRY_DSN', 'optional'],
    ]);

    const removed = await runCommand(TemplateRemove, ['SENTRY_DSN', '--json'], inProcess);
    expect(removed.code).toBe(0);
    expect(removed.json).toEqual({ org: org.slug, project: project.slug, key: 'SENTRY_DSN', removed: true });
    const after = await runCommand(TemplateList, ['--json'], inProcess);
    expect(after.json.templates.map((t: { key: string; required: boolean }) => [t.key, t.required])).toEqual([['DATABASE_URL', true]]);
    const { rows } = await ctx.db.query('SELECT key FROM templates WHERE project_id = $1', [project.id]);
    expect(rows).toEqual([{ key: 'DATABASE_URL' }]);

    const missing = await runCommand(TemplateRemove, ['SENTRY_DSN'], inProcess);
    expect(missing.code).toBe(5);
  });

  it('secr run starts the command without a shell: metacharacters in its arguments reach it literally, and a command line is not a command', async () => {
    const args = ['$HOME', '*', '$(touch expanded)', '`touch backticked`', 'a;touch semicolon', '>redirected'];
    const literal = await cli.run(['run', '--', 'printf', '%s\\n', ...args]);
    expect(literal.code).toBe(0);
    expect(literal.stdout.split('\n').slice(0, -1)).toEqual(args);

    const line = await cli.run(['run', '--', 'printf ok; touch via-shell']);
    expect(line.code).toBe(127); // no program has that name: nothing interpreted it
    for (const file of ['expanded', 'backticked', 'semicolon', 'redirected', 'via-shell']) expect(existsSync(path.join(cli.workDir, file))).toBe(false);
  });

  it('the built binary exits 6 on a conflict (a project slug already taken) and 8 on a plan limit', async () => {
    const conflict = await cli.run(['projects', 'create', 'Taken', '--slug', project.slug, '--org', org.slug]);
    expect(conflict.code).toBe(6);
    expect(conflict.stderr).toMatch(/\(conflict\)/);

    await ctx.db.query('UPDATE orgs SET limit_overrides = $2 WHERE id = $1', [org.id, JSON.stringify({ projectsPerOrg: 1 })]);
    const limited = await cli.run(['projects', 'create', 'One too many', '--org', org.slug, '--json']);
    expect(limited.code).toBe(8);
    expect(limited.json.error).toMatchObject({ code: 'plan_limit_exceeded', statusCode: 403, exitCode: 8 });
  });
});
