import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { registerUser, type TestUser } from './factories/accounts.js';
import { createProject, secretsPath, seedSecrets, type TestProject } from './factories/vault.js';
import { crc32c, FakeCloudKms } from './support/fake-cloud-kms.js';
import type { HttpClient } from './support/http.js';
// The apps run in this worker's app host; its GCP client reads METADATA_SERVER_DETECTION from the host's environment.
import { setHostProcessEnv, startTestContext, type TestContext } from './support/test-app.js';

const KEY_NAME = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';
const VALUES = { DATABASE_URL: 'postgres://app:s3cr3t-db-password@db/app', API_KEY: 'sk-live-9f8e7d6c5b4a' };

/** The AAD the gcp provider binds a wrapped DEK to (gcp-kms-key-provider.ts). */
function dekAad(projectId: string, version: number): string {
  return `secr:dek:v1:${projectId}:${version}`;
}

/** DESIGN.md §4: the `gcp` KeyProvider, the real @google-cloud/kms client against a local gRPC KMS. */
describe('gcp key provider (Cloud KMS)', () => {
  let kms: FakeCloudKms;
  let ctx: TestContext;
  let owner: TestUser;
  const metadataDetection = process.env.METADATA_SERVER_DETECTION;
  let restoreHostEnv: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // No credentials lookup against a GCE metadata server (the loopback endpoint needs none): by the
    // apps' client (in the app host) and by this file's own client (the fake's protocol tests below).
    process.env.METADATA_SERVER_DETECTION = 'none';
    restoreHostEnv = await setHostProcessEnv({ METADATA_SERVER_DETECTION: 'none' });
    kms = await FakeCloudKms.start(KEY_NAME);
    ctx = await startTestContext({ KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: KEY_NAME, KMS_GCP_ENDPOINT: kms.endpoint });
    owner = await registerUser(ctx.api, 'kms');
  });
  afterEach(() => kms.recover());
  afterAll(async () => {
    await ctx?.close();
    kms?.stop();
    await restoreHostEnv?.();
    if (metadataDetection === undefined) delete process.env.METADATA_SERVER_DETECTION;
    else process.env.METADATA_SERVER_DETECTION = metadataDetection;
  });

  const session = () => ({ session: owner.session });

  async function projectWithSecrets(api: HttpClient = ctx.api): Promise<TestProject> {
    const project = await createProject(api, owner, owner.personalOrg);
    await seedSecrets(api, session(), owner.personalOrg, project, 'development', VALUES);
    return project;
  }

  function pull(api: HttpClient, project: TestProject) {
    return api.get(secretsPath(owner.personalOrg, project, 'development'), session());
  }

  /** A new app instance: its DEK cache is empty, so its first use of a key asks KMS. */
  async function coldInstance(env: Record<string, string> = {}): Promise<HttpClient> {
    return (await ctx.startInstance(env)).http;
  }

  let second: Promise<HttpClient> | undefined;
  /**
   * A second instance, shared by the tests that need no settings of their own: it has never used the key
   * of a project made after it by the first instance (each test makes its own), so its first pull of
   * that project asks KMS, as a cold instance would.
   */
  function coldFor(): Promise<HttpClient> {
    second ??= coldInstance();
    return second;
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

  it('wraps a new project’s key with Cloud KMS Encrypt, bound to the project id and key version', async () => {
    const encrypts = kms.count('Encrypt');
    const project = await createProject(ctx.api, owner, owner.personalOrg);

    expect(kms.count('Encrypt')).toBe(encrypts + 1);
    const call = kms.last('Encrypt')!;
    expect(call.name).toBe(KEY_NAME);
    expect(call.aad.toString()).toBe(dekAad(project.id, 1));
    const row = await keyRow(project.id, 1);
    expect(row).toMatchObject({ provider: 'gcp', master_key: KEY_NAME, destroyed_at: null });
    expect(row.wrapped_key.equals(call.ciphertext)).toBe(true);
  });

  it('unwraps the key with Decrypt on first use and serves later pulls from the DEK cache', async () => {
    const project = await createProject(ctx.api, owner, owner.personalOrg);
    const wrapped: Buffer = (await keyRow(project.id, 1)).wrapped_key;

    let decrypts = kms.count('Decrypt');
    await seedSecrets(ctx.api, session(), owner.personalOrg, project, 'development', VALUES);
    expect(kms.count('Decrypt')).toBe(decrypts + 1);
    const call = kms.last('Decrypt')!;
    expect(call).toMatchObject({ name: KEY_NAME, code: GrpcStatus.OK });
    expect(call.aad.toString()).toBe(dekAad(project.id, 1));
    expect(call.ciphertext!.equals(wrapped)).toBe(true);

    const other = await coldFor();
    decrypts = kms.count('Decrypt');
    const first = await pull(other, project);
    expect(first.status).toBe(200);
    expect(Object.fromEntries(first.body.secrets.map((s: { key: string; value: string }) => [s.key, s.value]))).toEqual(VALUES);
    expect(kms.count('Decrypt')).toBe(decrypts + 1);

    const second = await pull(other, project);
    const again = await pull(ctx.api, project);
    expect([second.status, again.status]).toEqual([200, 200]);
    expect(second.body.secrets).toEqual(first.body.secrets);
    expect(kms.count('Decrypt')).toBe(decrypts + 1);
  });

  it('rotates the project key: the new version is wrapped with Encrypt, the old one destroyed', async () => {
    const project = await projectWithSecrets();
    const encrypts = kms.count('Encrypt');

    const res = await ctx.api.post(`/v1/projects/${owner.personalOrg.id}/${project.slug}/rotate-key`, undefined, session());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ keyVersion: 2, reencrypted: 2, destroyedVersions: [1] });

    expect(kms.count('Encrypt')).toBe(encrypts + 1);
    const encrypt = kms.last('Encrypt')!;
    expect(encrypt.aad.toString()).toBe(dekAad(project.id, 2));
    const v2 = await keyRow(project.id, 2);
    expect(v2).toMatchObject({ provider: 'gcp', master_key: KEY_NAME });
    expect(v2.wrapped_key.equals(encrypt.ciphertext)).toBe(true);
    const v1 = await keyRow(project.id, 1);
    expect(v1.wrapped_key).toBeNull();
    expect(v1.destroyed_at).toBeInstanceOf(Date);

    const other = await coldFor();
    const before = kms.calls.length;
    const pulled = await pull(other, project);
    expect(pulled.status).toBe(200);
    expect(pulled.body.secrets.map((s: { value: string }) => s.value).sort()).toEqual(Object.values(VALUES).sort());
    const used = kms.calls.slice(before);
    expect(used.map((c) => [c.method, c.aad.toString()])).toEqual([['Decrypt', dekAad(project.id, 2)]]);
  });

  describe('when Cloud KMS fails', () => {
    it('answers 503 to creating a project while KMS is UNAVAILABLE, and creates nothing', async () => {
      kms.failWith(GrpcStatus.UNAVAILABLE);
      const slug = `down-${Date.now()}`;
      const res = await ctx.api.post(`/v1/projects/${owner.personalOrg.id}`, { name: slug, slug }, session());

      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, code: 'service_unavailable' });
      expect(res.body.message).toMatch(/key management service \(gcp\) is unavailable/);
      expect(kms.last('Encrypt')!.code).toBe(GrpcStatus.UNAVAILABLE);
      const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM projects WHERE slug = $1', [slug]);
      expect(rows[0].n).toBe(0);
    });

    it('answers 503 with no secret value to a pull that needs an uncached key, and recovers with KMS', async () => {
      const project = await projectWithSecrets();
      const other = await coldFor();
      kms.failWith(GrpcStatus.UNAVAILABLE);

      const decrypts = kms.count('Decrypt');
      const res = await pull(other, project);
      expect(res.status).toBe(503);
      // A few retries (maxRetries 2), not the client's default of retrying for 10 minutes.
      expect(kms.count('Decrypt') - decrypts).toBeGreaterThanOrEqual(1);
      expect(kms.count('Decrypt') - decrypts).toBeLessThanOrEqual(3);
      expect(res.body).toMatchObject({ code: 'service_unavailable', message: expect.stringMatching(/key management service \(gcp\) is unavailable/) });
      expect(res.body.secrets).toBeUndefined();
      expectNoValues(res.text);
      expect(kms.last('Decrypt')!.code).toBe(GrpcStatus.UNAVAILABLE);

      // The failure was not cached: once KMS answers again, so does the pull.
      kms.recover();
      const retried = await pull(other, project);
      expect(retried.status).toBe(200);
      expect(retried.body.secrets).toHaveLength(2);
    });

    it('refuses to store a secret while KMS is down rather than writing it unencrypted', async () => {
      const project = await createProject(ctx.api, owner, owner.personalOrg);
      kms.failWith(GrpcStatus.UNAVAILABLE);

      const res = await ctx.api.put(secretsPath(owner.personalOrg, project, 'development'), { key: 'API_KEY', value: VALUES.API_KEY }, session());
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('service_unavailable');
      expectNoValues(res.text);
      const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM secret_versions WHERE project_id = $1', [project.id]);
      expect(rows[0].n).toBe(0);
    });

    it('answers 503 when the KMS endpoint does not answer at all (connection refused)', async () => {
      const project = await projectWithSecrets();
      const gone = await FakeCloudKms.start(KEY_NAME);
      gone.stop();
      const unreachable = await coldInstance({ KMS_GCP_ENDPOINT: gone.endpoint });

      const created = await unreachable.post(`/v1/projects/${owner.personalOrg.id}`, { name: 'unreachable', slug: `unreachable-${Date.now()}` }, session());
      expect(created.status).toBe(503);
      expect(created.body.code).toBe('service_unavailable');

      const pulled = await pull(unreachable, project);
      expect(pulled.status).toBe(503);
      expect(pulled.body.code).toBe('service_unavailable');
      expectNoValues(pulled.text);
    });
  });

  describe('a wrapped key that does not decrypt', () => {
    it.each([
      [
        'copied from another project (the AAD does not match)',
        async (target: TestProject, source: TestProject) => {
          await ctx.db.query(
            `UPDATE project_keys t SET wrapped_key = s.wrapped_key FROM project_keys s
            WHERE t.project_id = $1 AND t.version = 1 AND s.project_id = $2 AND s.version = 1`,
            [target.id, source.id],
          );
        },
      ],
      [
        'with a byte of the ciphertext flipped',
        async (target: TestProject) => {
          await ctx.db.query(
            `UPDATE project_keys SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1) WHERE project_id = $1 AND version = 1`,
            [target.id],
          );
        },
      ],
    ])('fails the pull with a 500 and never returns a value, when %s', async (_case, tamper) => {
      const source = await projectWithSecrets();
      const target = await projectWithSecrets();
      await tamper(target, source);
      const other = await coldFor();

      const res = await pull(other, target);
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ code: 'internal_error', message: 'A project key failed its integrity check' });
      expectNoValues(res.text);
      const call = kms.last('Decrypt')!;
      expect(call.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(call.aad.toString()).toBe(dekAad(target.id, 1));

      // The source project is untouched.
      expect((await pull(other, source)).status).toBe(200);
    });

    it('refuses a key wrapped under another KMS key without asking KMS to try it', async () => {
      const project = await projectWithSecrets();
      const elsewhere = await coldInstance({ KMS_GCP_KEY_NAME: 'projects/p/locations/global/keyRings/r/cryptoKeys/other' });
      const calls = kms.calls.length;

      const res = await pull(elsewhere, project);
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('internal_error');
      expectNoValues(res.text);
      expect(kms.calls.length).toBe(calls);
    });
  });

  /** The fake is only worth something if it answers like Cloud KMS: checked with the real client. */
  describe('the fake Cloud KMS', () => {
    let client: KeyManagementServiceClient;
    beforeAll(() => {
      client = new KeyManagementServiceClient({ apiEndpoint: '127.0.0.1', port: kms.port, sslCreds: credentials.createInsecure() });
    });
    afterAll(() => client.close());

    it('returns the key version used and checksums, and verifies the checksums it is sent', async () => {
      const plaintext = Buffer.from('key material');
      const aad = Buffer.from('context');
      const [encrypted] = await client.encrypt({
        name: KEY_NAME,
        plaintext,
        additionalAuthenticatedData: aad,
        plaintextCrc32c: { value: crc32c(plaintext) },
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      });
      const ciphertext = Buffer.from(encrypted.ciphertext as Uint8Array);
      expect(encrypted).toMatchObject({
        name: `${KEY_NAME}/cryptoKeyVersions/1`,
        verifiedPlaintextCrc32c: true,
        verifiedAdditionalAuthenticatedDataCrc32c: true,
      });
      expect(Number(encrypted.ciphertextCrc32c!.value)).toBe(crc32c(ciphertext));

      const [decrypted] = await client.decrypt({ name: KEY_NAME, ciphertext, additionalAuthenticatedData: aad });
      expect(Buffer.from(decrypted.plaintext as Uint8Array).equals(plaintext)).toBe(true);
      expect(Number(decrypted.plaintextCrc32c!.value)).toBe(crc32c(plaintext));

      await expect(client.encrypt({ name: KEY_NAME, plaintext, plaintextCrc32c: { value: crc32c(plaintext) + 1 } })).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
    });

    it('answers NOT_FOUND for another key, INVALID_ARGUMENT for another AAD, UNIMPLEMENTED for other methods', async () => {
      const [encrypted] = await client.encrypt({ name: KEY_NAME, plaintext: Buffer.from('x'), additionalAuthenticatedData: Buffer.from('a') });
      await expect(client.encrypt({ name: `${KEY_NAME}-other`, plaintext: Buffer.from('x') })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
      await expect(client.decrypt({ name: KEY_NAME, ciphertext: encrypted.ciphertext, additionalAuthenticatedData: Buffer.from('b') })).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
      await expect(client.getCryptoKey({ name: KEY_NAME })).rejects.toMatchObject({ code: GrpcStatus.UNIMPLEMENTED });
    });
  });
});
