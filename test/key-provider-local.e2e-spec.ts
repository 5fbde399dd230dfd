import { LocalKeyProvider } from '../src/modules/keys/local-key-provider.js';
import { describeKeyProvider } from './support/key-provider-suite.js';
import { TEST_MASTER_KEY } from './support/test-app.js';

/** The shared provider suite against the `local` provider (AES-256-GCM under SECR_MASTER_KEY). */
describeKeyProvider({
  name: 'local',
  start: async () => ({ KMS_PROVIDER: 'local' }),
  stop: async () => undefined,
  masterKeyId: () => new LocalKeyProvider(TEST_MASTER_KEY).masterKeyId,
  wrongKey: {
    env: () => ({ SECR_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') }),
    ready: /stored key\(s\) are wrapped by a key provider this server is not configured with/,
  },
});
