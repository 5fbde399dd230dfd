import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  // The app hosts close the apps a failed file left open, then exit: waited for, so none outlives the run.
  await Promise.all(
    (globalThis.__secrAppHosts ?? []).map(
      (child) =>
        new Promise((resolve) =>
          child.exitCode !== null || child.signalCode !== null ? resolve() : (child.ref(), child.once('exit', resolve), child.kill('SIGTERM')),
        ),
    ),
  );
  await globalThis.__secrTestPg?.stop();
  const { dataDir } = JSON.parse(process.env.SECR_TEST_PG ?? '{}');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  const deprecations = globalThis.__secrDeprecations ?? [];
  if (deprecations.length)
    throw new Error(`The test apps raised ${deprecations.length} deprecation warning(s); each will break on an upgrade:\n\n${deprecations.join('\n\n')}`);
}
