import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  await globalThis.__secrTestPg?.stop();
  const { dataDir } = JSON.parse(process.env.SECR_TEST_PG ?? '{}');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
