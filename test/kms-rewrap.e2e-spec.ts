import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { AuditChain } from '../src/modules/audit/audit-chain.service.js';
import { registerUser, type TestUser } from './factories/accounts.js';
import { verifyEmail } from './factories/mail.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { FakeAwsKms } from './support/fake-aws-kms.js';
import { FakeKeyVault } from './support/fake-key-vault.js';
import type { HttpClient } from './support/http.js';
import { NODE_COMPILE_CACHE_DIR } from './support/node-compile-cache.js';
import { setProcessEnv } from './support/process-env.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from './support/in-process-app.js';
import { TEST_MASTER_KEY } from './support/test-app.js';
import { until } from './support/until.js';

/** The built command (`npm run kms:rewrap`; `npm test` builds first), run as a real process. */
const COMMAND = path.resolve('dist/src/modules/keys/rewrap-command.js');

interface Target {
  name: 'aws' | 'azure';
  /** The app's settings for the new provider. */
  env: Record<string, string>;
  /** What the SDK reads from the process environment (credentials, and for a child the test CA). */
  processEnv: Record<string, string>;
  childEnv: Record<string, string>;
  masterKeyId: string;
  /** Leaves the wrap calls after the first `after` unanswered; resolves when the first of them arrives. */
  holdWraps(after: number): Promise<void>;
  releaseHolds(): void;
  stop(): Promise<void>;
}

async function awsTarget(): Promise<Target> {
  const kms = await FakeAwsKms.start('eu-west-1');
  const credentials = { AWS_ACCESS_KEY_ID: 'AKIDSECRTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-access-key', AWS_EC2_METADATA_DISABLED: 'true' };
  return {
    name: 'aws',
    env: { KMS_PROVIDER: 'aws', KMS_AWS_KEY_ID: kms.keyArn, KMS_AWS_REGION: kms.region, KMS_AWS_ENDPOINT: kms.endpoint },
    processEnv: credentials,
    childEnv: credentials,
    masterKeyId: kms.keyArn,
    holdWraps: (after) => kms.hold('Encrypt', after),
    releaseHolds: () => kms.releaseHolds(),
    stop: () => kms.stop(),
  };
}

async function azureTarget(): Promise<Target> {
  const vault = await FakeKeyVault.start();
  return {
    name: 'azure',
    env: { KMS_PROVIDER: 'azure', KMS_AZURE_KEY_ID: vault.keyId },
    processEnv: vault.credentialEnv,
    // A child process trusts the test certificate as an operator would a private CA.
    childEnv: { ...vault.credentialEnv, NODE_EXTRA_CA_CERTS: vault.caFile },
    masterKeyId: vault.keyId,
    holdWraps: (after) => vault.hold('wrapkey', after),
    releaseHolds: () => vault.releaseHolds(),
    stop: () => vault.stop(),
  };
}

const PROJECTS = 6;
const valuesFor = (i: number) => ({ DATABASE_URL: `postgres://app:pw-${i}-s3cr3t@db/app`, API_KEY: `sk-live-${i}-9f8e7d6c` });

/**
 * Moving an install between key providers (issue #17, README "Moving between key providers"): from
 * `local` to a cloud KMS with `npm run kms:rewrap`, killed midway and run again, while an instance keeps
 * serving pulls; afterwards a server with only the new provider reads everything.
 */
describe.each([
  ['aws', awsTarget],
  ['azure', azureTarget],
])('kms:rewrap from local to %s', (_name, makeTarget) => {
  let target: Target;
  let restoreEnv: () => void;
  let ctx: TestContext;
  let owner: TestUser;
  const projects: TestProject[] = [];

  beforeAll(async () => {
    target = await makeTarget();
    restoreEnv = setProcessEnv(target.processEnv);
    // The install as it runs today: local provider, WEBHOOK_ALLOW_PRIVATE for a webhook to loopback.
    // The owner is also an instance admin, to read GET /v1/admin/keys.
    const email = `rewrap-${Date.now()}@example.com`;
    ctx = await startTestContext({ KMS_PROVIDER: 'local', WEBHOOK_ALLOW_PRIVATE: 'true', SECR_ADMIN_EMAILS: email });
    owner = await registerUser(ctx.api, 'rewrap', email);
    await verifyEmail(ctx.api, ctx.db, owner.id);
    for (let i = 0; i < PROJECTS; i++) {
      const project = await createProject(ctx.api, owner, owner.personalOrg);
      await seedSecrets(ctx.api, { session: owner.session }, owner.personalOrg, project, 'development', valuesFor(i));
      projects.push(project);
    }
    // One project with a rotated key: version 2 live, version 1 destroyed (nothing to rewrap there).
    const rotated = await ctx.api.post(`/v1/projects/${owner.personalOrg.id}/${projects[0].slug}/rotate-key`, undefined, { session: owner.session });
    expect(rotated.status).toBe(200);
    const hook = await ctx.api.post(
      `/v1/webhooks/${owner.personalOrg.id}`,
      { url: 'http://127.0.0.1:9/hook', events: ['secret.deleted'] },
      { session: owner.session },
    );
    expect(hook.status).toBe(201);
    // Signed audit checkpoints: their HMAC key is wrapped by local too.
    expect(await ctx.instances[0].app.get(AuditChain).checkpointAll()).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await ctx?.close();
    await target?.stop();
    restoreEnv?.();
  });

  function runRewrap(args: string[] = []) {
    const child = spawn(process.execPath, [COMMAND, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: os.tmpdir(),
        NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR,
        NODE_ENV: 'test',
        DATABASE_URL: ctx.databaseUrl,
        SECR_MASTER_KEY: TEST_MASTER_KEY,
        ...target.env,
        ...target.childEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, output: () => output };
  }

  async function wrappedBy() {
    const { rows } = await ctx.db.query(
      `SELECT provider, count(*)::int AS n FROM project_keys WHERE wrapped_key IS NOT NULL GROUP BY 1
        UNION ALL SELECT 'webhook:' || secret_provider, count(*)::int FROM webhooks GROUP BY 1
        UNION ALL SELECT 'audit:' || provider, count(*)::int FROM audit_signing_keys GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.provider, r.n]));
  }

  async function storedValues() {
    const { rows } = await ctx.db.query('SELECT secret_id, version, key_version, ciphertext FROM secret_versions ORDER BY secret_id, version');
    return rows;
  }

  async function pullsAll(api: HttpClient) {
    for (const [i, project] of projects.entries()) {
      const res = await api.get(secretsPath(owner.personalOrg, project, 'development'), { session: owner.session });
      expect(res.status).toBe(200);
      expect(Object.fromEntries(res.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]))).toEqual(valuesFor(i));
    }
  }

  async function verifiesAudit(api: HttpClient) {
    const res = await api.get(`/v1/audit/${owner.personalOrg.id}/verify`, { session: owner.session });
    expect(res.status).toBe(200);
    // A checkpoint whose key cannot be unwrapped would be reported as forged.
    expect(res.body).toMatchObject({ valid: true, firstProblem: null });
    expect(res.body.checkpoints).toBeGreaterThan(0);
  }

  it('re-wraps every project key, webhook secret and audit signing key, resumes after being killed, keeps pulls working, and re-encrypts no value', async () => {
    const valuesBefore = await storedValues();
    expect(await wrappedBy()).toEqual({ local: PROJECTS, 'webhook:local': 1, 'audit:local': 1 });
    await verifiesAudit(ctx.api);

    // Step 1 of the move: servers restart with the new provider primary and the old one still configured.
    const moving = (await ctx.startInstance(target.env)).http;
    const before = await moving.get('/v1/admin/keys', { session: owner.session });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      primary: { provider: target.name, masterKey: target.masterKeyId },
      others: [{ provider: 'local' }],
      problems: [],
      moveComplete: false,
    });
    expect(before.body.wrapped).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'project_key', provider: 'local', count: PROJECTS, current: false, readable: true })]),
    );

    // Step 2, interrupted: the 4th wrap never returns; the process is killed while it waits.
    const held = target.holdWraps(3);
    const first = runRewrap();
    await Promise.race([held, first.exited.then((code) => Promise.reject(new Error(`kms:rewrap exited (${code}) before the hold:\n${first.output()}`)))]);
    await until('three keys rewrapped', async () => (await wrappedBy())[target.name] === 3);
    const midway = await wrappedBy();
    expect(midway).toEqual({ [target.name]: 3, local: PROJECTS - 3, 'webhook:local': 1, 'audit:local': 1 });

    // Pulls keep working meanwhile, from an instance that has cached none of these keys.
    await pullsAll(moving);

    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(await wrappedBy()).toEqual(midway);

    // --dry-run only counts what is left.
    const dry = runRewrap(['--dry-run']);
    expect(await dry.exited).toBe(1);
    expect(dry.output()).toContain(`${PROJECTS - 3} project key(s) wrapped by local (`);
    expect(dry.output()).toMatch(/1 webhook secret\(s\) wrapped by local \([^)]+\): to rewrap/);
    expect(dry.output()).toMatch(/1 audit signing key\(s\) wrapped by local \([^)]+\): to rewrap/);
    expect(await wrappedBy()).toEqual(midway);

    // Run again: it takes what is left.
    target.releaseHolds();
    const second = runRewrap();
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain(`rewrapped ${PROJECTS - 3} project key(s) and 1 webhook secret(s), 1 audit signing key(s)`);
    expect(second.output()).toContain(`Every stored key is wrapped by ${target.name}`);
    expect(await wrappedBy()).toEqual({ [target.name]: PROJECTS, [`webhook:${target.name}`]: 1, [`audit:${target.name}`]: 1 });
    const { rows: keys } = await ctx.db.query('SELECT DISTINCT master_key FROM project_keys WHERE wrapped_key IS NOT NULL');
    expect(keys).toEqual([{ master_key: target.masterKeyId }]);

    // Only the DEKs were re-wrapped: every stored value is byte for byte what it was, under the same key version.
    expect(await storedValues()).toEqual(valuesBefore);

    // A third run finds nothing to do.
    const third = runRewrap();
    expect(await third.exited).toBe(0);
    expect(third.output()).toContain('rewrapped 0 project key(s) and 0 webhook secret(s), 0 audit signing key(s)');

    // Step 3: the old provider is no longer needed. A server with only the new one reads every project.
    const only = await ctx.startInstance({ ...target.env, SECR_MASTER_KEY: '' });
    expect(only.config.kms.masterKey).toBeUndefined();
    await pullsAll(only.http);
    // Checkpoints signed before the move still verify, and new ones are signed with the moved key.
    await verifiesAudit(only.http);
    expect(await only.app.get(AuditChain).checkpointAll()).toBeGreaterThan(0);
    await verifiesAudit(only.http);
    expect((await only.http.get('/health/ready')).status).toBe(200);
    const after = await only.http.get('/v1/admin/keys', { session: owner.session });
    expect(after.body).toMatchObject({ others: [], problems: [], moveComplete: true });
    // Four runs of the command (each a Node process loading an SDK) and three instances: minutes on a loaded machine.
  }, 240_000);
});
