/**
 * What `secr run` does between the pull and the child, shared by commands/run.ts (oclif) and
 * fast-run.ts: the offline fallback (lib/fallback.ts), `--only`/`--exclude` and reserved variables
 * (lib/inject.ts), `--mount` (lib/mount.ts). Each is off unless its flag is given; without any, a run
 * pulls, injects and writes nothing to disk, as before.
 */
import { CliFailure, usageError } from './errors.js';
import type { SecretMap } from './formats.js';
import * as fallback from './fallback.js';
import { childEnv, parseKeyList, selectSecrets } from './inject.js';
import { checkMountFormat, mountSecrets } from './mount.js';
import { runChild, type ChildOutcome } from './run-child.js';
import type { Target } from './target.js';

/** The flags (as oclif names them) this module reads. */
export interface RunOptionFlags {
  'preserve-env'?: boolean;
  'allow-reserved'?: boolean;
  /** Leave SECR_TOKEN (and SECR_ID_TOKEN, SECR_OIDC) in the command's environment. */
  'pass-token'?: boolean;
  only?: string;
  exclude?: string;
  fallback?: boolean;
  'fallback-file'?: string;
  'fallback-max-age'?: string;
  'fallback-only'?: boolean;
  mount?: string;
  'mount-fifo'?: boolean;
  format?: string;
  /** Inject the stored text: references (`${KEY}`, `${env.KEY}`) left unresolved. */
  raw?: boolean;
}

/** How the argv splitter sees them: which take a value. `--fallback` takes one only as `--fallback=<path>`. */
export const RUN_OPTION_SHAPES: Record<keyof RunOptionFlags, { type: 'option' | 'boolean' }> = {
  'preserve-env': { type: 'boolean' },
  'allow-reserved': { type: 'boolean' },
  'pass-token': { type: 'boolean' },
  only: { type: 'option' },
  exclude: { type: 'option' },
  fallback: { type: 'boolean' },
  'fallback-file': { type: 'option' },
  'fallback-max-age': { type: 'option' },
  'fallback-only': { type: 'boolean' },
  mount: { type: 'option' },
  'mount-fifo': { type: 'boolean' },
  format: { type: 'option' },
  raw: { type: 'boolean' },
};

/** `--fallback=<path>` → `--fallback --fallback-file=<path>` (oclif has no flag with an optional value). */
export function expandFallbackFlag(own: string[]): string[] {
  return own.flatMap((word) => {
    const match = /^--fallback=(.*)$/s.exec(word);
    return match ? ['--fallback', `--fallback-file=${match[1]}`] : [word];
  });
}

const warn = (message: string) => void process.stderr.write(`${message}\n`);

/**
 * The secrets the command gets: pulled (or, on an outage, from the fallback copy), then narrowed by
 * `--only`/`--exclude`. Flags are checked before anything is pulled.
 */
export async function secretsForRun(flags: RunOptionFlags, target: Target, token: string, pull: () => Promise<SecretMap>): Promise<SecretMap> {
  const selection = { only: parseKeyList(flags.only, '--only'), exclude: parseKeyList(flags.exclude, '--exclude') };
  if (selection.only && selection.exclude) throw usageError('Pass either --only or --exclude, not both');
  if ((flags['mount-fifo'] || flags.format) && !flags.mount) throw usageError(`${flags.format ? '--format' : '--mount-fifo'} goes with --mount <path>`);
  if (flags.mount) checkMountFormat(flags.format);
  const wantsFallback = flags.fallback || flags['fallback-only'] || flags['fallback-file'] !== undefined;
  // One fallback copy per environment: it holds resolved values, which a raw run must not mix with.
  if (wantsFallback && flags.raw) throw usageError('--raw does not go with --fallback');
  if (!wantsFallback && flags['fallback-max-age'] !== undefined) throw usageError('--fallback-max-age goes with --fallback');
  let secrets: SecretMap;
  if (wantsFallback) {
    const maxAge = flags['fallback-max-age'] ?? fallback.DEFAULT_MAX_AGE;
    const options = {
      file: flags['fallback-file'] || fallback.defaultFallbackPath(target),
      maxAgeMs: fallback.parseDuration(maxAge, '--fallback-max-age'),
      maxAge,
      token,
      target,
    };
    secrets = await fallback.pullWithFallback(pull, options, !!flags['fallback-only'], warn);
  } else {
    secrets = await pull();
  }
  return selectSecrets(secrets, selection);
}

/**
 * `--watch`'s view of the flags: the command's environment for each pull (narrowed by `--only`/`--exclude`,
 * reserved names left out with a warning unless `--allow-reserved`, secr's credentials unless `--pass-token`). `--mount` and `--fallback` run once,
 * from one pull, so they do not combine with `--watch`.
 */
export function watchedEnvironment(flags: RunOptionFlags): (secrets: Array<{ key: string; value: string }>) => { env: NodeJS.ProcessEnv; injected: string[] } {
  const selection = { only: parseKeyList(flags.only, '--only'), exclude: parseKeyList(flags.exclude, '--exclude') };
  if (selection.only && selection.exclude) throw usageError('Pass either --only or --exclude, not both');
  const other = (['mount', 'fallback', 'fallback-only', 'fallback-file'] as const).find((name) => flags[name]);
  if (other) throw usageError(`--watch does not combine with --${other === 'fallback-file' ? 'fallback' : other}`);
  return (secrets) =>
    childEnv(process.env, selectSecrets(Object.fromEntries(secrets.map((s) => [s.key, s.value])), selection), {
      preserveEnv: flags['preserve-env'],
      allowReserved: flags['allow-reserved'],
      passToken: flags['pass-token'],
      warn,
    });
}

/**
 * Runs the command with the secrets in its environment (reserved names left out with a warning unless
 * `--allow-reserved`; secr's own credentials left out unless `--pass-token`) and, with `--mount`, in a file or pipe removed when it ends.
 */
export async function runWithSecrets(
  command: string,
  args: string[],
  secrets: SecretMap,
  flags: RunOptionFlags,
): Promise<ChildOutcome & { injected: string[] }> {
  const { env, injected } = childEnv(process.env, secrets, {
    preserveEnv: flags['preserve-env'],
    allowReserved: flags['allow-reserved'],
    passToken: flags['pass-token'],
    warn,
  });
  let mount: { close(): Promise<void> } | undefined;
  if (flags.mount) {
    mount = await mountSecrets({ path: flags.mount, format: checkMountFormat(flags.format), fifo: !!flags['mount-fifo'] }, secrets);
  }
  try {
    const outcome = await runChild(command, args, env).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new CliFailure(`Command not found: ${command}`, 'command_not_found', 127);
      if (error.code === 'EACCES') throw new CliFailure(`Permission denied: ${command}`, 'command_not_executable', 126);
      throw error;
    });
    return { ...outcome, injected };
  } finally {
    await mount?.close();
  }
}
