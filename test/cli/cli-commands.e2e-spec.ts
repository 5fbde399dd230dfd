import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import AuditExport from '../../cli/src/commands/audit/export.js';
import Audit from '../../cli/src/commands/audit/index.js';
import AuditVerify from '../../cli/src/commands/audit/verify.js';
import EnvsCreate from '../../cli/src/commands/envs/create.js';
import Envs from '../../cli/src/commands/envs/index.js';
import Export from '../../cli/src/commands/export.js';
import Get from '../../cli/src/commands/get.js';
import History from '../../cli/src/commands/history.js';
import Import from '../../cli/src/commands/import.js';
import Init from '../../cli/src/commands/init.js';
import Login from '../../cli/src/commands/login.js';
import Ls from '../../cli/src/commands/ls.js';
import MembersAccept from '../../cli/src/commands/members/accept.js';
import Members from '../../cli/src/commands/members/index.js';
import MembersInvite from '../../cli/src/commands/members/invite.js';
import MembersRemove from '../../cli/src/commands/members/remove.js';
import MembersRole from '../../cli/src/commands/members/role.js';
import OrgsCreate from '../../cli/src/commands/orgs/create.js';
import OrgsDelete from '../../cli/src/commands/orgs/delete.js';
import Orgs from '../../cli/src/commands/orgs/index.js';
import ProjectsCreate from '../../cli/src/commands/projects/create.js';
import ProjectsDelete from '../../cli/src/commands/projects/delete.js';
import Projects from '../../cli/src/commands/projects/index.js';
import Rm from '../../cli/src/commands/rm.js';
import Rollback from '../../cli/src/commands/rollback.js';
import RotateKey from '../../cli/src/commands/rotate-key.js';
import SetSecrets from '../../cli/src/commands/set.js';
import TokensCreate from '../../cli/src/commands/tokens/create.js';
import Tokens from '../../cli/src/commands/tokens/index.js';
import TokensRevoke from '../../cli/src/commands/tokens/revoke.js';
import Whoami from '../../cli/src/commands/whoami.js';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, seedSecrets, type TestProject } from '../factories/vault.js';
import { answer, collect, createCliSandbox, createLinkedCli, removeCliSandboxes, type CliResult, type CliSandbox } from '../support/cli.js';
import { runCommand, type CommandClass } from '../support/cli-in-process.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

const COMMANDS: Record<string, CommandClass> = {
  audit: Audit,
  'audit export': AuditExport,
  'audit verify': AuditVerify,
  envs: Envs,
  'envs create': EnvsCreate,
  export: Export,
  get: Get,
  history: History,
  import: Import,
  init: Init,
  login: Login,
  ls: Ls,
  members: Members,
  'members accept': MembersAccept,
  'members invite': MembersInvite,
  'members remove': MembersRemove,
  'members role': MembersRole,
  orgs: Orgs,
  'orgs create': OrgsCreate,
  'orgs delete': OrgsDelete,
  projects: Projects,
  'projects create': ProjectsCreate,
  'projects delete': ProjectsDelete,
  rm: Rm,
  rollback: Rollback,
  'rotate-key': RotateKey,
  set: SetSecrets,
  tokens: Tokens,
  'tokens create': TokensCreate,
  'tokens revoke': TokensRevoke,
  whoami: Whoami,
};

/** `secr <args>` in this process: the command class of the longest matching id gets the rest. */
function runSecr(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string }): Promise<CliResult> {
  const twoWords = `${args[0]} ${args[1]}`;
  const [command, rest] = COMMANDS[twoWords] ? [COMMANDS[twoWords], args.slice(2)] : [COMMANDS[args[0]], args.slice(1)];
  if (!command) throw new Error(`no command for ${args.join(' ')}`);
  return runCommand(command, rest, options);
}

/** The variables of a sandbox that the CLI reads (the in-process runs change nothing else). */
const cliEnv = (sandbox: CliSandbox) => ({
  HOME: sandbox.home,
  XDG_CONFIG_HOME: sandbox.env.XDG_CONFIG_HOME,
  SECR_CONFIG_DIR: sandbox.configDir,
  SECR_API_URL: sandbox.env.SECR_API_URL,
  SECR_TOKEN: undefined,
});

/**
 * One test per command (or topic) against the real server, authenticated the CI way (SECR_TOKEN).
 * Commands run in this process (test/support/cli-in-process.ts) except where stdin, a terminal or the
 * built binary is the point; outputs, `--json` results and exit codes are what is asserted.
 * The shared org and project are only read: a test that writes works in an org and project of its own
 * (`ownProject`), so each passes alone (`-t`) and in any order.
 */
describe('secr commands (real server)', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let token: string;
  let cli: CliSandbox;
  /** Runs secr (in-process) as the owner in a directory linked to `project` (development). */
  let secr: (args: string[], options?: { env?: Record<string, string | undefined>; cwd?: string }) => Promise<CliResult>;

  beforeAll(async () => {
    ctx = await startTestContext();
    ({ owner, org, project, token, cli } = await createLinkedCli(ctx.api, 'owner', 'Cmd'));
    secr = (args, options = {}) => runSecr(args, { cwd: options.cwd ?? cli.workDir, env: { ...cliEnv(cli), SECR_TOKEN: token, ...options.env } });
  });

  interface OwnProject {
    org: TestOrg;
    project: TestProject;
    /** Linked (`.secr.json`) to the project's development environment. */
    workDir: string;
    secr: typeof secr;
    /** Runs secr as the built binary, in a process of its own. */
    spawnSecr: (args: string[], options?: { input?: string; env?: Record<string, string | undefined> }) => Promise<CliResult>;
  }
  /** A new org of the owner with one project, and a work dir linked to it: for a test that writes. */
  async function ownProject(orgName: string): Promise<OwnProject> {
    const ownOrg = await createOrg(ctx.api, owner, orgName);
    const ownProj = await createProject(ctx.api, owner, ownOrg);
    const workDir = path.join(cli.home, 'work', ownOrg.slug);
    mkdirSync(workDir, { recursive: true });
    writeFileSync(path.join(workDir, '.secr.json'), JSON.stringify({ org: ownOrg.slug, project: ownProj.slug, environment: 'development' }));
    return {
      org: ownOrg,
      project: ownProj,
      workDir,
      secr: (args, options = {}) => secr(args, { ...options, cwd: options.cwd ?? workDir }),
      spawnSecr: (args, options = {}) => cli.run(args, { ...options, cwd: workDir, env: { SECR_TOKEN: token, ...options.env } }),
    };
  }
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  describe('every command', () => {
    const manifest = JSON.parse(readFileSync('cli/oclif.manifest.json', 'utf8')) as {
      commands: Record<string, { examples?: string[]; flags: Record<string, unknown> }>;
    };

    it('is in the shipped oclif manifest, which the build generated from the command files', () => {
      const files = (dir: string, prefix = ''): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
          entry.isDirectory()
            ? files(path.join(dir, entry.name), `${prefix}${entry.name}:`)
            : [`${prefix}${entry.name.replace(/\.ts$/, '')}`.replace(/:index$/, '')],
        );
      expect(Object.keys(manifest.commands).sort()).toEqual(files('cli/src/commands').sort());
    });

    it('has --json and at least one example in its help', () => {
      for (const [id, command] of Object.entries(manifest.commands)) {
        expect([id, Object.keys(command.flags)]).toEqual([id, expect.arrayContaining(['json', 'api-url'])]);
        expect([id, command.examples?.length ?? 0]).toEqual([id, expect.any(Number)]);
        expect(command.examples!.length).toBeGreaterThan(0);
      }
    });

    it('prints its examples with --help (the binary reading the manifest)', async () => {
      const help = await cli.run(['promote', '--help'], { env: { DEBUG: 'oclif:config:@secr/cli' } });
      expect(help.code).toBe(0);
      expect(help.stderr).toContain(`using manifest from ${path.resolve('cli/oclif.manifest.json')}`);
      expect(help.stdout).toContain('EXAMPLES\n  $ secr promote --from development --to staging');
      expect(help.stdout).toContain('--dry-run');
    });
  });

  describe('errors', () => {
    it('prints the API’s message and code, and maps not_found to exit 5', async () => {
      const result = await secr(['ls', '--project', 'no-such-project']);
      expect(result.code).toBe(5);
      expect(result.stderr.trim()).toBe("Error: Project 'no-such-project' not found (not_found)");
      expect(result.stdout).toBe('');
    });

    it('prints { error } with --json, with the exit code in it', async () => {
      const result = await secr(['get', 'X', '--env', 'qa', '--json']);
      expect(result.code).toBe(5);
      expect(result.json).toEqual({
        error: { message: "Environment 'qa' not found", code: 'not_found', statusCode: 404, exitCode: 5, requestId: expect.any(String) },
      });
    });

    it('maps validation failures to exit 2 and lists the fields', async () => {
      const result = await secr(['set', '1BAD=x']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^Error: .* \(validation_failed\)\n {2}key: /);
    });

    it('maps a rejected token to exit 3 and says how to log in', async () => {
      const result = await secr(['ls'], { env: { SECR_TOKEN: 'secr_tok_not-a-real-token' } });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('(unauthorized)');
      expect(result.stderr).toContain('Run `secr login`, or set SECR_TOKEN');
    });

    it('maps a forbidden write (read-only token) to exit 4', async () => {
      const readOnly = (await createToken(ctx.api, owner, { access: 'read' })).token;
      const result = await secr(['set', 'A=1'], { env: { SECR_TOKEN: readOnly } });
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/^Error: .+ \(forbidden\)$/m);
    });

    it('exits 2 on usage errors: unknown flag, missing project link', async () => {
      expect((await secr(['ls', '--nope'])).code).toBe(2);
      const unlinked = await secr(['ls'], { cwd: cli.home });
      expect(unlinked.code).toBe(2);
      expect(unlinked.stderr).toContain('No project: pass --org and --project, or run `secr init`');
    });
  });

  it('set: reads a value from stdin, keeps the description, and reports created/updated', async () => {
    const { org, project, secr, spawnSecr } = await ownProject('Set');
    const piped = await spawnSecr(['set', 'TLS_CERT', '--description', 'PEM', '--json'], { input: '-----BEGIN-----\nabc\n-----END-----\n' });
    expect(piped.code).toBe(0);
    expect(piped.json).toEqual({
      org: org.slug,
      project: project.slug,
      env: 'development',
      secrets: [{ key: 'TLS_CERT', version: 1, created: true, unchanged: false }],
      created: 1,
      updated: 0,
      unchanged: 0,
    });
    const bulk = await secr(['set', 'A=1', 'B=x=y', 'TLS_CERT=short', '--json']);
    expect(bulk.json).toMatchObject({ secrets: [{ key: 'A' }, { key: 'B' }, { key: 'TLS_CERT' }], created: 2, updated: 1 });

    const pulled = await ctx.api.get(`/v1/secrets/${org.slug}/${project.slug}/development`, { token });
    expect(pulled.body.secrets.map((s: any) => [s.key, s.value, s.description])).toEqual([
      ['A', '1', null],
      ['B', 'x=y', null],
      ['TLS_CERT', 'short', 'PEM'],
    ]);
    const bare = await secr(['set', 'ONE', 'TWO=2']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Argument 1 is not KEY=VALUE');
  });

  it('get: prints KEY=value with details, only the value with --plain, the secret with --json', async () => {
    const { org, project, secr } = await ownProject('Get');
    await seedSecrets(ctx.api, { token }, org, project, 'staging', { GET_ME: 'v a l', GET_ME_NOT: 'no' });
    const human = await secr(['get', 'GET_ME', '--env', 'stg']);
    expect(human.stdout).toMatch(/^GET_ME=v a l\nversion 1, updated \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$/);
    expect((await secr(['get', 'GET_ME', '--env', 'stg', '--plain'])).stdout).toBe('v a l\n');
    expect((await secr(['get', 'GET_ME', '--env', 'stg', '--json'])).json).toMatchObject({ key: 'GET_ME', value: 'v a l', version: 1 });
    const missing = await secr(['get', 'GET', '--env', 'stg']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain(`Secret 'GET' not found in ${project.slug}/staging`);
  });

  it('ls: shows values only with --show-values, and --json is the listed result', async () => {
    const { org, project, workDir, secr } = await ownProject('Ls');
    await seedSecrets(ctx.api, { token }, org, project, 'production', { P1: 'prod-value-1' });
    const hidden = await secr(['ls', '--env', 'prod', '--json']);
    expect(hidden.json).toEqual({
      org: org.slug,
      project: project.slug,
      env: 'production',
      secrets: [{ key: 'P1', version: 1, updatedAt: expect.any(String), description: null }],
      environmentVersion: expect.any(Number),
    });
    // .secr.json is found from a subdirectory too.
    const nested = path.join(workDir, 'src', 'deep');
    mkdirSync(nested, { recursive: true });
    const fromBelow = await secr(['ls', '--env', 'production'], { cwd: nested });
    expect(fromBelow.stdout.split('\n')[0]).toBe(`${project.slug}/production — 1 secret`);
    const shown = await secr(['ls', '--env', 'production', '--show-values']);
    expect(shown.stdout).toMatch(/KEY\s+VERSION\s+UPDATED\s+VALUE\s+DESCRIPTION\nP1\s+v1\s+.+UTC\s+prod-value-1/);
  });

  it('history and rollback: lists versions without values, restores an earlier one as a new version', async () => {
    const { project, secr } = await ownProject('History');
    await secr(['set', 'ROLL=first', '--env', 'stg']);
    await secr(['set', 'ROLL=second', '--env', 'stg']);
    const history = await secr(['history', 'ROLL', '--env', 'stg']);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain('ROLL in');
    expect(history.stdout).toMatch(/v2\s+.+UTC\s+owner-.+@example.com\s+set/);
    expect(history.stdout).not.toContain('first');
    const withValues = await secr(['history', 'ROLL', '--env', 'stg', '--show-values', '--json']);
    expect(withValues.json.versions.map((v: any) => [v.version, v.value])).toEqual([
      [2, 'second'],
      [1, 'first'],
    ]);

    const rollback = await secr(['rollback', 'ROLL', '--version', '1', '--env', 'stg']);
    expect(rollback.stdout.trim()).toBe(`Rolled ROLL back to the value of v1 in ${project.slug}/staging (now v3)`);
    expect((await secr(['get', 'ROLL', '--env', 'stg', '--plain'])).stdout).toBe('first\n');
  });

  it('rm: needs --yes without a terminal, then deletes', async () => {
    const { org, project, secr } = await ownProject('Rm');
    await secr(['set', 'DOOMED=x']);
    const refused = await secr(['rm', 'DOOMED']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    const removed = await secr(['rm', 'DOOMED', '--yes', '--json']);
    expect(removed.json).toEqual({ org: org.slug, project: project.slug, env: 'development', key: 'DOOMED', deleted: true });
    expect((await secr(['get', 'DOOMED'])).code).toBe(5);
  });

  it('import and export: a .env file round-trips through the API in every format', async () => {
    const { org, project, workDir, secr } = await ownProject('Import');
    await seedSecrets(ctx.api, { token }, org, project, 'production', { P1: 'prod-value-1' });
    const dotenv = [
      '# exported from a laptop',
      'export DB_URL=postgres://u:p@h/db   # inline comment',
      "SINGLE='it is $literal'",
      'DOUBLE="tab\\there \\"quoted\\""',
      'MULTI="-----BEGIN KEY-----',
      'abc',
      '-----END KEY-----"',
      'QUOTE="it\'s"',
      '',
    ].join('\n');
    writeFileSync(path.join(workDir, '.env.import'), dotenv);
    const expected = {
      DB_URL: 'postgres://u:p@h/db',
      SINGLE: 'it is $literal',
      DOUBLE: 'tab\there "quoted"',
      MULTI: '-----BEGIN KEY-----\nabc\n-----END KEY-----',
      QUOTE: "it's",
    };
    const dry = await secr(['import', '.env.import', '--env', 'production', '--dry-run']);
    expect(dry.stdout.trim()).toBe(`Would import 5 secrets into ${project.slug}/production: DB_URL, SINGLE, DOUBLE, MULTI, QUOTE`);
    const imported = await secr(['import', '.env.import', '--env', 'production']);
    expect(imported.code).toBe(0);
    expect(imported.stdout.trim()).toBe(`Imported 5 secrets from .env.import into ${project.slug}/production: 5 created, 0 updated`);

    const json = await secr(['export', '--format', 'json', '--env', 'production']);
    expect(JSON.parse(json.stdout)).toEqual({ P1: 'prod-value-1', ...expected });
    expect((await secr(['export', '--env', 'production', '--json'])).json).toEqual({ P1: 'prod-value-1', ...expected });

    const asDotenv = await secr(['export', '--env', 'production']);
    expect(asDotenv.stdout).toContain("SINGLE='it is $literal'\n");
    expect(asDotenv.stdout).toContain('MULTI="-----BEGIN KEY-----\\nabc\\n-----END KEY-----"\n');
    writeFileSync(path.join(workDir, '.env.back'), asDotenv.stdout);
    const reimport = await secr(['import', '.env.back', '--env', 'production', '--json']);
    // The same values again: nothing is written (issue 19).
    expect(reimport.json).toMatchObject({ created: 0, updated: 0, unchanged: 6, total: 6 });
    expect(JSON.parse((await secr(['export', '--format', 'json', '--env', 'production'])).stdout)).toEqual({ P1: 'prod-value-1', ...expected });

    const shell = await secr(['export', '--format', 'shell', '--env', 'production']);
    const evaluated = execFileSync('sh', ['-c', `${shell.stdout}\nprintf '%s\\0' "$MULTI" "$DOUBLE" "$QUOTE" "$SINGLE"`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(evaluated.split('\0').slice(0, -1)).toEqual([expected.MULTI, expected.DOUBLE, expected.QUOTE, expected.SINGLE]);

    writeFileSync(path.join(workDir, '.env.bad'), 'A=1\nB="never closed\n');
    const bad = await secr(['import', '.env.bad']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('Error: .env.bad, line 2: unterminated " quote');
  });

  it('envs: lists the project’s environments and creates one', async () => {
    const { secr } = await ownProject('Envs');
    const created = await secr(['envs', 'create', 'qa', '--tier', 'staging', '--json']);
    expect(created.code).toBe(0);
    expect(created.json).toMatchObject({ slug: 'qa', name: 'qa', tier: 'staging', secretCount: 0 });
    const list = await secr(['envs']);
    expect(list.stdout).toMatch(/^ENVIRONMENT\s+NAME\s+TIER\s+SECRETS\s+CREATED$/m);
    expect(list.stdout).toMatch(/^qa\s+qa\s+staging\s+0\s/m);
    expect(list.stdout).toMatch(/^production\s+Production\s+production\s+\d+\s/m);
  });

  it('projects: lists, creates and deletes (with --yes)', async () => {
    const { org, project, secr } = await ownProject('Projects');
    const created = await secr(['projects', 'create', 'Side Project', '--slug', 'side', '--json']);
    expect(created.json).toMatchObject({ slug: 'side', name: 'Side Project', environments: expect.any(Array) });
    const list = await secr(['projects', '--json']);
    expect(list.json.projects.map((p: any) => p.slug).sort()).toEqual([project.slug, 'side'].sort());
    expect((await secr(['projects', 'delete', 'side'])).code).toBe(2);
    const deleted = await secr(['projects', 'delete', 'side', '--yes']);
    expect(deleted.stdout.trim()).toBe(`Deleted project ${org.slug}/side`);
    expect((await secr(['projects'])).stdout).not.toMatch(/^side\s/m);
  });

  it('orgs: lists yours with roles, creates and deletes', async () => {
    const created = await secr(['orgs', 'create', 'Temp Org', '--json']);
    expect(created.json).toMatchObject({ name: 'Temp Org', role: 'owner' });
    const list = await secr(['orgs']);
    expect(list.stdout).toMatch(new RegExp(`^${org.slug}\\s+Cmd \\w+\\s+owner`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${created.json.slug}\\s+Temp Org\\s+owner`, 'm'));
    const deleted = await secr(['orgs', 'delete', created.json.slug, '--yes', '--json']);
    expect(deleted.json).toEqual({ org: created.json.slug, deleted: true });
  });

  it('members: invite, accept, list, change role, remove', async () => {
    const { org, secr } = await ownProject('Members');
    const grace = await registerUser(ctx.api, 'grace');
    const graceToken = (await createToken(ctx.api, grace, { access: 'read_write' })).token;
    const invited = await secr(['members', 'invite', grace.email, '--role', 'viewer', '--json']);
    expect(invited.json).toMatchObject({ org: org.slug, invite: { email: grace.email, role: 'viewer' }, token: expect.any(String) });
    const accepted = await secr(['members', 'accept', invited.json.token], { env: { SECR_TOKEN: graceToken } });
    expect(accepted.stdout.trim()).toBe(`Joined ${org.slug} (${accepted.stdout.match(/\((.*)\)/)![1]}) as viewer`);

    const role = await secr(['members', 'role', grace.email, '--role', 'developer']);
    expect(role.stdout.trim()).toBe(`${grace.email} is now developer in ${org.slug}`);
    const list = await secr(['members']);
    expect(list.stdout).toMatch(new RegExp(`^${grace.email.replace(/[.+]/g, '\\$&')}\\s+grace\\s+developer`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${owner.email.replace(/[.+]/g, '\\$&')}\\s+owner\\s+owner`, 'm'));

    const removed = await secr(['members', 'remove', grace.email, '--yes', '--json']);
    expect(removed.json).toEqual({ org: org.slug, email: grace.email, userId: grace.id, removed: true });
    expect((await secr(['members', 'remove', grace.email, '--yes'])).code).toBe(5);
  });

  it('tokens: creates a scoped token (shown once), lists and revokes it', async () => {
    const { org, project, secr } = await ownProject('Tokens');
    await seedSecrets(ctx.api, { token }, org, project, 'production', { P1: 'prod-value-1' });
    const created = await secr([
      'tokens',
      'create',
      'deploy',
      '--access',
      'read',
      '--org',
      org.slug,
      '--project',
      project.slug,
      '--env',
      'production',
      '--json',
    ]);
    expect(created.json).toMatchObject({ name: 'deploy', access: 'read', kind: 'api', orgId: org.id, projectId: project.id, environments: ['production'] });
    const ciToken: string = created.json.token;
    expect(ciToken).toMatch(/^secr_tok_/);
    const asCi = await secr(['get', 'P1', '--env', 'production', '--plain'], { env: { SECR_TOKEN: ciToken } });
    expect(asCi.stdout).toBe('prod-value-1\n');

    const list = await secr(['tokens']);
    expect(list.stdout).toMatch(new RegExp(`^${created.json.id}\\s+deploy\\s+api\\s+read\\s+org `, 'm'));
    expect(list.stdout).not.toContain(ciToken);
    expect((await secr(['tokens', 'revoke', created.json.id])).stdout.trim()).toBe(`Revoked token ${created.json.id}`);
    expect((await secr(['get', 'P1', '--env', 'production'], { env: { SECR_TOKEN: ciToken } })).code).toBe(3);
  });

  it('audit: shows the org’s events, filtered by action, without values', async () => {
    const { org, project, secr } = await ownProject('Audit');
    // Two bulk imports (the second page is what `1–2 of N` shows), one of them a value the output must not show.
    await seedSecrets(ctx.api, { token }, org, project, 'production', { P1: 'prod-value-1' });
    await seedSecrets(ctx.api, { token }, org, project, 'development', { D1: 'dev-value-1' });
    const result = await secr(['audit', '--action', 'secret.bulk_set', '--limit', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TIME\s+ACTION\s+ACTOR\s+IP\s+DETAILS$/m);
    expect(result.stdout).toMatch(/secret\.bulk_set\s+owner-/);
    expect(result.stdout).toMatch(/^1–2 of \d+$/m);
    expect(result.stdout).not.toContain('prod-value-1');
    expect(result.stdout).not.toContain('dev-value-1');
    const json = await secr(['audit', '--json', '--limit', '1']);
    expect(json.json).toMatchObject({ org: org.slug, events: [expect.objectContaining({ action: expect.any(String) })], pagination: { limit: 1, offset: 0 } });
  });

  it('audit: filters by project, environment and key, pages by cursor, verifies the chain and exports', async () => {
    const { org, project, secr, workDir } = await ownProject('Audit chain');
    await seedSecrets(ctx.api, { token }, org, project, 'production', { P1: 'prod-value-1', P2: 'prod-value-2' });
    await seedSecrets(ctx.api, { token }, org, project, 'development', { D1: 'dev-value-1' });
    const byEnv = await secr(['audit', '--json', '--project', project.slug, '--env', 'prod']);
    expect(byEnv.json.events.map((e: { action: string }) => e.action)).toEqual(['secret.bulk_set']);
    const byKey = await secr(['audit', '--json', '--key', 'D1']);
    expect(byKey.json.events.map((e: { metadata: { environment: string } }) => e.metadata.environment)).toEqual(['development']);

    const first = await secr(['audit', '--limit', '1']);
    const before = /^Older: --before (\S+)$/m.exec(first.stdout)![1];
    const second = await secr(['audit', '--json', '--limit', '1', '--before', before]);
    expect(second.json.pagination).toBeUndefined();
    expect(Number(second.json.events[0].id)).toBeLessThan(Number((await secr(['audit', '--json', '--limit', '1'])).json.events[0].id));

    const verified = await secr(['audit', 'verify']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^The audit log of .* is intact \(positions 1–\d+/m);
    const ndjson = await secr(['audit', 'export', '--action', 'secret.bulk_set']);
    expect(ndjson.code).toBe(0);
    expect(
      ndjson.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).metadata.environment),
    ).toEqual(['production', 'development']);
    expect(ndjson.stdout).not.toContain('prod-value-1');
    const csv = await secr(['audit', 'export', '--format', 'csv', '--output', 'audit.csv', '--json']);
    expect(csv.json).toMatchObject({ org: org.slug, format: 'csv', output: 'audit.csv', bytes: expect.any(Number) });
    expect(readFileSync(path.join(workDir, 'audit.csv'), 'utf8')).toMatch(/^seq,id,createdAt,action,/);

    await ctx.db.query(`UPDATE audit_events SET ip = '203.0.113.9' WHERE org_id = $1 AND action = 'secret.bulk_set'`, [org.id]);
    const tampered = await secr(['audit', 'verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/tampered with: The row at position \d+ \(event \d+\) does not match its hash/);
    const json = await secr(['audit', 'verify', '--json']);
    expect(json.json).toMatchObject({ valid: false, firstProblem: { problem: 'changed' } });
  });

  it('rotate-key: refuses without --yes off a terminal, then rotates and values stay readable', async () => {
    const { org, project, secr } = await ownProject('Rotate');
    await seedSecrets(ctx.api, { token }, org, project, 'production', { P1: 'prod-value-1' });
    const refused = await secr(['rotate-key']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    const rotated = await secr(['rotate-key', '--yes', '--json']);
    expect(rotated.json).toMatchObject({ org: org.slug, project: project.slug, keyVersion: 2, resumed: false });
    expect(rotated.json.reencrypted).toBeGreaterThan(0);
    expect((await secr(['get', 'P1', '--env', 'production', '--plain'])).stdout).toBe('prod-value-1\n');
  });

  it('login --token checks and stores a token; whoami tells where the token comes from', async () => {
    const sandbox = await createCliSandbox(ctx.api.baseUrl);
    const inSandbox = (args: string[], env: Record<string, string> = {}) => runSecr(args, { cwd: sandbox.workDir, env: { ...cliEnv(sandbox), ...env } });
    expect((await inSandbox(['login', '--token', 'not-a-token'])).code).toBe(2);
    expect((await inSandbox(['login', '--token', 'secr_tok_wrong'])).code).toBe(3);
    const login = await inSandbox(['login', '--token', token, '--json']);
    expect(login.json).toMatchObject({ email: owner.email, apiUrl: ctx.api.baseUrl, tokenId: null });
    expect((await inSandbox(['whoami', '--json'])).json).toMatchObject({ user: { email: owner.email }, tokenSource: 'file' });
    expect((await inSandbox(['whoami', '--json'], { SECR_TOKEN: token })).json).toMatchObject({ tokenSource: 'env' });

    const wrongPassword = await sandbox.run(['login', '--email', owner.email], { input: 'not the password' });
    expect(wrongPassword.code).toBe(3);
    expect(wrongPassword.stderr).toContain('(unauthorized)');
  });

  it('init: needs flags without a terminal, and refuses an unknown environment', async () => {
    const sandbox = await createCliSandbox(ctx.api.baseUrl);
    const noFlags = await runSecr(['init'], { cwd: sandbox.workDir, env: { ...cliEnv(sandbox), SECR_TOKEN: token } });
    expect(noFlags.code).toBe(2);
    expect(noFlags.stderr).toContain('pass it as a flag');
    const badEnv = await runSecr(['init', '--org', org.slug, '--project', project.slug, '--env', 'nope'], {
      cwd: sandbox.workDir,
      env: { ...cliEnv(sandbox), SECR_TOKEN: token },
    });
    expect(badEnv.code).toBe(5);
    expect(badEnv.stderr).toContain("Environment 'nope' not found");
    expect(readdirSync(sandbox.workDir)).toEqual([]);
  });

  describe('on a terminal', () => {
    it('login --email names the server, then asks for the password without echoing it', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const terminal = sandbox.spawnOnTerminal(['login', '--email', owner.email]);
      const done = collect(terminal);
      await answer(terminal, 'Password: ', owner.password);
      const result = await done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Logged in to ${ctx.api.baseUrl} as ${owner.email}`);
      expect(result.stdout).not.toContain(owner.password);
      // It says where the password goes before asking for it.
      expect(result.stdout.indexOf(`Signing in to ${ctx.api.baseUrl}`)).toBeGreaterThanOrEqual(0);
      expect(result.stdout.indexOf(`Signing in to ${ctx.api.baseUrl}`)).toBeLessThan(result.stdout.indexOf('Password: '));
    });

    it('init asks for the org, project (by name or number) and default environment', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const terminal = sandbox.spawnOnTerminal(['init'], { env: { SECR_TOKEN: token } });
      const done = collect(terminal);
      await answer(terminal, 'Org [', org.slug);
      await answer(terminal, `Project [${project.slug}]: `, '1');
      await answer(terminal, 'Default environment [development]: ', '');
      const result = await done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`1) ${project.slug}`);
      expect(JSON.parse(readFileSync(path.join(sandbox.workDir, '.secr.json'), 'utf8'))).toEqual({
        org: org.slug,
        project: project.slug,
        environment: 'development',
      });
    });

    it('rm asks for confirmation and does nothing unless the answer is yes', async () => {
      const { project, workDir, secr } = await ownProject('Asked');
      await secr(['set', 'ASKED=1']);
      const no = cli.spawnOnTerminal(['rm', 'ASKED'], { cwd: workDir, env: { SECR_TOKEN: token } });
      const refused = collect(no);
      await answer(no, `Delete ASKED from ${project.slug}/development? [y/N] `, 'n');
      expect((await refused).code).toBe(1);
      expect((await secr(['get', 'ASKED', '--plain'])).stdout).toBe('1\n');

      const yes = cli.spawnOnTerminal(['rm', 'ASKED'], { cwd: workDir, env: { SECR_TOKEN: token } });
      const accepted = collect(yes);
      await answer(yes, '[y/N] ', 'y');
      const result = await accepted;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Deleted ASKED from ${project.slug}/development`);
    });
  });
});
