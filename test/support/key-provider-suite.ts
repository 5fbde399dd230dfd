import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { registerUser, type TestUser } from '../factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from '../factories/vault.js';
import type { HttpClient } from './http.js';
// The apps run in this worker's app host; the cloud SDKs read their credentials from the host's environment (setHostProcessEnv).
import { startTestContext, type TestContext } from './test-app.js';

/** The KMS side of a provider under test: a fake speaking its real protocol (absent for `local`). */
export interface FakeKmsControls {
  /** Unwrap calls received so far (Decrypt / unwrapkey), failed ones included. */
  unwraps(): number;
  /** Every following wrap and unwrap fails with the service's retryable "unavailable" answer. */
  failUnavailable(): void;
  recover(): void;
  /**
   * Settings of an instance whose KMS endpoint refuses connections (nothing listens), and whether they
   * keep the master key id (Azure's key id is its URL: another endpoint is another key).
   */
  unreachable(): Promise<{ env: Record<string, string>; sameKey: boolean }>;
}

/** One key provider, as the shared suite runs it. */
export interface ProviderTarget {
  name: 'local' | 'gcp' | 'aws' | 'azure';
  /** Starts the fake (sets the app host's environment its SDK needs: setHostProcessEnv); returns the app's settings. */
  start(): Promise<Record<string, string>>;
  stop(): Promise<void>;
  /** The master_key every key row this provider wraps names. */
  masterKeyId(): string;
  /** Settings naming a key this provider does not have, and what /health/ready then says. */
  wrongKey: { env: () => Record<string, string>; ready: RegExp };
  kms?: FakeKmsControls;
}

const VALUES = { DATABASE_URL: 'postgres://app:s3cr3t-db-password@db/app', API_KEY: 'sk-live-9f8e7d6c5b4a' };

/**
 * The provider test suite (issue #17): the same tests, through the real app, for every KeyProvider.
 * `test/key-provider-<name>.e2e-spec.ts` runs it against each, the cloud ones against their fakes.
 */
export function describeKeyProvider(target: ProviderTarget): void {
  describe(`${target.name} key provider (shared provider suite)`, () => {
    let ctx: TestContext;
    let owner: TestUser;
    let env: Record<string, string>;

    beforeAll(async () => {
      env = await target.start();
      ctx = await startTestContext(env);
      owner = await registerUser(ctx.api, `kms-${target.name}`);
    });
    afterEach(() => target.kms?.recover());
    afterAll(async () => {
      await ctx?.close();
      await target.stop();
    });

    const session = () => ({ session: owner.session });

    async function projectWithSecrets(): Promise<TestProject> {
      const project = await createProject(ctx.api, owner, owner.personalOrg);
      await seedSecrets(ctx.api, session(), owner.personalOrg, project, 'development', VALUES);
      return project;
    }

    const pull = (api: HttpClient, project: TestProject) => api.get(secretsPath(owner.personalOrg, project, 'development'), session());
    const valuesOf = (res: { body: { secrets: { key: string; value: string }[] } }) => Object.fromEntries(res.body.secrets.map((s) => [s.key, s.value]));

    let shared: Promise<HttpClient> | undefined;
    /** A second instance: it has never used the key of a project made after it, so its first pull unwraps. */
    function cold(): Promise<HttpClient> {
      shared ??= ctx.startInstance().then((i) => i.http);
      return shared;
    }

    async function keyRow(projectId: string, version: number) {
      const { rows } = await ctx.db.query('SELECT provider, master_key, wrapped_key, destroyed_at FROM project_keys WHERE project_id = $1 AND version = $2', [
        projectId,
        version,
      ]);
      return rows[0];
    }

    function expectNoValues(text: string) {
      for (const value of Object.values(VALUES)) expect(text).not.toContain(value);
    }

    it('wraps a new project’s key with the provider: the key row names the provider and its master key', async () => {
      const project = await createProject(ctx.api, owner, owner.personalOrg);
      const row = await keyRow(project.id, 1);
      expect(row).toMatchObject({ provider: target.name, master_key: target.masterKeyId(), destroyed_at: null });
      expect(row.wrapped_key.length).toBeGreaterThan(32);
    });

    it('unwraps the key on a cold instance, which then pulls the stored values', async () => {
      const project = await projectWithSecrets();
      const other = await cold();
      const unwraps = target.kms?.unwraps();
      const res = await pull(other, project);
      expect(res.status).toBe(200);
      expect(valuesOf(res)).toEqual(VALUES);
      if (target.kms) {
        expect(target.kms.unwraps()).toBe(unwraps! + 1);
        // Later pulls use the DEK cache.
        expect((await pull(other, project)).status).toBe(200);
        expect(target.kms.unwraps()).toBe(unwraps! + 1);
      }
    });

    it('rotates the project key: version 2 is wrapped by the provider and pulls keep working', async () => {
      const project = await projectWithSecrets();
      const res = await ctx.api.post(`/v1/projects/${owner.personalOrg.id}/${project.slug}/rotate-key`, undefined, session());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ keyVersion: 2, reencrypted: 2, destroyedVersions: [1] });
      expect(await keyRow(project.id, 2)).toMatchObject({ provider: target.name, master_key: target.masterKeyId() });
      const pulled = await pull(await cold(), project);
      expect(pulled.status).toBe(200);
      expect(valuesOf(pulled)).toEqual(VALUES);
    });

    describe('a wrapped key that does not unwrap', () => {
      it.each([
        [
          'copied from another project (bound to its project)',
          async (target: TestProject, source: TestProject) => {
            await ctx.db.query(
              `UPDATE project_keys t SET wrapped_key = s.wrapped_key FROM project_keys s
              WHERE t.project_id = $1 AND t.version = 1 AND s.project_id = $2 AND s.version = 1`,
              [target.id, source.id],
            );
          },
        ],
        [
          'with a byte of the wrapped key flipped',
          async (target: TestProject) => {
            await ctx.db.query(
              `UPDATE project_keys SET wrapped_key = set_byte(wrapped_key, length(wrapped_key) - 20, get_byte(wrapped_key, length(wrapped_key) - 20) # 1)
              WHERE project_id = $1 AND version = 1`,
              [target.id],
            );
          },
        ],
      ])('fails the pull with a 500 and never returns a value, when %s', async (_case, tamper) => {
        const source = await projectWithSecrets();
        const victim = await projectWithSecrets();
        await tamper(victim, source);
        const other = await cold();

        const res = await pull(other, victim);
        expect(res.status).toBe(500);
        expect(res.body).toMatchObject({ code: 'internal_error', message: 'A project key failed its integrity check' });
        expectNoValues(res.text);
        expect((await pull(other, source)).status).toBe(200);
      });
    });

    describe('the start-up key check', () => {
      it('reports ready with the configured key', async () => {
        const res = await ctx.api.get('/health/ready');
        expect(res.status).toBe(200);
      });

      it('starts with a wrong key, and /health/ready answers 503 saying why (without naming the key)', async () => {
        const wrong = await ctx.startInstance(target.wrongKey.env());
        const res = await wrong.http.get('/health/ready');
        expect(res.status).toBe(503);
        expect(res.body.message).toMatch(target.wrongKey.ready);
        for (const value of Object.values(target.wrongKey.env())) expect(res.text).not.toContain(value);
        await wrong.close();
        ctx.instances.splice(ctx.instances.indexOf(wrong), 1);
      });
    });

    if (!target.kms) return;
    const kms = target.kms;

    describe('when the KMS fails', () => {
      it('answers 503 to creating a project while the KMS is unavailable, and creates nothing', async () => {
        kms.failUnavailable();
        const slug = `down-${Date.now()}`;
        const res = await ctx.api.post(`/v1/projects/${owner.personalOrg.id}`, { name: slug, slug }, session());
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ code: 'service_unavailable', message: `The key management service (${target.name}) is unavailable; try again later` });
        const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM projects WHERE slug = $1', [slug]);
        expect(rows[0].n).toBe(0);
      });

      it('answers 503 with no value to a pull that needs an uncached key, after at most 3 attempts, and recovers', async () => {
        const project = await projectWithSecrets();
        const other = await cold();
        kms.failUnavailable();
        const before = kms.unwraps();

        const res = await pull(other, project);
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('service_unavailable');
        expect(res.body.secrets).toBeUndefined();
        expectNoValues(res.text);
        // The SDK's retries ran, bounded: 1 attempt + 2 retries.
        expect(kms.unwraps() - before).toBeGreaterThanOrEqual(2);
        expect(kms.unwraps() - before).toBeLessThanOrEqual(3);

        kms.recover();
        const retried = await pull(other, project);
        expect(retried.status).toBe(200);
        expect(valuesOf(retried)).toEqual(VALUES);
      });

      it('refuses to store a secret while the KMS is down rather than storing it unencrypted', async () => {
        const project = await createProject(ctx.api, owner, owner.personalOrg);
        kms.failUnavailable();
        const res = await ctx.api.put(secretsPath(owner.personalOrg, project, 'development'), { key: 'API_KEY', value: VALUES.API_KEY }, session());
        expect(res.status).toBe(503);
        expectNoValues(res.text);
        const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM secret_versions WHERE project_id = $1', [project.id]);
        expect(rows[0].n).toBe(0);
      });

      it('answers 503 when the KMS endpoint refuses connections, and reports it in /health/ready', async () => {
        const project = await projectWithSecrets();
        const { env: elsewhere, sameKey } = await kms.unreachable();
        const unreachable = await ctx.startInstance(elsewhere);

        const created = await unreachable.http.post(
          `/v1/projects/${owner.personalOrg.id}`,
          { name: 'unreachable', slug: `unreachable-${Date.now()}` },
          session(),
        );
        expect(created.status).toBe(503);
        const pulled = await pull(unreachable.http, project);
        // Another key (Azure: another vault URL) is refused before any KMS call (500, like a wrong key).
        expect(pulled.status).toBe(sameKey ? 503 : 500);
        expectNoValues(pulled.text);
        const ready = await unreachable.http.get('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body.message).toMatch(new RegExp(`key provider ${target.name}: (unreachable|the configured key was refused)`));
      });
    });
  });
}
