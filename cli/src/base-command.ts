import { Command } from '@oclif/core/command';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import type * as Interfaces from '@oclif/core/interfaces';
import { createApi, unwrap, type components, type SecrApi } from '@secr/sdk';
import { DEFAULT_API_URL, readCredentials, type StoredCredentials } from './lib/config.js';
import { CliFailure, ExitCode, formatReport, reportFor, usageError } from './lib/errors.js';
import { oidcRequested, oidcSession, type OidcSession } from './lib/oidc.js';
import { confirm } from './lib/prompt.js';
import { canonicalEnv, checkApiUrl, noteApiUrl, timeoutMs } from './lib/api-url.js';
import { resolveOrgRef, resolveTarget, type Target } from './lib/target.js';

export type OrgSummary = components['schemas']['OrgSummaryDto'];
export type Me = components['schemas']['MeDto'];

export type FlagsOf<C extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & C['flags']>;
export type ArgsOf<C extends typeof Command> = Interfaces.InferredArgs<C['args']>;

const orgFlag = Flags.string({ description: 'Org slug (default: $SECR_ORG, else .secr.json)', helpGroup: 'PROJECT' });
const projectFlag = Flags.string({ char: 'p', description: 'Project slug (default: $SECR_PROJECT, else .secr.json)', helpGroup: 'PROJECT' });
const envFlag = Flags.string({
  char: 'e',
  description: 'Environment slug or alias: dev, stg, prod (default: $SECR_ENV, else .secr.json, else development)',
  helpGroup: 'PROJECT',
});

/** For org-scoped commands (members, projects, audit). */
export const orgFlags = { org: orgFlag };
/** For project-scoped commands that take no environment (promote, template, envs, rotate-key). */
export const projectFlags = { org: orgFlag, project: projectFlag };
/** For environment-scoped commands (set, get, ls, run, …). */
export const envFlags = { org: orgFlag, project: projectFlag, env: envFlag };
/** For commands that print or inject values (get, export, run, ls --show-values): the stored text, references unresolved. */
export const rawFlag = Flags.boolean({ description: 'The values as stored: references (${KEY}, ${env.KEY}) are not resolved by the server' });
/** The pull's query for `--raw`. */
export function rawQuery(raw: boolean | undefined): { raw?: 'true' } {
  return raw ? { raw: 'true' } : {};
}
export const yesFlag = { yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation' }) };

export { canonicalEnv };

/** Where a command acts (lib/target.ts). */
export type { Target };

/**
 * Every secr command (STYLE 15): parses the shared flags once, finds the credentials and the project
 * link, builds the API client once, and turns every failure into the API's message and code on stderr
 * (or `{ "error": … }` with `--json`) and an exit code (lib/errors.ts). `run()` returns the command's
 * typed result; with `--json`, that result is exactly what is printed.
 */
export abstract class BaseCommand<C extends typeof Command, R> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    'api-url': Flags.string({
      description: 'API base URL [default: $SECR_API_URL, else the URL you logged in to, else https://api.secr.dev]',
      helpGroup: 'GLOBAL',
    }),
    timeout: Flags.string({
      description: 'Seconds to wait for each API request [default: $SECR_TIMEOUT, else 30]',
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: FlagsOf<C>;
  protected args!: ArgsOf<C>;
  /** Arguments past the declared ones, for commands with `strict = false`. */
  protected extraArgv: string[] = [];

  private client?: SecrApi;
  private stored?: StoredCredentials | null;
  private me?: Promise<Me>;

  abstract override run(): Promise<R>;

  protected override async init(): Promise<void> {
    await super.init();
    const parsed = await this.parse(this.ctor, this.argvToParse());
    this.flags = parsed.flags as FlagsOf<C>;
    this.args = parsed.args as ArgsOf<C>;
    this.extraArgv = parsed.argv as string[];
  }

  /** What the flag parser sees; `secr run` keeps its child's command line away from it. */
  protected argvToParse(): string[] {
    return this.argv;
  }

  protected override async catch(error: Error): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    const report = reportFor(error);
    if (this.jsonEnabled()) this.logJson({ error: report });
    else process.stderr.write(`${formatReport(report)}\n`);
    throw new Errors.ExitError(report.exitCode);
  }

  // ── credentials and the API client ─────────────────────────────────────────────────────────────

  protected async storedCredentials(): Promise<StoredCredentials | null> {
    if (this.stored === undefined) this.stored = await readCredentials();
    return this.stored;
  }

  /** `--api-url`, else `$SECR_API_URL`, else the URL of the stored login, else the default. */
  protected async apiUrl(): Promise<string> {
    const flag = (this.flags as { 'api-url'?: string })['api-url'];
    if (flag) return noteApiUrl(checkApiUrl(flag, '--api-url'));
    if (process.env.SECR_API_URL) return noteApiUrl(checkApiUrl(process.env.SECR_API_URL, 'SECR_API_URL'));
    return noteApiUrl((await this.storedCredentials())?.apiUrl ?? DEFAULT_API_URL);
  }

  /** `--timeout`, else `$SECR_TIMEOUT` (seconds), in milliseconds. */
  protected timeoutMs(): number | undefined {
    return timeoutMs((this.flags as { timeout?: string }).timeout);
  }

  /** `$SECR_TOKEN` (CI), else the token of an OIDC exchange (`$SECR_OIDC`, keyless CI), else the token `secr login` stored. */
  protected async resolveToken(): Promise<{ token: string; source: 'env' | 'oidc' | 'file' }> {
    await this.apiUrl(); // a bad URL is worth saying before a missing login
    if (process.env.SECR_TOKEN) return { token: process.env.SECR_TOKEN, source: 'env' };
    const oidc = await this.oidcSession();
    if (oidc) return { token: oidc.token, source: 'oidc' };
    const stored = await this.storedCredentials();
    if (stored) return { token: stored.token, source: 'file' };
    throw new CliFailure('Not logged in', 'not_logged_in', ExitCode.Unauthenticated);
  }

  /** Keyless CI: the exchange `SECR_OIDC` asks for (once per process, in memory only); undefined when not asked for. */
  protected async oidcSession(): Promise<OidcSession | undefined> {
    if (process.env.SECR_TOKEN || !oidcRequested()) return undefined;
    return oidcSession({ apiUrl: await this.apiUrl(), timeoutMs: this.timeoutMs(), userAgent: this.config.userAgent });
  }

  /** The typed API client, authenticated; built once per command. */
  protected async api(): Promise<SecrApi> {
    if (!this.client) {
      const apiUrl = await this.apiUrl();
      const { token } = await this.resolveToken();
      this.client = createApi({ token, apiUrl, timeout: this.timeoutMs(), headers: { 'user-agent': this.config.userAgent } });
    }
    return this.client;
  }

  /** A client without the stored token (login), optionally with extra headers. */
  protected async anonymousApi(headers: Record<string, string> = {}): Promise<SecrApi> {
    return createApi({ apiUrl: await this.apiUrl(), timeout: this.timeoutMs(), headers: { 'user-agent': this.config.userAgent, ...headers } });
  }

  protected readonly unwrap = unwrap;

  /** `GET /v1/auth/me`, once. */
  protected whoAmI(): Promise<Me> {
    this.me ??= this.api().then(async (api) => unwrap(await api.GET('/v1/auth/me')));
    return this.me;
  }

  // ── where the command acts ─────────────────────────────────────────────────────────────────────

  /** Org, project and environment from `--org`, `--project`, `--env`, else `SECR_ORG`, `SECR_PROJECT`, `SECR_ENV`, else the nearest `.secr.json`, else (keyless CI) where the exchanged token reaches. */
  protected target(): Promise<Target> {
    return resolveTarget(this.flags as { org?: string; project?: string; env?: string }, process.env, () => this.oidcSession());
  }

  /** The org of `--org`, `SECR_ORG` or `.secr.json`, by slug or id, as the API lists it for you; else your only org. */
  protected async targetOrg(): Promise<OrgSummary> {
    const ref = await resolveOrgRef(this.flags as { org?: string });
    if (ref) return this.resolveOrg(ref);
    const { orgs } = await this.whoAmI();
    if (orgs.length === 1) return orgs[0];
    throw usageError(
      `No org: pass --org or set SECR_ORG (yours: ${orgs.map((o) => o.slug).join(', ') || 'none'}), or run \`secr init\` to link this directory`,
    );
  }

  /** Finds an org of yours by slug or id (the projects, members and audit routes take ids). */
  protected async resolveOrg(ref: string): Promise<OrgSummary> {
    const { orgs } = await this.whoAmI();
    const org = orgs.find((o) => o.slug === ref || o.id === ref);
    if (!org) throw new CliFailure(`Organization '${ref}' not found among your orgs`, 'not_found', ExitCode.NotFound);
    return org;
  }

  /** Asks unless `--yes`; without a terminal and without `--yes` it fails (exit 2). */
  protected async confirmOrAbort(question: string, yes: boolean | undefined): Promise<void> {
    if (yes) return;
    if (!(await confirm(question))) throw new CliFailure('Aborted', 'aborted', ExitCode.Failure);
  }
}
