import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { defaultFallbackPath, encryptFallback } from '../../cli/src/lib/fallback.js';
import { addMember, createOrg, createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, seedSecrets, type TestProject } from '../factories/vault.js';
import { collect, createCliSandbox, removeCliSandboxes, waitForOutput, type CliSandbox } from '../support/cli.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

const DEV = {
  API_KEY: 'ak-7f3e1c9b2d44',
  DATABASE_URL: 'postgres://app:pw-91d2c0@db/app',
  MULTI: 'line1\nline2 "q"',
  HOME: '/secret-home-5e1a',
  WHICH: 'development',
};
/** Values that trip YAML and docker env files: every one must come back unchanged. */
const STAGING = {
  WHICH: 'staging',
  NO: 'no',
  ON: 'on',
  OCTAL: '0123',
  FLOAT: '1e3',
  TILDE: '~',
  NULLISH: 'null',
  LEADING: '  padded  ',
  COLON: 'a: b #c',
  DASH: '- item',
  BRACE: '{not: json}',
  QUOTES: `it's "quoted" $HOME \\n`,
  EQUALS: 'a=b=c',
  UNICODE: 'ünïcødé ✓ \u2028 \u007f',
  EMPTY: '',
};
const PRODUCTION = { WHICH: 'production' };

/** `node -e <script> [args]` as the child: the pinned Node, no shell. */
const node = (script: string, ...args: string[]) => ['--', process.execPath, '-e', script, ...args];
/** A child that prints the named variables as JSON (absent ones as null). */
const printEnv = (...keys: string[]) =>
  node(`console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(keys)}.map((k) => [k, process.env[k] ?? null]))))`);

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A local server that answers every request with `status` (an API having a bad day), or never answers (`null`). */
async function answering(status: number | null): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    if (status === null) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ statusCode: status, code: 'service_unavailable', message: `answered ${status}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://127.0.0.1:${port}`, close };
}

/** Issue 18, points 4–6: what `secr run` injects, its offline fallback, CI conventions (built binary, real server). */
describe('secr run flags, SECR_* defaults, export docker/yaml', () => {
  let ctx: TestContext;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let token: string;
  /** Linked (.secr.json) to development, logged in with SECR_TOKEN. */
  let cli: CliSandbox;
  const target = () => ({ org: org.slug, project: project.slug, env: 'development' });

  beforeAll(async () => {
    ctx = await startTestContext();
    owner = await registerUser(ctx.api, 'flags');
    org = await createOrg(ctx.api, owner, 'Flags');
    project = await createProject(ctx.api, owner, org);
    await Promise.all([
      seedSecrets(ctx.api, { session: owner.session }, org, project, 'development', DEV),
      seedSecrets(ctx.api, { session: owner.session }, org, project, 'staging', STAGING),
      seedSecrets(ctx.api, { session: owner.session }, org, project, 'production', PRODUCTION),
    ]);
    token = (await createToken(ctx.api, owner, { access: 'read' })).token;
    cli = await createCliSandbox(ctx.api.baseUrl);
    cli.env.SECR_TOKEN = token;
    writeFileSync(path.join(cli.workDir, '.secr.json'), JSON.stringify({ org: org.slug, project: project.slug, environment: 'development' }));
  });
  afterAll(async () => {
    await ctx.close();
    await removeCliSandboxes();
  });

  describe('--only, --exclude and reserved variables', () => {
    it.concurrent('--only injects just the named keys, --exclude all but them', async () => {
      const only = await cli.run(['run', '--only', 'API_KEY, WHICH', ...printEnv('API_KEY', 'WHICH', 'DATABASE_URL')]);
      expect(only.stderr).toBe('');
      expect(JSON.parse(only.stdout)).toEqual({ API_KEY: DEV.API_KEY, WHICH: 'development', DATABASE_URL: null });
      const exclude = await cli.run(['run', '--exclude=API_KEY', ...printEnv('API_KEY', 'WHICH', 'DATABASE_URL')]);
      expect(JSON.parse(exclude.stdout)).toEqual({ API_KEY: null, WHICH: 'development', DATABASE_URL: DEV.DATABASE_URL });
    });

    it.concurrent('--json (the oclif path) names only the injected keys', async () => {
      const result = await cli.run(['run', '--json', '--only', 'API_KEY,HOME', ...node('0')]);
      expect(result.code).toBe(0);
      expect(result.json.injected).toEqual(['API_KEY']);
    });

    it.concurrent('refuses an --only key the environment lacks, and --only with --exclude, without running the command', async () => {
      const missing = await cli.run(['run', '--only', 'API_KEY,NOT_THERE', ...node("console.log('RAN')")]);
      expect(missing.code).toBe(5);
      expect(missing.stdout).toBe('');
      expect(missing.stderr.trim()).toBe('Error: --only names a key this environment does not have: NOT_THERE (not_found)');
      const both = await cli.run(['run', '--only', 'API_KEY', '--exclude', 'WHICH', ...node("console.log('RAN')")]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('either --only or --exclude');
      const bad = await cli.run(['run', '--only', 'API-KEY', ...node("console.log('RAN')")]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
    });

    it.concurrent('keeps a reserved variable with a warning naming the key (never the value); --allow-reserved lets the secret set it', async () => {
      const kept = await cli.run(['run', ...printEnv('HOME', 'API_KEY')]);
      expect(kept.code).toBe(0);
      expect(JSON.parse(kept.stdout)).toEqual({ HOME: cli.home, API_KEY: DEV.API_KEY });
      expect(kept.stderr).toBe('secr: not setting HOME from the secret of that name: HOME is reserved (pass --allow-reserved to let secrets set it)\n');
      expect(kept.stderr).not.toContain(DEV.HOME);
      const allowed = await cli.run(['run', '--allow-reserved', ...printEnv('HOME')]);
      expect(JSON.parse(allowed.stdout)).toEqual({ HOME: DEV.HOME });
      expect(allowed.stderr).toBe('');
    });
  });

  describe('secr’s own credentials', () => {
    const credentials = ['SECR_TOKEN', 'SECR_ID_TOKEN', 'SECR_OIDC'];

    it.concurrent('are not in the command’s environment, so --only is all it can read (fast path and oclif path)', async () => {
      const fast = await cli.run(['run', '--only', 'WHICH', ...printEnv('WHICH', ...credentials)], { env: { SECR_ID_TOKEN: 'ci-jwt' } });
      expect(fast.code).toBe(0);
      expect(JSON.parse(fast.stdout)).toEqual({ WHICH: 'development', SECR_TOKEN: null, SECR_ID_TOKEN: null, SECR_OIDC: null });
      // --raw is a flag the fast path knows; --json sends the run through oclif.
      const viaOclif = await cli.run(['run', '--json', '--only', 'WHICH', ...node('process.exit(process.env.SECR_TOKEN === undefined ? 0 : 9)')]);
      expect(viaOclif.json).toMatchObject({ injected: ['WHICH'], exitCode: 0 });
    });

    it.concurrent('are passed on with --pass-token', async () => {
      const passed = await cli.run(['run', '--pass-token', '--only', 'WHICH', ...printEnv('WHICH', 'SECR_TOKEN')]);
      expect(passed.code).toBe(0);
      expect(JSON.parse(passed.stdout)).toEqual({ WHICH: 'development', SECR_TOKEN: token });
    });
  });

  describe('where the API URL points', () => {
    it.concurrent('warns once on stderr when it is plain http to another machine (nothing is sent here: --fallback-only)', async () => {
      const result = await cli.run(['run', '--fallback-only', '--api-url', 'http://secr.example.test:8080', ...node("console.log('RAN')")]);
      expect(result.stderr.split('\n').filter((line) => line.startsWith('secr: warning:'))).toEqual([
        'secr: warning: The API URL http://secr.example.test:8080 is plain http to another machine: the token and every value cross the network unencrypted; use https://',
      ]);
      expect(result.code).toBe(7); // no fallback copy: nothing ran
      const local = await cli.run(['run', '--only', 'WHICH', ...printEnv('WHICH')]);
      expect(local.stderr).toBe('');
    });

    it.concurrent('does not follow a redirect (fast path, oclif path): the error names where it led', async () => {
      const other = `http://localhost:${await closedPort()}`;
      const server = http.createServer((req, res) => res.writeHead(308, { location: `${other}${req.url}` }).end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const apiUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      try {
        const expected = `Error: The API at ${apiUrl} answered 308, a redirect to ${other}, which secr does not follow (it would send the token and the request there): if ${other} is the API's address and you trust it, set the API URL to it (http_error)`;
        const run = await cli.run(['run', '--api-url', apiUrl, ...node("console.log('RAN')")]);
        expect({ code: run.code, stdout: run.stdout, stderr: run.stderr.trim() }).toEqual({ code: 1, stdout: '', stderr: expected });
        const ls = await cli.run(['ls', '--api-url', apiUrl]);
        expect({ code: ls.code, stderr: ls.stderr.trim() }).toEqual({ code: 1, stderr: expected });
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('--mount', () => {
    const readMount = node(
      `const fs = require('fs'); const p = process.argv[1]; const s = fs.statSync(p);
       console.log(JSON.stringify({ fifo: s.isFIFO(), mode: (s.mode & 0o777).toString(8), first: fs.readFileSync(p, 'utf8'), second: fs.readFileSync(p, 'utf8') }))`,
    );

    it.concurrent.each([
      ['a 0600 file', []],
      ['a named pipe', ['--mount-fifo']],
    ])('writes the secrets to %s for the command and removes it when the command ends', async (_kind, extra) => {
      const file = path.join(mkdtempSync(path.join(cli.home, 'mount-')), 'app.json');
      const result = await cli.run(['run', '--only', 'API_KEY,MULTI', '--mount', file, '--format', 'json', ...extra, ...readMount, file]);
      expect(result.code).toBe(0);
      const seen = JSON.parse(result.stdout);
      expect(seen).toMatchObject({ fifo: extra.length > 0, mode: '600' });
      expect(JSON.parse(seen.first)).toEqual({ API_KEY: DEV.API_KEY, MULTI: DEV.MULTI });
      expect(seen.second).toBe(seen.first);
      expect(existsSync(file)).toBe(false);
    });

    it.concurrent('writes dotenv by default and yaml on request', async () => {
      const dir = mkdtempSync(path.join(cli.home, 'mount-'));
      const cat = node("process.stdout.write(require('fs').readFileSync(process.argv[1], 'utf8'))", path.join(dir, 'a.env'));
      const dotenv = await cli.run(['run', '--only', 'API_KEY,MULTI', '--mount', path.join(dir, 'a.env'), ...cat]);
      expect(dotenv.stdout).toBe(`API_KEY='${DEV.API_KEY}'\nMULTI="line1\\nline2 \\"q\\""\n`);
      const yaml = await cli.run(['run', '--env', 'staging', '--mount', path.join(dir, 'a.env'), '--format', 'yaml', ...cat]);
      expect(YAML.parse(yaml.stdout)).toEqual(STAGING);
    });

    it.concurrent.each([
      ['a file', []],
      ['a named pipe', ['--mount-fifo']],
    ])('removes %s when secr is stopped with SIGTERM (forwarded to the command)', async (_kind, extra) => {
      const file = path.join(mkdtempSync(path.join(cli.home, 'mount-')), 'app.env');
      const secr = cli.spawn(['run', '--mount', file, ...extra, ...node("console.log('ready'); setInterval(() => {}, 1000)")]);
      const done = collect(secr);
      await waitForOutput(secr, 'ready');
      expect(existsSync(file)).toBe(true);
      secr.kill('SIGTERM');
      expect((await done).code).toBe(128 + 15);
      expect(existsSync(file)).toBe(false);
    });

    it.concurrent('refuses to overwrite an existing file', async () => {
      const file = path.join(mkdtempSync(path.join(cli.home, 'mount-')), 'exists.env');
      writeFileSync(file, 'MINE=1\n');
      const result = await cli.run(['run', '--mount', file, ...node("console.log('RAN')")]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('already exists');
      expect(readFileSync(file, 'utf8')).toBe('MINE=1\n');
    });
  });

  describe('--fallback', () => {
    it.concurrent('writes nothing without the flag', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const result = await sandbox.run(['run', '--org', org.slug, '--project', project.slug, ...node('0')], { env: { SECR_TOKEN: token } });
      expect(result.code).toBe(0);
      expect(existsSync(sandbox.configDir)).toBe(false);
    });

    it.concurrent('keeps an encrypted 0600 copy that holds no value and runs from it, with a notice, while the API is down or failing', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const env = { SECR_TOKEN: token };
      const flags = ['--org', org.slug, '--project', project.slug, '--fallback'];
      const first = await sandbox.run(['run', ...flags, ...printEnv('API_KEY')], { env });
      expect(first.code).toBe(0);
      expect(first.stderr).not.toContain('fallback');
      const file = defaultFallbackPath(target(), { SECR_CONFIG_DIR: sandbox.configDir });
      expect(file).toBe(path.join(sandbox.configDir, 'fallback', org.slug, project.slug, 'development.json'));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      const bytes = readFileSync(file);
      for (const secret of [...Object.keys(DEV).filter((k) => k !== 'WHICH'), ...Object.values(DEV), token]) expect(bytes.includes(secret)).toBe(false);
      expect(JSON.parse(bytes.toString())).toMatchObject({ format: 'secr-fallback', kdf: 'hkdf-sha256', cipher: 'aes-256-gcm' });

      const down = `http://127.0.0.1:${await closedPort()}`;
      const offline = await sandbox.run(['run', '--api-url', down, ...flags, ...printEnv('API_KEY', 'MULTI')], { env });
      expect(offline.code).toBe(0);
      expect(JSON.parse(offline.stdout)).toEqual({ API_KEY: DEV.API_KEY, MULTI: DEV.MULTI });
      expect(offline.stderr).toMatch(
        new RegExp(
          `^secr: Cannot reach ${down}: ECONNREFUSED; running with the fallback copy pulled \\d+s ago \\(\\S+\\) from ${file.replace(/[.]/g, '\\.')}\\n`,
        ),
      );
      expect(offline.stderr).not.toContain(DEV.API_KEY);

      const failing = await answering(503);
      try {
        const result = await sandbox.run(['run', '--api-url', failing.url, ...flags, ...printEnv('API_KEY')], { env });
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toEqual({ API_KEY: DEV.API_KEY });
        expect(result.stderr).toContain('secr: The API answered 503 (answered 503); running with the fallback copy');
      } finally {
        await failing.close();
      }
      const silent = await answering(null);
      try {
        const result = await sandbox.run(['run', '--api-url', silent.url, '--timeout', '0.5', ...flags, ...printEnv('API_KEY')], { env });
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toEqual({ API_KEY: DEV.API_KEY });
        expect(result.stderr).toContain('secr: Request timed out after 500 ms; running with the fallback copy');
      } finally {
        await silent.close();
      }
    });

    it.concurrent('does not fall back on 403: a refused pull fails as without the flag', async () => {
      const dev = await registerUser(ctx.api, 'demoted');
      await addMember(ctx.api, org, owner, dev, 'developer');
      const devToken = (await createToken(ctx.api, dev, { access: 'read' })).token;
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const run = (apiUrl: string) =>
        sandbox.run(['run', '--api-url', apiUrl, '--org', org.slug, '--project', project.slug, '--env', 'staging', '--fallback', ...printEnv('WHICH')], {
          env: { SECR_TOKEN: devToken },
        });
      expect((await run(ctx.api.baseUrl)).code).toBe(0); // the copy exists now
      const demoted = await ctx.api.patch(`/v1/members/${org.id}/${dev.id}`, { role: 'viewer' }, { session: owner.session });
      expect(demoted.status).toBe(200);
      const refused = await run(ctx.api.baseUrl);
      expect(refused.code).toBe(4);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).not.toContain('fallback');
      // The same copy, the server down: used.
      const down = await run(`http://127.0.0.1:${await closedPort()}`);
      expect(down.code).toBe(0);
      expect(JSON.parse(down.stdout)).toEqual({ WHICH: 'staging' });
    });

    it.concurrent('runs from a copy younger than --fallback-max-age and refuses an older one (exit 7)', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const file = path.join(sandbox.home, 'copy.json');
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      writeFileSync(file, await encryptFallback({ API_KEY: 'from-the-copy' }, token, target(), twoDaysAgo), { mode: 0o600 });
      const args = (maxAge: string[]) => [
        'run',
        '--org',
        org.slug,
        '--project',
        project.slug,
        `--fallback=${file}`,
        '--fallback-only',
        ...maxAge,
        ...printEnv('API_KEY'),
      ];
      const stale = await sandbox.run(args([]), { env: { SECR_TOKEN: token } });
      expect(stale.code).toBe(7);
      expect(stale.stdout).toBe('');
      expect(stale.stderr.trim()).toBe(
        `Error: Running from the fallback copy only (--fallback-only), and the fallback copy at ${file} is 2d 0h old, older than --fallback-max-age 24h (fallback_stale)`,
      );
      const fresh = await sandbox.run(args(['--fallback-max-age', '3d']), { env: { SECR_TOKEN: token } });
      expect(fresh.code).toBe(0);
      expect(JSON.parse(fresh.stdout)).toEqual({ API_KEY: 'from-the-copy' });
      expect(fresh.stderr).toContain(`running with the fallback copy pulled 2d 0h ago (${twoDaysAgo.toISOString()}) from ${file}`);
    });

    it.concurrent('cannot open the copy with another token, and says so without a value', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const file = path.join(sandbox.home, 'copy.json');
      writeFileSync(file, await encryptFallback({ API_KEY: 'from-the-copy' }, token, target(), new Date()), { mode: 0o600 });
      const other = (await createToken(ctx.api, owner, { access: 'read' })).token;
      const result = await sandbox.run(['run', '--org', org.slug, '--project', project.slug, `--fallback=${file}`, '--fallback-only', ...printEnv('API_KEY')], {
        env: { SECR_TOKEN: other },
      });
      expect(result.code).toBe(7);
      expect(result.stderr).toContain(`the fallback copy at ${file} cannot be decrypted with this token`);
      expect(result.stderr).not.toContain('from-the-copy');
      // Nor is it another target's copy.
      const elsewhere = await sandbox.run(
        ['run', '--org', org.slug, '--project', project.slug, '--env', 'staging', `--fallback=${file}`, '--fallback-only', ...node('0')],
        {
          env: { SECR_TOKEN: token },
        },
      );
      expect(elsewhere.code).toBe(7);
      expect(elsewhere.stderr).toContain('cannot be decrypted');
    });

    it.concurrent('fails with exit 7 when the API is down and there is no copy', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const down = `http://127.0.0.1:${await closedPort()}`;
      const result = await sandbox.run(['run', '--api-url', down, '--org', org.slug, '--project', project.slug, '--fallback', ...node("console.log('RAN')")], {
        env: { SECR_TOKEN: token },
      });
      expect(result.code).toBe(7);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`Cannot reach ${down}: ECONNREFUSED, and there is no fallback copy at ${path.join(sandbox.configDir, 'fallback')}`);
    });
  });

  describe('SECR_ORG, SECR_PROJECT, SECR_ENV', () => {
    it.concurrent('default the flags of run and of the other commands when no project is linked', async () => {
      const sandbox = await createCliSandbox(ctx.api.baseUrl);
      const env = { SECR_TOKEN: token, SECR_ORG: org.slug, SECR_PROJECT: project.slug, SECR_ENV: 'stg' };
      expect(JSON.parse((await sandbox.run(['run', ...printEnv('WHICH')], { env })).stdout)).toEqual({ WHICH: 'staging' });
      expect((await sandbox.run(['get', 'WHICH', '--json'], { env })).json).toMatchObject({ key: 'WHICH', value: 'staging' });
      const init = await sandbox.run(['init', '--json'], { env });
      expect(init.code).toBe(0);
      expect(JSON.parse(readFileSync(path.join(sandbox.workDir, '.secr.json'), 'utf8'))).toEqual({
        org: org.slug,
        project: project.slug,
        environment: 'staging',
      });
      const none = await createCliSandbox(ctx.api.baseUrl).then((s) => s.run(['run', ...printEnv('WHICH')], { env: { SECR_TOKEN: token } }));
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('set SECR_ORG and SECR_PROJECT');
    });

    it.concurrent('lose to a flag and win over .secr.json', async () => {
      const linked = await cli.run(['run', ...printEnv('WHICH')]);
      expect(JSON.parse(linked.stdout)).toEqual({ WHICH: 'development' });
      const fromEnv = await cli.run(['run', ...printEnv('WHICH')], { env: { SECR_ENV: 'production' } });
      expect(JSON.parse(fromEnv.stdout)).toEqual({ WHICH: 'production' });
      const fromFlag = await cli.run(['run', '--env', 'staging', ...printEnv('WHICH')], { env: { SECR_ENV: 'production' } });
      expect(JSON.parse(fromFlag.stdout)).toEqual({ WHICH: 'staging' });
      const exported = await cli.run(['export', '--format', 'json'], { env: { SECR_ENV: 'production', SECR_ORG: 'no-such-org' } });
      expect(exported.code).toBe(4); // SECR_ORG won over the link's org: not a member of it
    });
  });

  describe('secr export', () => {
    it.concurrent('--format docker writes KEY=value lines that read back exactly as docker reads them', async () => {
      const result = await cli.run(['export', '--env', 'staging', '--format', 'docker']);
      expect(result.code).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines.pop()).toBe('');
      const parsed = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      expect(parsed).toEqual(STAGING);
      expect(result.stdout).toContain(`QUOTES=${STAGING.QUOTES}\n`);
    });

    it.concurrent('--format docker refuses a value with a line break, naming the key only', async () => {
      const result = await cli.run(['export', '--format', 'docker']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('Cannot write MULTI for docker --env-file');
      expect(result.stderr).not.toContain('line1');
    });

    it.concurrent('--format yaml reads back to the same strings in YAML 1.2 and 1.1 readers', async () => {
      const result = await cli.run(['export', '--env', 'staging', '--format', 'yaml']);
      expect(result.code).toBe(0);
      expect(YAML.parse(result.stdout)).toEqual(STAGING);
      expect(YAML.parse(result.stdout, { version: '1.1' })).toEqual(STAGING);
      const dev = await cli.run(['export', '--format', 'yaml']);
      expect(YAML.parse(dev.stdout)).toEqual(DEV);
      // PyYAML (YAML 1.1: `no`, `on` and `~` are its booleans and null) when the machine has it.
      const python = ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'];
      let pyyaml = true;
      try {
        execFileSync('python3', ['-c', 'import yaml']);
      } catch {
        pyyaml = false;
      }
      if (pyyaml) expect(JSON.parse(execFileSync('python3', python, { input: result.stdout, encoding: 'utf8' }))).toEqual(STAGING);
    });
  });
});
