import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, seedSecrets, type TestProject } from '../factories/vault.js';
import { collect, createCliSandbox, removeCliSandboxes, waitForOutput, type CliSandbox } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

const SECRETS = {
  INJECTED: 'from-secr',
  SHARED: 'the-secret-wins',
  MULTI: 'line1\nline2 "quoted" $NOT_EXPANDED',
  PASSWORD: 'hunter2-never-in-argv',
};

/** `node -e <script>` as the child: the pinned Node, no shell. */
const node = (script: string) => ['--', process.execPath, '-e', script];

/** Every file and directory under `dir` with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      const stat = statSync(full);
      out[path.relative(dir, full)] = `${entry.isDirectory() ? 'dir' : stat.size}@${stat.mtimeMs}`;
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `secr run` (issue 5, point 6): injection, exit codes, signals, nothing on disk, nothing in argv. */
describe('secr run (built binary, real server)', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let cli: CliSandbox;

  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'runner');
    org = await createOrg(ctx.api, owner, 'Run');
    project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, { session: owner.session }, org, project, 'development', SECRETS);
    cli = await createCliSandbox(ctx.api.baseUrl);
    cli.env.TMPDIR = path.join(cli.home, 'tmp');
    mkdirSync(cli.env.TMPDIR);
    writeFileSync(path.join(cli.workDir, '.secr.json'), JSON.stringify({ org: org.slug, project: project.slug, environment: 'development' }));
    // Logged in the usual way (a stored secr_cli_ token), so that the config dir exists and can be watched.
    const { token } = await createToken(ctx.api, owner, { access: 'read_write', kind: 'cli' });
    expect((await cli.run(['login', '--token', token])).code).toBe(0);
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  it('injects the secrets; they win over inherited variables unless --preserve-env', async () => {
    const print = node('console.log(JSON.stringify([process.env.INJECTED, process.env.SHARED, process.env.MULTI, process.env.KEPT]))');
    const env = { SHARED: 'inherited', KEPT: 'untouched' };
    const wins = await cli.run(['run', ...print], { env });
    expect(wins.code).toBe(0);
    expect(JSON.parse(wins.stdout)).toEqual([SECRETS.INJECTED, SECRETS.SHARED, SECRETS.MULTI, 'untouched']);
    const preserved = await cli.run(['run', '--preserve-env', ...print], { env });
    expect(JSON.parse(preserved.stdout)).toEqual([SECRETS.INJECTED, 'inherited', SECRETS.MULTI, 'untouched']);
  });

  it('exits with the child’s exit code, or 128 + n when a signal killed it', async () => {
    expect((await cli.run(['run', ...node('process.exit(42)')])).code).toBe(42);
    expect((await cli.run(['run', ...node('process.kill(process.pid, "SIGKILL")')])).code).toBe(128 + 9);
  });

  it('returns the run as JSON with --json: variable names, never values', async () => {
    const result = await cli.run(['run', '--json', ...node('process.exitCode = 3')]);
    expect(result.code).toBe(3);
    expect(result.json).toEqual({
      org: org.slug,
      project: project.slug,
      env: 'development',
      command: [process.execPath, '-e', 'process.exitCode = 3'],
      injected: Object.keys(SECRETS).sort(),
      exitCode: 3,
      signal: null,
    });
    expect(result.stdout).not.toContain(SECRETS.PASSWORD);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('forwards %s to the child and exits as the child does', async (signal) => {
    const script = `process.on('${signal}', () => { console.log('child got ${signal}'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);`;
    const secr = cli.spawn(['run', ...node(script)]);
    const done = collect(secr);
    await waitForOutput(secr, 'ready');
    secr.kill(signal);
    const result = await done;
    expect(result.stdout).toBe(`ready\nchild got ${signal}\n`);
    expect(result.code).toBe(7);
  });

  it('exits 128 + n when a forwarded signal ends a child that does not handle it', async () => {
    const secr = cli.spawn(['run', ...node("console.log('ready'); setInterval(() => {}, 1000);")]);
    const done = collect(secr);
    await waitForOutput(secr, 'ready');
    secr.kill('SIGTERM');
    expect((await done).code).toBe(128 + 15);
  });

  it('writes nothing to disk and puts no value in any command line', async () => {
    const before = { home: snapshot(cli.home), work: snapshot(cli.workDir) };
    expect(Object.keys(before.home)).toContain(path.join('config', 'secr', 'credentials.json'));
    // The child reports its own argv and its parent's (the secr process) command line.
    const script = `const fs = require('fs'); console.log(JSON.stringify({ argv: process.argv, parent: fs.readFileSync('/proc/' + process.ppid + '/cmdline', 'utf8').split('\\0') }))`;
    const result = await cli.run(['run', ...node(script)]);
    expect(result.code).toBe(0);
    const { argv, parent } = JSON.parse(result.stdout) as { argv: string[]; parent: string[] };
    expect(parent).toContain('run');
    for (const value of Object.values(SECRETS)) {
      expect(argv.join(' ')).not.toContain(value);
      expect(parent.join(' ')).not.toContain(value);
    }
    expect({ home: snapshot(cli.home), work: snapshot(cli.workDir) }).toEqual(before);
  });

  it('fails clearly (exit 7) without running the command when the API is unreachable', async () => {
    const port = await closedPort();
    const result = await cli.run(['run', '--api-url', `http://127.0.0.1:${port}`, ...node("console.log('RAN')")]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(`Error: Cannot reach http://127.0.0.1:${port}: ECONNREFUSED (network_error)`);
  });

  it('fails clearly (exit 3) without running the command when the token is rejected', async () => {
    const result = await cli.run(['run', ...node("console.log('RAN')")], { env: { SECR_TOKEN: 'secr_tok_revoked-or-wrong' } });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error: .+ \(unauthorized\)\n {2}Run `secr login`, or set SECR_TOKEN to a valid token\.\n$/);
  });

  it('exits 127 when the command does not exist, and 2 when none is given', async () => {
    const missing = await cli.run(['run', '--', 'no-such-command-secr-test']);
    expect(missing.code).toBe(127);
    expect(missing.stderr.trim()).toBe('Error: Command not found: no-such-command-secr-test (command_not_found)');
    expect((await cli.run(['run'])).code).toBe(2);
  });
});
