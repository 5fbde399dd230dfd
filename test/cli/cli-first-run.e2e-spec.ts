import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { answer, CLI_BIN, collect, createCliSandbox, removeCliSandboxes, type CliSandbox } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

const PASSWORD = 'correct horse battery staple';
const newEmail = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;
const credentialsOf = (cli: CliSandbox) => JSON.parse(readFileSync(path.join(cli.configDir, 'credentials.json'), 'utf8'));

/**
 * The README's quick start with the built binary against a real server (issue 15, point 1): sign up,
 * init on a fresh account (the only org, the first project created), set, run — on a pseudo-terminal
 * with prompts, and without a terminal with flags. Then the token hygiene of login and logout (point 2).
 */
describe('secr first run (built binary, real server)', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  it('is installed by npm install as node_modules/.bin/secr (what `npx secr` runs)', () => {
    expect(realpathSync('node_modules/.bin/secr')).toBe(realpathSync(CLI_BIN));
    const version = spawnSync(process.execPath, ['node_modules/.bin/secr', '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^@secr\/cli\/\d+\.\d+\.\d+ /);
  });

  it('without a terminal: signup, init --project --create, set, run without --, get exactly the keys named', async () => {
    const cli = await createCliSandbox(ctx.api.baseUrl);
    const email = newEmail('flags');
    const signup = await cli.run(['signup', '--email', email, '--name', 'Flag User'], { input: `${PASSWORD}\n` });
    expect(signup.stderr).toBe('');
    expect(signup.code).toBe(0);
    expect(signup.stdout).toContain(`Signed up and logged in to ${ctx.api.baseUrl} as ${email}`);
    expect(credentialsOf(cli)).toMatchObject({ email, token: expect.stringMatching(/^secr_cli_/), tokenId: expect.any(String) });

    const init = await cli.run(['init', '--project', 'My App', '--create', '--json']);
    expect(init.code).toBe(0);
    expect(init.json).toMatchObject({ project: 'my-app', environment: 'development', createdProject: true });
    const link = JSON.parse(readFileSync(path.join(cli.workDir, '.secr.json'), 'utf8'));
    expect(link).toEqual({ org: init.json.org, project: 'my-app', environment: 'development' });

    expect((await cli.run(['set', 'GREETING=hello', 'GREETING_EXTRA=not asked for', 'OTHER=x'])).code).toBe(0);
    // No `--`: secr's flags end at `node`, so `-e` is node's, not secr's --env.
    const run = await cli.run(['run', process.execPath, '-e', 'console.log(process.env.GREETING)']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('hello\n');

    const get = await cli.run(['get', 'GREETING', 'OTHER', '--plain']);
    expect(get.stdout).toBe('hello\nx\n');
    const { rows } = await ctx.db.query(
      `SELECT metadata FROM audit_events WHERE action = 'secret.read' AND metadata->>'keys' IS NOT NULL ORDER BY created_at DESC LIMIT 1`,
    );
    expect(rows[0].metadata).toMatchObject({ keys: ['GREETING', 'OTHER'], count: 2 });
  });

  it('on a terminal: signup asks for everything, init takes the only org and offers to create the first project', async () => {
    const cli = await createCliSandbox(ctx.api.baseUrl);
    const email = newEmail('tty');
    const signup = cli.spawnOnTerminal(['signup']);
    const signedUp = collect(signup);
    await answer(signup, 'Email: ', email);
    await answer(signup, 'Name: ', 'Terminal User');
    await answer(signup, 'Password (at least 10 characters): ', PASSWORD);
    await answer(signup, 'Password again: ', PASSWORD);
    const signupResult = await signedUp;
    expect(signupResult.code).toBe(0);
    expect(signupResult.stdout).toContain(`Creating an account on ${ctx.api.baseUrl}`);
    expect(signupResult.stdout).toContain(`Signed up and logged in to ${ctx.api.baseUrl} as ${email}`);
    expect(signupResult.stdout).not.toContain(PASSWORD);

    const init = cli.spawnOnTerminal(['init']);
    const initialised = collect(init);
    const dirName = path.basename(cli.workDir);
    await answer(init, `has no project yet. Create one named [${dirName}]: `, '');
    await answer(init, 'Default environment [development]: ', '');
    const initResult = await initialised;
    expect(initResult.code).toBe(0);
    const link = JSON.parse(readFileSync(path.join(cli.workDir, '.secr.json'), 'utf8'));
    expect(link).toMatchObject({ project: dirName.toLowerCase(), environment: 'development' });

    expect((await cli.run(['set', 'PORT=4321'])).code).toBe(0);
    const run = await cli.run(['run', '--', process.execPath, '-e', 'console.log(process.env.PORT)']);
    expect(run.stdout).toBe('4321\n');
  });

  describe('token hygiene', () => {
    it('a new login revokes the CLI token it replaces, so logins never pile up tokens', async () => {
      const cli = await createCliSandbox(ctx.api.baseUrl);
      const email = newEmail('relogin');
      expect((await cli.run(['signup', '--email', email, '--name', 'Again'], { input: PASSWORD })).code).toBe(0);
      const first = credentialsOf(cli).token;
      for (let i = 0; i < 2; i++) expect((await cli.run(['login', '--email', email], { input: PASSWORD })).code).toBe(0);
      const last = credentialsOf(cli).token;
      expect((await ctx.api.get('/v1/auth/me', { token: first })).status).toBe(401);
      const tokens = await ctx.api.get('/v1/auth/tokens', { token: last });
      expect(tokens.body.tokens).toHaveLength(1);
    });

    it('login --token - reads the token from stdin, and logout forgets it without revoking it (unless --revoke)', async () => {
      const owner = await createCliSandbox(ctx.api.baseUrl);
      const email = newEmail('ci');
      expect((await owner.run(['signup', '--email', email, '--name', 'CI Owner'], { input: PASSWORD })).code).toBe(0);
      const ciToken = (await owner.run(['tokens', 'create', 'pipeline', '--json'])).json.token as string;
      expect(ciToken).toMatch(/^secr_tok_/);

      const pipeline = await createCliSandbox(ctx.api.baseUrl);
      const login = await pipeline.run(['login', '--token', '-'], { input: `${ciToken}\n` });
      expect(login.code).toBe(0);
      expect(credentialsOf(pipeline)).toMatchObject({ token: ciToken });
      expect(credentialsOf(pipeline).tokenId).toBeUndefined();
      const logout = await pipeline.run(['logout']);
      expect(logout.code).toBe(0);
      expect(logout.stdout).toContain('stays valid');
      expect((await ctx.api.get('/v1/auth/me', { token: ciToken })).status).toBe(200);

      expect((await pipeline.run(['login', '--token', '-'], { input: ciToken })).code).toBe(0);
      expect((await pipeline.run(['logout', '--revoke'])).stdout).toContain('token revoked');
      expect((await ctx.api.get('/v1/auth/me', { token: ciToken })).status).toBe(401);
    });
  });

  describe('CLI details', () => {
    it('refuses an API URL without a scheme, naming the fix', async () => {
      const cli = await createCliSandbox(ctx.api.baseUrl);
      const result = await cli.run(['whoami', '--api-url', 'localhost:8080']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--api-url 'localhost:8080' is not an http(s) URL: use http://localhost:8080 or https://localhost:8080");
      const fromEnv = await cli.run(['whoami'], { env: { SECR_API_URL: '127.0.0.1:9' } });
      expect(fromEnv.code).toBe(2);
      expect(fromEnv.stderr).toContain("SECR_API_URL '127.0.0.1:9' is not an http(s) URL");
    });

    it('gives up on a server that never answers after --timeout or SECR_TIMEOUT seconds', async () => {
      const net = await import('node:net');
      const sockets: import('node:net').Socket[] = [];
      const hung = net.createServer((socket) => void sockets.push(socket)); // accepts, never answers
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(hung.address() as import('node:net').AddressInfo).port}`;
      try {
        const cli = await createCliSandbox(url);
        const flag = await cli.run(['whoami', '--timeout', '0.5'], { env: { SECR_TOKEN: 'secr_tok_x' } });
        expect(flag.code).toBe(7);
        expect(flag.stderr).toContain('timed out after 500 ms');
        const env = await cli.run(['whoami'], { env: { SECR_TOKEN: 'secr_tok_x', SECR_TIMEOUT: '0.3' } });
        expect(env.code).toBe(7);
        expect(env.stderr).toContain('timed out after 300 ms');
      } finally {
        sockets.forEach((s) => s.destroy());
        await new Promise((resolve) => hung.close(resolve));
      }
    });
  });
});
