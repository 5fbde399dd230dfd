/**
 * Keyless CI with the real `secr` binary (issue 20): an owner creates a trust relationship with
 * `secr oidc add`; then, in a simulated GitHub Actions job (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN served
 * by the fake issuer, no SECR_TOKEN, no login, no .secr.json), `secr run` and `secr ls` exchange the
 * job's OIDC token and pull the secrets, writing nothing to disk.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, seedSecrets, type TestProject } from '../factories/vault.js';
import { CLI_BIN, createCliSandbox, removeCliSandboxes, type CliSandbox } from '../support/cli.js';
import { FakeOidcIssuer, GITHUB_REQUEST_TOKEN } from '../support/fake-oidc-issuer.js';
import { startTestContext, type TestContext } from '../support/test-app.js';

const node = (script: string) => ['--', process.execPath, '-e', script];

/** Every file under `dir` (the sandbox's home: config dir, working dir, temp). */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe('keyless CI with the secr binary', () => {
  let ctx: TestContext;
  let issuer: FakeOidcIssuer;
  let owner: TestUser;
  let org: TestOrg;
  let project: TestProject;
  let admin: CliSandbox;
  let job: CliSandbox;
  let trustId: string;

  /** A GitHub Actions job's environment: the token request endpoint, the relationship, nothing stored. */
  const github = () => ({
    SECR_OIDC: trustId,
    ACTIONS_ID_TOKEN_REQUEST_URL: issuer.githubRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: GITHUB_REQUEST_TOKEN,
    SECR_ID_TOKEN: undefined,
    GITHUB_ACTIONS: 'true',
  });

  beforeAll(async () => {
    [ctx, issuer] = await Promise.all([startTestContext({ OIDC_ALLOW_PRIVATE: 'true' }), FakeOidcIssuer.start()]);
    owner = await registerUser(ctx.api, 'oidc-owner');
    org = await createOrg(ctx.api, owner, 'Keyless');
    project = await createProject(ctx.api, owner, org);
    await seedSecrets(ctx.api, { session: owner.session }, org, project, 'production', { DEPLOY_KEY: 'deploy-from-oidc', REGION: 'eu-west-1' });
    [admin, job] = await Promise.all([createCliSandbox(ctx.api.baseUrl), createCliSandbox(ctx.api.baseUrl)]);
    admin.env.SECR_TOKEN = (await createToken(ctx.api, owner, { access: 'read_write' })).token;

    // The audience defaults to the API URL: what the CLI asks GitHub for.
    const added = await admin.run([
      'oidc',
      'add',
      'github-deploy',
      '--org',
      org.slug,
      '--project',
      project.slug,
      '--env',
      'production',
      '--issuer',
      issuer.url,
      '--claim',
      'repository=acme/api',
      '--claim',
      'ref=refs/heads/*',
      '--json',
    ]);
    expect(added.code).toBe(0);
    trustId = added.json.id;
  });
  afterAll(async () => {
    await removeCliSandboxes();
    await Promise.all([ctx?.close(), issuer?.close()]);
  });

  it('lists the relationship with secr oidc ls --json', async () => {
    const listed = await admin.run(['oidc', 'ls', '--org', org.slug, '--json']);
    expect(listed.code).toBe(0);
    expect(listed.json.trusts).toEqual([
      expect.objectContaining({
        id: trustId,
        name: 'github-deploy',
        issuer: issuer.url,
        audience: ctx.api.baseUrl,
        projectSlug: project.slug,
        environments: ['production'],
        access: 'read',
        conditions: [
          { claim: 'repository', pattern: 'acme/api' },
          { claim: 'ref', pattern: 'refs/heads/*' },
        ],
      }),
    ]);
  });

  it('secr run in a GitHub Actions job pulls the secrets with no stored token, and writes nothing', async () => {
    const requests = issuer.served.githubToken;
    const before = filesUnder(job.home);
    const res = await job.run(['run', ...node('process.stdout.write(`${process.env.DEPLOY_KEY}|${process.env.REGION}`)')], { env: github() });
    expect({ code: res.code, stdout: res.stdout, stderr: res.stderr }).toEqual({ code: 0, stdout: 'deploy-from-oidc|eu-west-1', stderr: '' });
    expect(issuer.served.githubToken - requests).toBe(1);
    expect(filesUnder(job.home)).toEqual(before);
    const { rows } = await ctx.db.query(`SELECT metadata FROM audit_events WHERE action = 'oidc.exchanged' AND org_id = $1`, [org.id]);
    expect(rows.at(-1).metadata).toMatchObject({ trustId, claims: { repository: 'acme/api', workflow: 'deploy', run_id: '4242', actor: 'octocat' } });
  });

  it('secr ls exchanges a token given in SECR_ID_TOKEN (GitLab and others)', async () => {
    const jwt = await issuer.sign(ctx.api.baseUrl);
    const before = filesUnder(job.home);
    const res = await job.run(['ls', '--json'], {
      env: { SECR_OIDC: trustId, SECR_ID_TOKEN: jwt, ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
    });
    expect(res.code).toBe(0);
    expect(res.json.secrets.map((s: { key: string }) => s.key).sort()).toEqual(['DEPLOY_KEY', 'REGION']);
    expect(filesUnder(job.home)).toEqual(before);
  });

  it('fails with exit code 3 and says what to do when the CI offers no OIDC token', async () => {
    const res = await job.run(['run', ...node('process.exit(0)')], {
      env: { SECR_OIDC: trustId, SECR_ID_TOKEN: undefined, ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('id-token: write');
  });

  it('refuses a job of another repository, naming the failed check and not the token', async () => {
    issuer.githubClaims = { repository: 'evil/api' };
    try {
      const res = await job.run(['run', ...node('process.stdout.write(String(process.env.DEPLOY_KEY))')], { env: github() });
      expect(res.code).toBe(3);
      expect(res.stdout).toBe('');
      expect(res.stderr).toContain('(condition)');
      expect(res.stderr).not.toMatch(/eyJ/);
    } finally {
      issuer.githubClaims = {};
    }
  });

  it('the GitHub Action exports the chosen secrets to the job environment, masked in the log', async () => {
    const [githubEnv, githubOutput] = [path.join(job.home, 'github-env'), path.join(job.home, 'github-output')];
    writeFileSync(githubEnv, '');
    writeFileSync(githubOutput, '');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries({ ...job.env, ...github() })) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    Object.assign(env, { SECR_BIN: CLI_BIN, INPUT_SECRETS: 'DEPLOY_KEY', GITHUB_ENV: githubEnv, GITHUB_OUTPUT: githubOutput });
    const { stdout } = await promisify(execFile)(process.execPath, [path.resolve('scripts/github-action-export.mjs')], { env, cwd: job.workDir });
    expect(stdout).toContain('::add-mask::deploy-from-oidc\n');
    expect(stdout).toContain('::add-mask::eu-west-1\n');
    expect(readFileSync(githubEnv, 'utf8')).toMatch(/^DEPLOY_KEY<<(secr_[0-9a-f-]+)\ndeploy-from-oidc\n\1\n$/);
    expect(readFileSync(githubOutput, 'utf8')).toBe('keys=DEPLOY_KEY\n');
  });

  it('secr oidc rm deletes the relationship; the job is refused from then on', async () => {
    const removed = await admin.run(['oidc', 'rm', trustId, '--org', org.slug, '--yes', '--json']);
    expect(removed.code).toBe(0);
    expect(removed.json).toEqual({ id: trustId, deleted: true });
    const res = await job.run(['run', ...node('process.exit(0)')], { env: github() });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('(trust)');
  });
});
