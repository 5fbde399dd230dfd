import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliFailure, ExitCode, usageError } from './errors.js';

export const DEFAULT_API_URL = 'https://api.secr.dev';
export const LINK_FILE = '.secr.json';

/** What `secr login` stores (mode 0600). */
export interface StoredCredentials {
  apiUrl: string;
  /** A `secr_cli_…` (or, with `login --token`, any `secr_…`) token. */
  token: string;
  /** The token's id when `secr login` minted it: `secr logout` revokes it by id. */
  tokenId?: string;
  email?: string;
  createdAt: string;
}

/** `$SECR_CONFIG_DIR`, else `$XDG_CONFIG_HOME/secr`, else `~/.config/secr`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SECR_CONFIG_DIR) return env.SECR_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'secr');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'credentials.json');
}

export async function readCredentials(env: NodeJS.ProcessEnv = process.env): Promise<StoredCredentials | null> {
  const file = credentialsPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as StoredCredentials;
    if (typeof parsed.token !== 'string') throw new Error('no token');
    return parsed;
  } catch {
    throw new CliFailure(`${file} is not a valid credentials file: run \`secr login\` again`, 'bad_credentials_file', ExitCode.Unauthenticated);
  }
}

/**
 * Stores the login. The token goes into a new file (`wx`: never an existing file, nor a symlink planted
 * where the temp file goes) created with mode 0600, which then replaces credentials.json by rename: a
 * credentials.json that is a symlink is replaced, not followed, and no reader sees a half-written file.
 * The config directory is tightened to 0700 (mkdir's mode applies only to a directory it creates).
 */
export async function writeCredentials(credentials: StoredCredentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPERM') throw error; // a directory of someone else's ($SECR_CONFIG_DIR): left as it is
  });
  const file = credentialsPath(env);
  const temp = path.join(dir, `.credentials.json.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return file;
}

export async function deleteCredentials(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await rm(credentialsPath(env), { force: true });
}

/** `.secr.json`: which org, project and default environment a directory works with. Never a secret. */
export interface ProjectLink {
  org: string;
  project: string;
  environment: string;
}

/** The nearest `.secr.json` from `cwd` upward, or null. */
export async function findLink(cwd = process.cwd()): Promise<{ file: string; link: ProjectLink } | null> {
  let dir = path.resolve(cwd);
  for (;;) {
    const file = path.join(dir, LINK_FILE);
    if (existsSync(file)) return { file, link: await readLink(file) };
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

async function readLink(file: string): Promise<ProjectLink> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ProjectLink>;
    return { org: parsed.org ?? '', project: parsed.project ?? '', environment: parsed.environment ?? '' };
  } catch (error) {
    throw usageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function writeLink(dir: string, link: ProjectLink): Promise<string> {
  const file = path.join(dir, LINK_FILE);
  const content: ProjectLink = { org: link.org, project: link.project, environment: link.environment };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}
