/**
 * The role matrix, as data (spec 003 "Roles and Permissions", DESIGN.md §4). Guards and services ask
 * for permissions, never for role names. `permissions.spec.ts` walks every role × permission.
 */
export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export enum Permission {
  // Account-level: any signed-in identity, on its own account.
  AccountRead = 'account.read',
  AccountWrite = 'account.write',
  /** Ending the credential in use (logout): even a read-only token may revoke itself. */
  AccountSignOut = 'account.sign_out',
  /** Password changes: only from a signed-in session, never with a bearer token. */
  AccountCredentials = 'account.credentials',
  /** Approving or denying a CLI sign-in in the browser (it mints a token): only from a signed-in session. */
  AccountCliApprove = 'account.cli_approve',
  /**
   * Account-wide changes (verification mails, new orgs, accepting invitations): a session or a token
   * for the whole account, never one scoped to an org or narrower.
   */
  AccountManage = 'account.manage',
  /** The account's own activity log (sign-ins, password and token changes): as AccountManage, read-only. */
  AccountActivity = 'account.activity',

  // Instance administration: granted by no role, only to users with isAdmin (SECR_ADMIN_EMAILS).
  AdminRead = 'admin.read',
  AdminWrite = 'admin.write',

  // Org-level: granted by the member's role in the org named by the route.
  OrgDelete = 'org.delete',
  MembersRead = 'members.read',
  MembersInvite = 'members.invite',
  MembersRemove = 'members.remove',
  MembersChangeRole = 'members.change_role',
  ProjectsRead = 'projects.read',
  ProjectsCreate = 'projects.create',
  ProjectsDelete = 'projects.delete',
  EnvironmentsCreate = 'environments.create',
  ProjectKeyRotate = 'projects.rotate_key',
  /** Also limited by environment tier: `ROLE_READ_TIERS`. */
  SecretsRead = 'secrets.read',
  SecretsWrite = 'secrets.write',
  SecretsBulkDelete = 'secrets.bulk_delete',
  /** Also needs read on the source environment's tier and write on the target. */
  SecretsPromote = 'secrets.promote',
  TemplatesRead = 'templates.read',
  TemplatesManage = 'templates.manage',
  /** Webhook URLs and delivery logs are operational data: owner/admin only, like changing them. */
  WebhooksRead = 'webhooks.read',
  WebhooksWrite = 'webhooks.write',
  AuditRead = 'audit.read',
  /** Trust relationships with CI OIDC issuers (keyless CI): each one can mint tokens, so owner/admin only. */
  OidcTrustsRead = 'oidc_trusts.read',
  OidcTrustsManage = 'oidc_trusts.manage',
  /** The org's audit retention period: how long evidence is kept is the owner's decision. */
  AuditManage = 'audit.manage',
  /** Plan, subscription and usage. Billing is org-wide: never usable by a narrowed token. */
  BillingRead = 'billing.read',
  /** Checkout and the customer portal. */
  BillingManage = 'billing.manage',
}

export type PermissionScope = 'account' | 'org';

interface PermissionInfo {
  readonly scope: PermissionScope;
  /** A `read`-scoped token may only use `read` permissions. */
  readonly access: 'read' | 'write';
  /** Refused to bearer tokens whatever their scope. */
  readonly sessionOnly?: boolean;
  /** Refused to tokens scoped to an org (or narrower): a session or an unscoped token only. */
  readonly wholeAccount?: boolean;
  /** Only instance administrators (`users.is_admin`); with a token, only an unscoped one. */
  readonly adminOnly?: boolean;
  /**
   * Usable by a token narrowed to one project or to some environments: the service checks that
   * narrower scope (VaultAccess, in the controller). Every other org permission needs a token for the whole org.
   */
  readonly narrowable?: boolean;
}

export const PERMISSION_INFO: Readonly<Record<Permission, PermissionInfo>> = {
  [Permission.AccountRead]: { scope: 'account', access: 'read' },
  [Permission.AccountWrite]: { scope: 'account', access: 'write' },
  [Permission.AccountSignOut]: { scope: 'account', access: 'read' },
  [Permission.AccountCredentials]: { scope: 'account', access: 'write', sessionOnly: true },
  [Permission.AccountCliApprove]: { scope: 'account', access: 'write', sessionOnly: true },
  [Permission.AccountManage]: { scope: 'account', access: 'write', wholeAccount: true },
  [Permission.AccountActivity]: { scope: 'account', access: 'read', wholeAccount: true },
  [Permission.AdminRead]: { scope: 'account', access: 'read', adminOnly: true },
  [Permission.AdminWrite]: { scope: 'account', access: 'write', adminOnly: true },
  [Permission.OrgDelete]: { scope: 'org', access: 'write' },
  [Permission.MembersRead]: { scope: 'org', access: 'read' },
  [Permission.MembersInvite]: { scope: 'org', access: 'write' },
  [Permission.MembersRemove]: { scope: 'org', access: 'write' },
  [Permission.MembersChangeRole]: { scope: 'org', access: 'write' },
  [Permission.ProjectsRead]: { scope: 'org', access: 'read', narrowable: true },
  [Permission.ProjectsCreate]: { scope: 'org', access: 'write' },
  [Permission.ProjectsDelete]: { scope: 'org', access: 'write' },
  [Permission.EnvironmentsCreate]: { scope: 'org', access: 'write' },
  [Permission.ProjectKeyRotate]: { scope: 'org', access: 'write' },
  [Permission.SecretsRead]: { scope: 'org', access: 'read', narrowable: true },
  [Permission.SecretsWrite]: { scope: 'org', access: 'write', narrowable: true },
  [Permission.SecretsBulkDelete]: { scope: 'org', access: 'write', narrowable: true },
  [Permission.SecretsPromote]: { scope: 'org', access: 'write', narrowable: true },
  [Permission.TemplatesRead]: { scope: 'org', access: 'read', narrowable: true },
  [Permission.TemplatesManage]: { scope: 'org', access: 'write' },
  [Permission.WebhooksRead]: { scope: 'org', access: 'read' },
  [Permission.WebhooksWrite]: { scope: 'org', access: 'write' },
  [Permission.AuditRead]: { scope: 'org', access: 'read' },
  [Permission.OidcTrustsRead]: { scope: 'org', access: 'read' },
  [Permission.OidcTrustsManage]: { scope: 'org', access: 'write' },
  [Permission.AuditManage]: { scope: 'org', access: 'write' },
  [Permission.BillingRead]: { scope: 'org', access: 'read' },
  [Permission.BillingManage]: { scope: 'org', access: 'write' },
};

const VIEWER: readonly Permission[] = [Permission.MembersRead, Permission.ProjectsRead, Permission.SecretsRead, Permission.TemplatesRead];
const DEVELOPER: readonly Permission[] = [...VIEWER, Permission.SecretsWrite, Permission.SecretsPromote];
const ADMIN: readonly Permission[] = [
  ...DEVELOPER,
  Permission.MembersInvite,
  Permission.MembersRemove,
  Permission.ProjectsCreate,
  Permission.EnvironmentsCreate,
  Permission.ProjectKeyRotate,
  Permission.SecretsBulkDelete,
  Permission.TemplatesManage,
  Permission.WebhooksRead,
  Permission.WebhooksWrite,
  Permission.AuditRead,
  Permission.BillingRead,
  Permission.OidcTrustsRead,
  Permission.OidcTrustsManage,
];
const OWNER: readonly Permission[] = [
  ...ADMIN,
  Permission.MembersChangeRole,
  Permission.OrgDelete,
  Permission.ProjectsDelete,
  Permission.BillingManage,
  Permission.AuditManage,
];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: OWNER,
  admin: ADMIN,
  developer: DEVELOPER,
  viewer: VIEWER,
};

/** Every environment has a tier; reading secrets is limited by it (spec 003 "Read secrets" row). */
export const TIERS = ['development', 'staging', 'production'] as const;
export type Tier = (typeof TIERS)[number];

export const ROLE_READ_TIERS: Readonly<Record<Role, readonly Tier[]>> = {
  owner: TIERS,
  admin: TIERS,
  developer: ['development', 'staging'],
  viewer: ['development'],
};

export function roleCanReadTier(role: Role, tier: Tier): boolean {
  return ROLE_READ_TIERS[role].includes(tier);
}

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** Higher rank = more power; used where one member acts on another (an admin cannot remove an owner). */
export const ROLE_RANK: Readonly<Record<Role, number>> = { owner: 4, admin: 3, developer: 2, viewer: 1 };
