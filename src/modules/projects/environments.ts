import type { Tier } from '../../common/auth/permissions.js';

/** Created with every project. */
export const DEFAULT_ENVIRONMENTS: ReadonlyArray<{ slug: string; name: string; tier: Tier }> = [
  { slug: 'development', name: 'Development', tier: 'development' },
  { slug: 'staging', name: 'Staging', tier: 'staging' },
  { slug: 'production', name: 'Production', tier: 'production' },
];

/** Short names the default environments also answer to (DESIGN.md §6); reserved for custom environments. */
export const ENVIRONMENT_ALIASES: Readonly<Record<string, string>> = { dev: 'development', stg: 'staging', prod: 'production' };

/** Path segments of project-wide secret routes (`GET …/:project/diff`): an environment of that name could not be pulled. */
export const RESERVED_ENVIRONMENT_SLUGS: ReadonlySet<string> = new Set(['diff']);

export function canonicalEnvironment(ref: string): string {
  return ENVIRONMENT_ALIASES[ref] ?? ref;
}
