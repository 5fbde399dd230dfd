import { CliFailure, ExitCode, usageError } from './errors.js';
import type { SecretMap } from './formats.js';

/**
 * Variables a secret never overrides in `secr run`'s child unless `--allow-reserved`: those that say
 * who and where the process is (set by the login, the shell or the terminal) and those that make an
 * unrelated program load or run code (the dynamic loader's, the shells' start-up files, Node's and
 * Python's start-up). A secret that shares such a name is almost always a mistake, and one that
 * overrides it could change which binaries run (`PATH`) or inject code into every child (`LD_PRELOAD`,
 * `NODE_OPTIONS`, `BASH_ENV`).
 */
export const RESERVED_VARIABLES: readonly string[] = [
  'PATH',
  'HOME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'USER',
  'LOGNAME',
  'TERM',
  'TMPDIR',
  'LANG',
  'LANGUAGE',
  'IFS',
  'ENV',
  'BASH_ENV',
  'NODE_OPTIONS',
  'PYTHONSTARTUP',
];
/** Name patterns reserved too: the locale (`LC_ALL`, `LC_CTYPE`, …), the dynamic loaders (`LD_…`, macOS `DYLD_…`). */
export const RESERVED_PREFIXES: readonly string[] = ['LC_', 'LD_', 'DYLD_'];

export function isReserved(key: string): boolean {
  return RESERVED_VARIABLES.includes(key) || RESERVED_PREFIXES.some((prefix) => key.startsWith(prefix));
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--only A,B` / `--exclude A,B`: names separated by commas (spaces around them ignored), each a valid key. */
export function parseKeyList(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  const keys = value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (!keys.length) throw usageError(`${flag} needs at least one key name (KEY,KEY)`);
  const bad = keys.filter((k) => !KEY.test(k));
  if (bad.length) throw usageError(`${flag}: not a key name: ${bad.map((k) => `'${k}'`).join(', ')}`);
  return keys;
}

export interface Selection {
  only?: string[];
  exclude?: string[];
}

/**
 * The secrets `--only` and `--exclude` keep (run-options.ts refuses both at once). `--only` naming a key the environment does not have is
 * an error (exit 5): a run that silently lacks a variable it asked for fails later, and less clearly.
 */
export function selectSecrets(secrets: SecretMap, selection: Selection): SecretMap {
  const { only, exclude } = selection;
  if (only) {
    const missing = only.filter((k) => !Object.hasOwn(secrets, k));
    if (missing.length) {
      throw new CliFailure(
        `--only names ${missing.length === 1 ? 'a key' : 'keys'} this environment does not have: ${missing.join(', ')}`,
        'not_found',
        ExitCode.NotFound,
      );
    }
    return Object.fromEntries(only.map((k) => [k, secrets[k]]));
  }
  if (exclude) return Object.fromEntries(Object.entries(secrets).filter(([k]) => !exclude.includes(k)));
  return secrets;
}

/**
 * secr's own credentials, which `secr run` removes from the child's environment unless `--pass-token`:
 * with `SECR_TOKEN` the command (and every dependency it loads) could read all the token can, not just
 * what `--only`/`--exclude` selected; `SECR_ID_TOKEN` and `SECR_OIDC` let it exchange the CI job's
 * OIDC token for such a token itself.
 */
export const CREDENTIAL_VARIABLES: readonly string[] = ['SECR_TOKEN', 'SECR_ID_TOKEN', 'SECR_OIDC'];

export interface ChildEnvOptions {
  preserveEnv?: boolean;
  allowReserved?: boolean;
  /** Leave secr's credentials (CREDENTIAL_VARIABLES) in the child's environment. */
  passToken?: boolean;
  /** Told each reserved name a secret was not allowed to override (a message with the key, never the value). */
  warn: (message: string) => void;
}

/**
 * The child's environment: this process's, without secr's own credentials (unless `passToken`), with
 * the secrets added (secrets win, unless `preserveEnv`), except those with a reserved name, which are
 * left out with a warning unless `allowReserved`. Returns the names actually injected.
 */
export function childEnv(base: NodeJS.ProcessEnv, secrets: SecretMap, options: ChildEnvOptions): { env: NodeJS.ProcessEnv; injected: string[] } {
  const injected: SecretMap = {};
  for (const [key, value] of Object.entries(secrets)) {
    if (!options.allowReserved && isReserved(key)) {
      options.warn(`secr: not setting ${key} from the secret of that name: ${key} is reserved (pass --allow-reserved to let secrets set it)`);
      continue;
    }
    injected[key] = value;
  }
  const inherited = { ...base };
  if (!options.passToken) for (const name of CREDENTIAL_VARIABLES) delete inherited[name];
  const env = options.preserveEnv ? { ...injected, ...inherited } : { ...inherited, ...injected };
  return { env, injected: Object.keys(injected) };
}
