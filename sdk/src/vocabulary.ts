/**
 * The API's fixed vocabulary, for clients that offer choices or spell names out (the CLI, the
 * dashboard). The server is the authority; `src/common/auth/sdk-vocabulary.spec.ts` checks that these
 * match what it uses.
 */

/** Org roles, most powerful first. */
export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Environment tiers: a role reads the tiers up to its own (viewer: development; developer: +staging). */
export const TIERS = ['development', 'staging', 'production'] as const;
export type Tier = (typeof TIERS)[number];

/** Short names the default environments also answer to. */
export const ENVIRONMENT_ALIASES: Readonly<Record<string, string>> = { dev: 'development', stg: 'staging', prod: 'production' };

/** An environment reference with its alias spelled out (`prod` → `production`). */
export function canonicalEnvironment(ref: string): string {
  return ENVIRONMENT_ALIASES[ref] ?? ref;
}
