/**
 * Plans and their limits (spec 003 "Plan limit resolution"). Pure data and the resolution rule; the
 * database side (plan_configs, orgs.limit_overrides, locking and counting) is in `PlansService`.
 */
export const PLANS = ['free', 'pro', 'team', 'enterprise'] as const;
export type PlanName = (typeof PLANS)[number];

export const LIMIT_NAMES = [
  'projectsPerOrg',
  'membersPerOrg',
  'environmentsPerProject',
  'secretsPerEnvironment',
  'webhooksPerOrg',
  'tokensPerUser',
  'auditRetentionDays',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** As stored and shown: -1 = unlimited. */
export type StoredLimits = Partial<Record<LimitName, number>>;

export const UNLIMITED = -1;

/** The fallback when neither an org override nor `plan_configs` names a limit. */
export const PLAN_LIMITS: Readonly<Record<PlanName, Readonly<Record<LimitName, number>>>> = {
  free: {
    projectsPerOrg: 3,
    membersPerOrg: 5,
    environmentsPerProject: 3,
    secretsPerEnvironment: 100,
    webhooksPerOrg: 2,
    tokensPerUser: 10,
    auditRetentionDays: 30,
  },
  pro: {
    projectsPerOrg: 20,
    membersPerOrg: 25,
    environmentsPerProject: 10,
    secretsPerEnvironment: 1000,
    webhooksPerOrg: 10,
    tokensPerUser: 50,
    auditRetentionDays: 90,
  },
  team: {
    projectsPerOrg: 100,
    membersPerOrg: 100,
    environmentsPerProject: 25,
    secretsPerEnvironment: 5000,
    webhooksPerOrg: 25,
    tokensPerUser: 200,
    auditRetentionDays: 365,
  },
  // Unlimited retention: the plan sets no period, so AUDIT_RETENTION_DAYS applies, else audit rows are kept forever.
  enterprise: {
    projectsPerOrg: UNLIMITED,
    membersPerOrg: UNLIMITED,
    environmentsPerProject: UNLIMITED,
    secretsPerEnvironment: UNLIMITED,
    webhooksPerOrg: UNLIMITED,
    tokensPerUser: UNLIMITED,
    auditRetentionDays: UNLIMITED,
  },
};

/** What a limit measures, for error messages. */
export const LIMIT_LABELS: Readonly<Record<LimitName, string>> = {
  projectsPerOrg: 'projects per organization',
  membersPerOrg: 'members per organization (pending invitations included)',
  environmentsPerProject: 'environments per project',
  secretsPerEnvironment: 'secrets per environment',
  webhooksPerOrg: 'webhooks per organization',
  tokensPerUser: 'active API tokens per user',
  auditRetentionDays: 'days audit events are kept',
};

export type LimitSource = 'override' | 'plan_config' | 'default';

export interface EffectiveLimit {
  /** `Infinity` = unlimited. */
  readonly value: number;
  readonly source: LimitSource;
}

export type EffectiveLimits = Readonly<Record<LimitName, EffectiveLimit>>;

/** Org override → plan_configs → PLAN_LIMITS; -1 becomes Infinity. */
export function resolveLimits(plan: PlanName, planConfig: StoredLimits, overrides: StoredLimits): EffectiveLimits {
  const resolved = {} as Record<LimitName, EffectiveLimit>;
  for (const name of LIMIT_NAMES) {
    const [stored, source]: [number, LimitSource] =
      overrides[name] !== undefined
        ? [overrides[name], 'override']
        : planConfig[name] !== undefined
          ? [planConfig[name], 'plan_config']
          : [PLAN_LIMITS[plan][name], 'default'];
    resolved[name] = { value: stored === UNLIMITED ? Infinity : stored, source };
  }
  return resolved;
}

/** Effective limits as the API shows them: Infinity back to -1 (UNLIMITED), with each limit's source. */
export function limitsForApi(limits: EffectiveLimits): Record<LimitName, EffectiveLimit> {
  const shown = {} as Record<LimitName, EffectiveLimit>;
  for (const name of LIMIT_NAMES) {
    const { value, source } = limits[name];
    shown[name] = { value: value === Infinity ? UNLIMITED : value, source };
  }
  return shown;
}

/** Keeps only known limit names with valid values (an integer ≥ -1); a row edited by hand cannot break resolution. */
export function sanitizeLimits(raw: unknown): StoredLimits {
  const clean: StoredLimits = {};
  if (!raw || typeof raw !== 'object') return clean;
  for (const name of LIMIT_NAMES) {
    const value = (raw as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isInteger(value) && value >= UNLIMITED && !(name === 'auditRetentionDays' && value === 0)) clean[name] = value;
  }
  return clean;
}
