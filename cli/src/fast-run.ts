/**
 * `secr run` without oclif (issue 15: `secr run` sits in front of every `npm start` and CI job, so it
 * must start about as fast as Node). bin/run.cjs calls this for `secr run …`; it handles the command's
 * own flags and its every outcome exactly as commands/run.ts does, and answers `false` — leaving the
 * command to oclif — for anything else (`--help`, `--json`, a flag it does not know, no command).
 * It loads node:http and the project link code: neither oclif nor `fetch` (lib/pull.ts).
 */
import { readFileSync } from 'node:fs';
import { canonicalEnv, checkApiUrl, timeoutMs } from './lib/api-url.js';
import { DEFAULT_API_URL, findLink, readCredentials } from './lib/config.js';
import { CliFailure, ExitCode, formatReport, reportFor, usageError } from './lib/errors.js';
import { oidcRequested, oidcSession, type OidcSession } from './lib/oidc.js';
import { pullSecrets } from './lib/pull.js';
import { runChild } from './lib/run-child.js';
import { splitRunArgv } from './lib/run-argv.js';

/** `secr run`'s flags (commands/run.ts and the base flags); the one-letter aliases map to them. */
const VALUE_FLAGS: Record<string, string> = { org: 'org', project: 'project', p: 'project', env: 'env', e: 'env', 'api-url': 'api-url', timeout: 'timeout' };
const SHAPES = {
  org: { type: 'option' },
  project: { type: 'option', char: 'p' },
  env: { type: 'option', char: 'e' },
  'api-url': { type: 'option' },
  timeout: { type: 'option' },
  'preserve-env': { type: 'boolean' },
};

interface RunFlags {
  org?: string;
  project?: string;
  env?: string;
  'api-url'?: string;
  timeout?: string;
  'preserve-env'?: boolean;
}

/** secr's own words parsed as oclif would, or null for anything this path leaves to oclif. */
function parseOwn(own: string[]): RunFlags | null {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < own.length; i++) {
    const word = own[i];
    const long = /^--([a-z-]+)(?:=(.*))?$/s.exec(word);
    const short = /^-([a-z])(.*)$/s.exec(word);
    let name: string | undefined;
    let inline: string | undefined;
    if (long) [name, inline] = [long[1], long[2]];
    else if (short) [name, inline] = [short[1], short[2] === '' ? undefined : short[2].replace(/^=/, '')];
    if (name === 'preserve-env' && inline === undefined) {
      flags['preserve-env'] = true;
      continue;
    }
    const flag = name === undefined ? undefined : VALUE_FLAGS[name];
    if (!flag || (short && name!.length !== 1) || (long && name!.length === 1)) return null;
    const value = inline ?? own[++i];
    if (value === undefined || flags[flag] !== undefined) return null; // missing or repeated: oclif says so
    flags[flag] = value;
  }
  return flags as RunFlags;
}

/** Runs `secr run <argv>` and returns true, or returns false without side effects to leave it to oclif. */
export async function fastRun(argv: string[], userAgent: string): Promise<boolean> {
  const { own, child } = splitRunArgv(argv, SHAPES);
  const flags = parseOwn(own);
  if (!flags || !child?.length) return false;
  const [command, ...args] = child;
  try {
    // Keyless CI: only when SECR_OIDC asks for it (and no SECR_TOKEN is given); nothing changes otherwise.
    const oidc =
      !process.env.SECR_TOKEN && oidcRequested()
        ? await oidcSession({ apiUrl: await resolveApiUrl(flags), timeoutMs: timeoutMs(flags.timeout), userAgent })
        : undefined;
    const target = await resolveTarget(flags, oidc);
    const apiUrl = await resolveApiUrl(flags);
    const token = process.env.SECR_TOKEN || oidc?.token || (await readCredentials())?.token;
    if (!token) throw new CliFailure('Not logged in', 'not_logged_in', ExitCode.Unauthenticated);
    const secrets = await pullSecrets({ apiUrl, token, ...target, timeoutMs: timeoutMs(flags.timeout), userAgent });
    const injected: NodeJS.ProcessEnv = Object.fromEntries(secrets.map((s) => [s.key, s.value]));
    const env = flags['preserve-env'] ? { ...injected, ...process.env } : { ...process.env, ...injected };
    const outcome = await runChild(command, args, env).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new CliFailure(`Command not found: ${command}`, 'command_not_found', 127);
      if (error.code === 'EACCES') throw new CliFailure(`Permission denied: ${command}`, 'command_not_executable', 126);
      throw error;
    });
    process.exitCode = outcome.exitCode;
  } catch (error) {
    const report = reportFor(error);
    process.stderr.write(`${formatReport(report)}\n`);
    process.exitCode = report.exitCode;
  }
  return true;
}

/** Flags, else the project link, else (keyless CI) what the OIDC exchange's token reaches. */
async function resolveTarget(flags: RunFlags, oidc?: OidcSession): Promise<{ org: string; project: string; env: string }> {
  const needsLink = !flags.org || !flags.project || !flags.env;
  const link = needsLink ? ((await findLink())?.link ?? undefined) : undefined;
  const org = flags.org ?? link?.org ?? oidc?.orgSlug;
  const project = flags.project ?? link?.project ?? oidc?.projectSlug;
  const env = flags.env ?? link?.environment ?? (oidc?.environments?.length === 1 ? oidc.environments[0] : undefined);
  if (!org || !project) throw usageError('No project: pass --org and --project, or run `secr init` to link this directory');
  return { org, project, env: canonicalEnv(env || 'development') };
}

async function resolveApiUrl(flags: RunFlags): Promise<string> {
  if (flags['api-url']) return checkApiUrl(flags['api-url'], '--api-url');
  if (process.env.SECR_API_URL) return checkApiUrl(process.env.SECR_API_URL, 'SECR_API_URL');
  return (await readCredentials())?.apiUrl ?? DEFAULT_API_URL;
}

/** `@secr/cli/0.1.0 linux-x64 node-v24.…`, as oclif prints for --version and sends as User-Agent. */
export function userAgent(packageJsonPath: string): string {
  const pkg = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { name: string; version: string };
  return `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
}
