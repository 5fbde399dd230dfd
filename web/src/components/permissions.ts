import { Permission, roleCanReadTier, roleHasPermission, type Role, type Tier } from '@server/common/auth/permissions';

export { Permission };
export type { Role, Tier };

/** The same role matrix and tier rules as the server's (imported from it, not re-typed). The server stays the authority. */
export function can(role: Role | undefined, permission: Permission): boolean {
  return !!role && roleHasPermission(role, permission);
}

export function canReadTier(role: Role | undefined, tier: Tier): boolean {
  return !!role && roleCanReadTier(role, tier);
}
