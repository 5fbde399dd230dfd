/**
 * `secr run --fallback`: an encrypted copy of the last good pull, used only when the API cannot be
 * reached (network error, time-out, 5xx) and only while it is younger than `--fallback-max-age`.
 *
 * The file is useless without the token that wrote it: AES-256-GCM under a key derived from the token
 * with HKDF-SHA256 and a random salt per write, the target (org/project/env) bound as additional data;
 * the time of the pull is inside the ciphertext, so it cannot be moved forward either. Written
 * atomically (a 0600 temp file, fsync, rename) in a 0700 directory. Nothing is written without the flag.
 * node:crypto is loaded only when a copy is written or read: `secr run` without the flag does not pay for it.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { configDir } from './config.js';
import { CliFailure, ExitCode, isOutage, usageError } from './errors.js';
import type { SecretMap } from './formats.js';
import type { Target } from './target.js';

export const DEFAULT_MAX_AGE = '24h';
const FORMAT = 'secr-fallback';
const VERSION = 1;
const HKDF_INFO = 'secr run fallback v1';

export interface FallbackOptions {
  file: string;
  maxAgeMs: number;
  /** As given (`24h`), for messages. */
  maxAge: string;
  token: string;
  target: Target;
}

interface FallbackFile {
  format: typeof FORMAT;
  version: number;
  kdf: 'hkdf-sha256';
  cipher: 'aes-256-gcm';
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

interface FallbackContent {
  savedAt: string;
  secrets: SecretMap;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `24h`, `7d` (also `1.5h`) in milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2]] : NaN;
  if (!(ms > 0)) throw usageError(`${flag} must be a duration such as 30m, 24h or 7d (got '${value}')`);
  return ms;
}

/** `2d 3h`, `4h 0m`, `35s`: the largest unit that is not zero, and the next one. */
export function formatAge(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const units = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const;
  const first = units.findIndex(([, seconds]) => total >= seconds);
  if (first === -1 || first === units.length - 1) return `${total}s`;
  const [unit, seconds] = units[first];
  const [nextUnit, nextSeconds] = units[first + 1];
  return `${Math.floor(total / seconds)}${unit} ${Math.floor((total % seconds) / nextSeconds)}${nextUnit}`;
}

/** A name that is one safe path segment whatever the user typed (`../x` included). */
const segment = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** `<config dir>/fallback/<org>/<project>/<env>.json`. */
export function defaultFallbackPath(target: Target, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'fallback', segment(target.org), segment(target.project), `${segment(target.env)}.json`);
}

const aad = (target: Target) => Buffer.from(`secr:fallback:v${VERSION}:${target.org}/${target.project}/${target.env}`);
const crypto = () => import('node:crypto');
const deriveKey = async (token: string, salt: Buffer) => Buffer.from((await crypto()).hkdfSync('sha256', Buffer.from(token, 'utf8'), salt, HKDF_INFO, 32));

export async function encryptFallback(secrets: SecretMap, token: string, target: Target, savedAt: Date): Promise<string> {
  const { createCipheriv, randomBytes } = await crypto();
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(token, salt), iv).setAAD(aad(target));
  const content: FallbackContent = { savedAt: savedAt.toISOString(), secrets };
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(content), 'utf8'), cipher.final()]);
  const file: FallbackFile = {
    format: FORMAT,
    version: VERSION,
    kdf: 'hkdf-sha256',
    cipher: 'aes-256-gcm',
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  return `${JSON.stringify(file)}\n`;
}

/** The content, or null when the file is not one of ours or this token and target do not open it. */
export async function decryptFallback(text: string, token: string, target: Target): Promise<FallbackContent | null> {
  const { createDecipheriv } = await crypto();
  try {
    const file = JSON.parse(text) as FallbackFile;
    if (file.format !== FORMAT || file.version !== VERSION) return null;
    const key = await deriveKey(token, Buffer.from(file.salt, 'base64'));
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.iv, 'base64'));
    decipher.setAAD(aad(target)).setAuthTag(Buffer.from(file.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    const content = JSON.parse(plain) as FallbackContent;
    return typeof content.savedAt === 'string' && content.secrets && typeof content.secrets === 'object' ? content : null;
  } catch {
    return null;
  }
}

/** Replaces the copy atomically: a reader sees the old file or the new one, never half of one. */
export async function saveFallback(options: FallbackOptions, secrets: SecretMap, now = new Date()): Promise<void> {
  await mkdir(path.dirname(options.file), { recursive: true, mode: 0o700 });
  const temp = `${options.file}.${process.pid}.${(await crypto()).randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(await encryptFallback(secrets, options.token, options.target, now));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, options.file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

const unusable = (message: string, code: string) => new CliFailure(message, code, ExitCode.Unreachable);

/** The copy's secrets if it exists, opens with this token and is younger than the max age; else a failure (exit 7) that says why. */
export async function loadFallback(options: FallbackOptions, why: string, now = Date.now()): Promise<{ secrets: SecretMap; savedAt: string; ageMs: number }> {
  let text: string;
  try {
    text = await readFile(options.file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw unusable(`${why}, and there is no fallback copy at ${options.file} (one is written by a successful \`secr run --fallback\`)`, 'fallback_missing');
    throw unusable(`${why}, and the fallback copy at ${options.file} cannot be read (${code ?? (error as Error).message})`, 'fallback_unreadable');
  }
  const content = await decryptFallback(text, options.token, options.target);
  if (!content) {
    throw unusable(
      `${why}, and the fallback copy at ${options.file} cannot be decrypted with this token for ${options.target.org}/${options.target.project}/${options.target.env} (written with another token, or damaged)`,
      'fallback_unreadable',
    );
  }
  const ageMs = now - Date.parse(content.savedAt);
  if (!(ageMs <= options.maxAgeMs)) {
    throw unusable(
      `${why}, and the fallback copy at ${options.file} is ${formatAge(ageMs)} old, older than --fallback-max-age ${options.maxAge}`,
      'fallback_stale',
    );
  }
  return { secrets: content.secrets, savedAt: content.savedAt, ageMs };
}

/**
 * Pulls with `pull`; with a fallback, saves what it got, and on an outage runs from the copy (saying
 * so on stderr) when it is usable. `only` skips the API altogether (`--fallback-only`, for tests).
 */
export async function pullWithFallback(
  pull: () => Promise<SecretMap>,
  fallback: FallbackOptions | undefined,
  only: boolean,
  warn: (message: string) => void,
): Promise<SecretMap> {
  if (!fallback) return pull();
  let why: string;
  if (only) {
    why = 'Running from the fallback copy only (--fallback-only)';
  } else {
    try {
      const secrets = await pull();
      await saveFallback(fallback, secrets).catch((error: NodeJS.ErrnoException) =>
        warn(`secr: could not write the fallback copy at ${fallback.file} (${error.code ?? error.message}); running with what was pulled`),
      );
      return secrets;
    } catch (error) {
      if (!isOutage(error)) throw error;
      why = error.statusCode ? `The API answered ${error.statusCode} (${error.message})` : error.message;
    }
  }
  const copy = await loadFallback(fallback, why);
  warn(`secr: ${why}; running with the fallback copy pulled ${formatAge(copy.ageMs)} ago (${copy.savedAt}) from ${fallback.file}`);
  return copy.secrets;
}
