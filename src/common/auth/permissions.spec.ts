import { describe, expect, it } from '@jest/globals';
import { Permission, PERMISSION_INFO, ROLE_PERMISSIONS, roleCanReadTier, roleHasPermission, ROLES, TIERS, type Role, type Tier } from './permissions.js';

const Y = true;
const N = false;

/**
 * The contract, written out by hand (spec 003 "Roles and Permissions", DESIGN.md §4) rather than
 * derived from `ROLE_PERMISSIONS`: a change to the role matrix must change this table too.
 */
const EXPECTED: Readonly<Record<string, Readonly<Record<Role, boolean>>>> = {
  [Permission.MembersRead]: { owner: Y, admin: Y, developer: Y, viewer: Y },
  [Permission.MembersInvite]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.MembersRemove]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.MembersChangeRole]: { owner: Y, admin: N, developer: N, viewer: N },
  [Permission.OrgDelete]: { owner: Y, admin: N, developer: N, viewer: N },
  [Permission.ProjectsRead]: { owner: Y, admin: Y, developer: Y, viewer: Y },
  [Permission.ProjectsCreate]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.ProjectsDelete]: { owner: Y, admin: N, developer: N, viewer: N },
  [Permission.EnvironmentsCreate]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.ProjectKeyRotate]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.SecretsRead]: { owner: Y, admin: Y, developer: Y, viewer: Y },
  [Permission.SecretsWrite]: { owner: Y, admin: Y, developer: Y, viewer: N },
  [Permission.SecretsBulkDelete]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.SecretsPromote]: { owner: Y, admin: Y, developer: Y, viewer: N },
  [Permission.TemplatesRead]: { owner: Y, admin: Y, developer: Y, viewer: Y },
  [Permission.TemplatesManage]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.WebhooksRead]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.WebhooksWrite]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.AuditRead]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.AuditManage]: { owner: Y, admin: N, developer: N, viewer: N },
  [Permission.BillingRead]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.BillingManage]: { owner: Y, admin: N, developer: N, viewer: N },
  [Permission.OidcTrustsRead]: { owner: Y, admin: Y, developer: N, viewer: N },
  [Permission.OidcTrustsManage]: { owner: Y, admin: Y, developer: N, viewer: N },
};

/** Which environment tiers each role may read secrets in (spec 003: all / all / dev + staging / dev only). */
const EXPECTED_READ_TIERS: Readonly<Record<Role, readonly Tier[]>> = {
  owner: ['development', 'staging', 'production'],
  admin: ['development', 'staging', 'production'],
  developer: ['development', 'staging'],
  viewer: ['development'],
};

const ALL_PERMISSIONS = Object.values(Permission);
const ORG_PERMISSIONS = ALL_PERMISSIONS.filter((p) => PERMISSION_INFO[p].scope === 'org');
const ACCOUNT_PERMISSIONS = ALL_PERMISSIONS.filter((p) => PERMISSION_INFO[p].scope === 'account');

describe('role permissions', () => {
  it('has an expected row for every org-scoped permission, and no row for anything else', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...ORG_PERMISSIONS].sort());
  });

  const cases = ROLES.flatMap((role) => ORG_PERMISSIONS.map((permission) => [role, EXPECTED[permission]?.[role] ? 'has' : 'lacks', permission] as const));
  it.each(cases)('%s %s %s', (role, _verb, permission) => {
    expect(roleHasPermission(role, permission)).toBe(EXPECTED[permission][role]);
  });

  const tierCases = ROLES.flatMap((role) => TIERS.map((tier) => [role, EXPECTED_READ_TIERS[role].includes(tier) ? 'reads' : 'does not read', tier] as const));
  it.each(tierCases)('%s %s secrets of %s-tier environments', (role, _verb, tier) => {
    expect(roleCanReadTier(role, tier)).toBe(EXPECTED_READ_TIERS[role].includes(tier));
  });

  it('grants no role an account-level permission: those come with being signed in, not with a role', () => {
    for (const role of ROLES) {
      for (const permission of ACCOUNT_PERMISSIONS) expect(roleHasPermission(role, permission)).toBe(false);
    }
  });

  it('gives every role at most what the role above it has', () => {
    for (let i = 1; i < ROLES.length; i++) {
      const [above, below] = [ROLES[i - 1], ROLES[i]];
      expect(ROLE_PERMISSIONS[above]).toEqual(expect.arrayContaining([...ROLE_PERMISSIONS[below]]));
    }
  });

  it('describes every permission with a scope and an access level', () => {
    for (const permission of ALL_PERMISSIONS) {
      expect(PERMISSION_INFO[permission]).toMatchObject({ scope: expect.stringMatching(/^(account|org)$/), access: expect.stringMatching(/^(read|write)$/) });
    }
  });
});
