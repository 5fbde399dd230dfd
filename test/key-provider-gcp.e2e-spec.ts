import { status as GrpcStatus } from '@grpc/grpc-js';
import { FakeCloudKms } from './support/fake-cloud-kms.js';
import { describeKeyProvider } from './support/key-provider-suite.js';
import { setHostProcessEnv } from './support/test-app.js';

const KEY_NAME = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';
let kms: FakeCloudKms;
let restoreEnv: (() => Promise<void>) | undefined;

/** The shared provider suite against the `gcp` provider (its own details: kms-gcp.e2e-spec.ts). */
describeKeyProvider({
  name: 'gcp',
  async start() {
    restoreEnv = await setHostProcessEnv({ METADATA_SERVER_DETECTION: 'none' });
    kms = await FakeCloudKms.start(KEY_NAME);
    return { KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: KEY_NAME, KMS_GCP_ENDPOINT: kms.endpoint };
  },
  async stop() {
    kms?.stop();
    await restoreEnv?.();
  },
  masterKeyId: () => KEY_NAME,
  wrongKey: {
    env: () => ({ KMS_GCP_KEY_NAME: 'projects/p/locations/global/keyRings/r/cryptoKeys/missing' }),
    ready: /key provider gcp: the configured key was refused/,
  },
  kms: {
    unwraps: () => kms.count('Decrypt'),
    failUnavailable: () => kms.failWith(GrpcStatus.UNAVAILABLE),
    recover: () => kms.recover(),
    async unreachable() {
      const gone = await FakeCloudKms.start(KEY_NAME);
      gone.stop();
      return { env: { KMS_GCP_ENDPOINT: gone.endpoint }, sameKey: true };
    },
  },
});
