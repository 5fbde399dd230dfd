import { canonicalEnv } from './api-url.js';
import { findLink, type ProjectLink } from './config.js';
import { usageError } from './errors.js';

/** Where a command acts. */
export interface Target {
  org: string;
  project: string;
  env: string;
}

export interface TargetFlags {
  org?: string;
  project?: string;
  env?: string;
}

/** `SECR_ORG`, `SECR_PROJECT`, `SECR_ENV` (CI): defaults for `--org`, `--project`, `--env`; empty = unset. */
export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): TargetFlags {
  return { org: env.SECR_ORG || undefined, project: env.SECR_PROJECT || undefined, env: env.SECR_ENV || undefined };
}

const NO_PROJECT = 'No project: pass --org and --project, or run `secr init` to link this directory (in CI: set SECR_ORG and SECR_PROJECT)';

/** Where an OIDC exchange's token reaches (keyless CI without a link). */
export interface TargetHint {
  orgSlug: string;
  projectSlug: string;
  environments: string[] | null;
}

/**
 * Each of org, project and environment from its flag, else its `SECR_*` variable, else the nearest
 * `.secr.json` (read only when something is still missing), else (keyless CI) what `hint` says the exchanged
 * token reaches; the environment defaults to development.
 */
export async function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env, hint?: () => Promise<TargetHint | undefined>): Promise<Target> {
  const fromEnv = targetFromEnv(env);
  const org = flags.org ?? fromEnv.org;
  const project = flags.project ?? fromEnv.project;
  const environment = flags.env ?? fromEnv.env;
  const link: Partial<ProjectLink> = !org || !project || !environment ? ((await findLink())?.link ?? {}) : {};
  const target = { org: org ?? link.org, project: project ?? link.project, env: environment ?? link.environment };
  if ((!target.org || !target.project) && hint) {
    const reach = await hint();
    target.org ??= reach?.orgSlug;
    target.project ??= reach?.projectSlug;
    target.env ??= reach?.environments?.length === 1 ? reach.environments[0] : undefined;
  }
  if (!target.org || !target.project) throw usageError(NO_PROJECT);
  return { org: target.org, project: target.project, env: canonicalEnv(target.env || 'development') };
}

/** The org reference of `--org`, else `SECR_ORG`, else `.secr.json`; undefined when none names one. */
export async function resolveOrgRef(flags: { org?: string }, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return flags.org ?? targetFromEnv(env).org ?? ((await findLink())?.link.org || undefined);
}
