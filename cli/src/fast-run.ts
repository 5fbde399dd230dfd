/**
 * `secr run` without oclif (issue 15: `secr run` sits in front of every `npm start` and CI job, so it
 * must start about as fast as Node). bin/run.cjs calls this for `secr run …`; it handles the command's
 * own flags and its every outcome exactly as commands/run.ts does, and answers `false` — leaving the
 * command to oclif — for anything else (`--help`, `--json`, a flag it does not know, no command).
 * It loads node:http and the project link code: neither oclif nor `fetch` (lib/pull.ts).
 */
import { readFileSync } from 'node:fs';
import { checkApiUrl, noteApiUrl, timeoutMs } from './lib/api-url.js';
import { DEFAULT_API_URL, readCredentials } from './lib/config.js';
import { CliFailure, ExitCode, formatReport, reportFor } from './lib/errors.js';
import { oidcRequested, oidcSession } from './lib/oidc.js';
import { pullSecrets } from './lib/pull.js';
import { splitRunArgv } from './lib/run-argv.js';
import { expandFallbackFlag, RUN_OPTION_SHAPES, runWithSecrets, secretsForRun, type RunOptionFlags } from './lib/run-options.js';
import { resolveTarget } from './lib/target.js';

/** `secr run`'s flags (commands/run.ts and the base flags); the one-letter aliases map to them. */
const ALIASES: Record<string, string> = { p: 'project', e: 'env' };
const SHAPES: Record<string, { type: 'option' | 'boolean'; char?: string }> = {
  org: { type: 'option' },
  project: { type: 'option', char: 'p' },
  env: { type: 'option', char: 'e' },
  'api-url': { type: 'option' },
  timeout: { type: 'option' },
  ...RUN_OPTION_SHAPES,
};

interface RunFlags extends RunOptionFlags {
  org?: string;
  project?: string;
  env?: string;
  'api-url'?: string;
  timeout?: string;
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
    else if (short) [name, inline] = [ALIASES[short[1]], short[2] === '' ? undefined : short[2].replace(/^=/, '')];
    const shape = name === undefined ? undefined : SHAPES[name];
    if (!shape || (long && name!.length === 1) || flags[name!] !== undefined) return null; // unknown or repeated: oclif says so
    if (shape.type === 'boolean') {
      if (inline !== undefined) return null;
      flags[name!] = true;
      continue;
    }
    const value = inline ?? own[++i];
    if (value === undefined) return null; // missing: oclif says so
    flags[name!] = value;
  }
  return flags as RunFlags;
}

/** Runs `secr run <argv>` and returns true, or returns false without side effects to leave it to oclif. */
export async function fastRun(argv: string[], userAgent: string): Promise<boolean> {
  const { own, child } = splitRunArgv(argv, SHAPES);
  const flags = parseOwn(expandFallbackFlag(own));
  if (!flags || !child?.length) return false;
  const [command, ...args] = child;
  try {
    // Keyless CI: only when SECR_OIDC asks for it (and no SECR_TOKEN is given); nothing changes otherwise.
    const oidc =
      !process.env.SECR_TOKEN && oidcRequested()
        ? await oidcSession({ apiUrl: await resolveApiUrl(flags), timeoutMs: timeoutMs(flags.timeout), userAgent })
        : undefined;
    const target = await resolveTarget(flags, process.env, async () => oidc);
    const apiUrl = await resolveApiUrl(flags);
    const token = process.env.SECR_TOKEN || oidc?.token || (await readCredentials())?.token;
    if (!token) throw new CliFailure('Not logged in', 'not_logged_in', ExitCode.Unauthenticated);
    const timeout = timeoutMs(flags.timeout);
    const pull = async () => {
      const secrets = await pullSecrets({ apiUrl, token, ...target, timeoutMs: timeout, userAgent, raw: !!flags.raw });
      return Object.fromEntries(secrets.map((s) => [s.key, s.value]));
    };
    const outcome = await runWithSecrets(command, args, await secretsForRun(flags, target, token, pull), flags);
    process.exitCode = outcome.exitCode;
  } catch (error) {
    const report = reportFor(error);
    process.stderr.write(`${formatReport(report)}\n`);
    process.exitCode = report.exitCode;
  }
  return true;
}

async function resolveApiUrl(flags: RunFlags): Promise<string> {
  if (flags['api-url']) return noteApiUrl(checkApiUrl(flags['api-url'], '--api-url'));
  if (process.env.SECR_API_URL) return noteApiUrl(checkApiUrl(process.env.SECR_API_URL, 'SECR_API_URL'));
  return noteApiUrl((await readCredentials())?.apiUrl ?? DEFAULT_API_URL);
}

/** `@secr/cli/0.1.0 linux-x64 node-v24.…`, as oclif prints for --version and sends as User-Agent. */
export function userAgent(packageJsonPath: string): string {
  const pkg = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { name: string; version: string };
  return `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
}
