import * as Flags from '@oclif/core/flags';
import { unwrap, type SecrApi } from '@secr/sdk';
import { canonicalEnv } from './api-url.js';
import { CliFailure, ExitCode, usageError } from './errors.js';
import { findMember } from './members.js';

/** The filters of `secr audit` and `secr audit export` (the API's audit filters, by name where it takes ids). */
export const auditFilterFlags = {
  action: Flags.string({ description: 'Only this action, e.g. secret.read, secret.promote, member.invited' }),
  actor: Flags.string({ description: 'Only events of this member (email or user id)' }),
  project: Flags.string({ char: 'p', description: 'Only events about this project (slug or id)' }),
  env: Flags.string({ char: 'e', description: 'Only events about this environment of --project (slug or alias)' }),
  key: Flags.string({ description: 'Only events naming this secret key' }),
  from: Flags.string({ description: 'Only events at or after this time (ISO 8601, e.g. 2026-12-01 or 2026-12-01T09:00:00Z)' }),
  to: Flags.string({ description: 'Only events before this time (ISO 8601)' }),
};

export interface AuditFilterFlags {
  action?: string;
  actor?: string;
  project?: string;
  env?: string;
  key?: string;
  from?: string;
  to?: string;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  projectId?: string;
  environmentId?: string;
  key?: string;
  from?: string;
  to?: string;
}

/** The API's query for these flags: a member's email, a project's and an environment's slugs resolved to ids. */
export async function auditFilter(api: SecrApi, org: { id: string; slug: string }, flags: AuditFilterFlags): Promise<AuditFilter> {
  const filter: AuditFilter = {};
  if (flags.action) filter.action = flags.action;
  if (flags.key) filter.key = flags.key;
  if (flags.from) filter.from = isoTime(flags.from, '--from');
  if (flags.to) filter.to = isoTime(flags.to, '--to');
  if (flags.actor) filter.actor = (await findMember(api, org, flags.actor)).userId;
  if (flags.env && !flags.project) throw usageError('--env needs --project');
  if (flags.project) {
    const project = unwrap(await api.GET('/v1/projects/{orgId}/{slug}', { params: { path: { orgId: org.id, slug: flags.project } } }));
    filter.projectId = project.id;
    if (flags.env) {
      const slug = canonicalEnv(flags.env);
      const env = project.environments.find((e) => e.slug === slug);
      if (!env) throw new CliFailure(`Environment '${flags.env}' not found in ${org.slug}/${project.slug}`, 'not_found', ExitCode.NotFound);
      filter.environmentId = env.id;
    }
  }
  return filter;
}

/** A date (midnight UTC) or a date-time with its zone, as the API takes it. */
function isoTime(value: string, flag: string): string {
  const withTime = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(withTime) || Number.isNaN(Date.parse(withTime))) {
    throw usageError(`${flag} must be an ISO 8601 date or date-time with a zone, e.g. 2026-12-01 or 2026-12-01T09:00:00Z`);
  }
  return withTime;
}
