import { randomUUID } from 'node:crypto';
import { FakeAwsKms } from './support/fake-aws-kms.js';
import { describeKeyProvider } from './support/key-provider-suite.js';
import { setHostProcessEnv } from './support/test-app.js';

let kms: FakeAwsKms;
let restoreEnv: (() => Promise<void>) | undefined;

/** The shared provider suite against the `aws` provider: the real @aws-sdk/client-kms against a local KMS JSON API. */
describeKeyProvider({
  name: 'aws',
  async start() {
    // The SDK's default chain finds these first: no shared config, SSO, ECS or IMDS (169.254.169.254) look-up.
    restoreEnv = await setHostProcessEnv({
      AWS_ACCESS_KEY_ID: 'AKIDSECRTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret-access-key',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    kms = await FakeAwsKms.start('eu-west-1');
    return { KMS_PROVIDER: 'aws', KMS_AWS_KEY_ID: kms.keyArn, KMS_AWS_REGION: kms.region, KMS_AWS_ENDPOINT: kms.endpoint };
  },
  async stop() {
    await kms?.stop();
    await restoreEnv?.();
  },
  masterKeyId: () => kms.keyArn,
  wrongKey: {
    env: () => ({ KMS_AWS_KEY_ID: `arn:aws:kms:eu-west-1:111122223333:key/${randomUUID()}` }),
    ready: /key provider aws: the configured key was refused/,
  },
  kms: {
    unwraps: () => kms.count('Decrypt'),
    failUnavailable: () => kms.failWith(503, 'KMSInternalException'),
    recover: () => kms.recover(),
    async unreachable() {
      const gone = await FakeAwsKms.start('eu-west-1');
      const endpoint = gone.endpoint;
      await gone.stop();
      return { env: { KMS_AWS_ENDPOINT: endpoint }, sameKey: true };
    },
  },
});
