/** Query keys, one factory per domain: a mutation invalidates exactly what it changes. */
export const accountKeys = {
  me: ['me'] as const,
  tokens: ['tokens'] as const,
};
export const projectKeys = {
  all: (orgId: string) => ['projects', orgId] as const,
  one: (orgId: string, slug: string) => ['projects', orgId, slug] as const,
};
export const secretKeys = {
  all: (org: string, project: string) => ['secrets', org, project] as const,
  list: (org: string, project: string, env: string, search: string, page: number) => ['secrets', org, project, env, 'keys', search, page] as const,
};
export const memberKeys = {
  all: (orgId: string) => ['members', orgId] as const,
};
export const auditKeys = {
  page: (orgId: string, filters: Record<string, string>, offset: number) => ['audit', orgId, filters, offset] as const,
};
export const templateKeys = {
  all: (org: string, project: string) => ['templates', org, project] as const,
  list: (org: string, project: string) => ['templates', org, project, 'list'] as const,
  validation: (org: string, project: string, env: string) => ['templates', org, project, 'validate', env] as const,
};
export const webhookKeys = {
  all: (orgId: string) => ['webhooks', orgId] as const,
  one: (orgId: string, id: string, offset: number) => ['webhooks', orgId, id, offset] as const,
};
export const billingKeys = {
  status: (orgId: string) => ['billing', orgId] as const,
};
export const activityKeys = {
  page: (offset: number) => ['activity', offset] as const,
};
export const adminKeys = {
  all: ['admin'] as const,
  stats: ['admin', 'stats'] as const,
  orgs: (offset: number) => ['admin', 'orgs', offset] as const,
  org: (orgId: string) => ['admin', 'org', orgId] as const,
  plans: ['admin', 'plans'] as const,
  metrics: (hours: number) => ['admin', 'metrics', hours] as const,
};
