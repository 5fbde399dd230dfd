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
  page: (orgId: string, action: string, offset: number) => ['audit', orgId, action, offset] as const,
};
