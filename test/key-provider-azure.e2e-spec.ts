import { FakeKeyVault } from './support/fake-key-vault.js';
import { describeKeyProvider } from './support/key-provider-suite.js';
import { setProcessEnv } from './support/process-env.js';
import { freePort } from './support/server-process.js';

let vault: FakeKeyVault;
let restoreEnv: () => void;

/**
 * The shared provider suite against the `azure` provider: the real @azure/identity (managed identity,
 * App Service flow) and @azure/keyvault-keys clients against a local HTTPS Key Vault.
 */
describeKeyProvider({
  name: 'azure',
  async start() {
    vault = await FakeKeyVault.start();
    restoreEnv = setProcessEnv(vault.credentialEnv);
    return { KMS_PROVIDER: 'azure', KMS_AZURE_KEY_ID: vault.keyId };
  },
  async stop() {
    await vault?.stop();
    restoreEnv?.();
  },
  masterKeyId: () => vault.keyId,
  wrongKey: {
    env: () => ({ KMS_AZURE_KEY_ID: `${vault.vaultUrl}/keys/no-such-key` }),
    ready: /key provider azure: the configured key was refused/,
  },
  kms: {
    unwraps: () => vault.calls.filter((c) => c.method === 'unwrapkey' && c.authorized).length,
    failUnavailable: () => vault.failWith(503),
    recover: () => vault.recover(),
    async unreachable() {
      return { env: { KMS_AZURE_KEY_ID: `https://127.0.0.1:${await freePort()}/keys/${vault.keyName}` }, sameKey: false };
    },
  },
});
