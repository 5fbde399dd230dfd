import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A secret kept in the data dir (mode 0600), generated on first use. Only for the embedded dev mode:
 * production must configure its secrets explicitly.
 */
export async function loadOrCreateDevSecret(dataDir: string, fileName: string, bytes = 32): Promise<{ value: string; created: boolean }> {
  const file = path.join(dataDir, fileName);
  if (existsSync(file)) return { value: (await readFile(file, 'utf8')).trim(), created: false };
  await mkdir(dataDir, { recursive: true });
  const value = randomBytes(bytes).toString('base64');
  await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

/** A secret `loadOrCreateDevSecret` made earlier, or undefined: never creates one. */
export async function readDevSecret(dataDir: string, fileName: string): Promise<string | undefined> {
  const file = path.join(dataDir, fileName);
  return existsSync(file) ? (await readFile(file, 'utf8')).trim() : undefined;
}
