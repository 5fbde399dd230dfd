import { FakeKeyVault } from './support/fake-key-vault.js';
import { describeKeyProvider } from './support/key-provider-suite.js';
import { freePort } from './support/server-process.js';
import { setHostProcessEnv } from './support/test-app.js';

let vault: FakeKeyVault;
let restoreEnv: (() => Promise<void>) | undefined;

/**
 * The shared provider suite against the `azure` provider: the real @azure/identity (managed identity,
 * App Service flow) and @azure/keyvault-keys clients against a local HTTPS Key Vault.
 */
describeKeyProvider({
  name: 'azure',
  async start() {
    vault = await FakeKeyVault.start();
    // The app host trusts the vault's certificate, as an operator adds a private CA to a server's trust store.
    restoreEnv = await setHostProcessEnv(vault.credentialEnv, vault.ca);
    return { KMS_PROVIDER: 'azure', KMS_AZURE_KEY_ID: vault.keyId };
  },
  async stop() {
    await vault?.stop();
    await restoreEnv?.();
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
