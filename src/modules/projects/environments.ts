import type { Tier } from '../../common/auth/permissions.js';

/** Created with every project. */
export const DEFAULT_ENVIRONMENTS: ReadonlyArray<{ slug: string; name: string; tier: Tier }> = [
  { slug: 'development', name: 'Development', tier: 'development' },
  { slug: 'staging', name: 'Staging', tier: 'staging' },
  { slug: 'production', name: 'Production', tier: 'production' },
];

/** Short names the default environments also answer to (DESIGN.md §6); reserved for custom environments. */
export const ENVIRONMENT_ALIASES: Readonly<Record<string, string>> = { dev: 'development', stg: 'staging', prod: 'production' };

export function canonicalEnvironment(ref: string): string {
  return ENVIRONMENT_ALIASES[ref] ?? ref;
}
