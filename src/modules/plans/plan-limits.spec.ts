import { describe, expect, it } from '@jest/globals';
import { LIMIT_NAMES, PLAN_LIMITS, resolveLimits, sanitizeLimits } from './plan-limits.js';

describe('plan limit resolution', () => {
  it('falls back to PLAN_LIMITS when neither plan_configs nor the org names a limit', () => {
    const limits = resolveLimits('free', {}, {});
    expect(limits.projectsPerOrg).toEqual({ value: PLAN_LIMITS.free.projectsPerOrg, source: 'default' });
  });

  it('prefers plan_configs to the constants, and the org override to both', () => {
    const limits = resolveLimits('pro', { projectsPerOrg: 7, membersPerOrg: 9 }, { projectsPerOrg: 2 });
    expect(limits.projectsPerOrg).toEqual({ value: 2, source: 'override' });
    expect(limits.membersPerOrg).toEqual({ value: 9, source: 'plan_config' });
    expect(limits.webhooksPerOrg).toEqual({ value: PLAN_LIMITS.pro.webhooksPerOrg, source: 'default' });
  });

  it('reads -1 as unlimited wherever it comes from', () => {
    expect(resolveLimits('free', { tokensPerUser: -1 }, { projectsPerOrg: -1 })).toMatchObject({
      projectsPerOrg: { value: Infinity, source: 'override' },
      tokensPerUser: { value: Infinity, source: 'plan_config' },
    });
  });

  it('makes every enterprise limit unlimited', () => {
    const limits = resolveLimits('enterprise', {}, {});
    for (const name of LIMIT_NAMES) expect(limits[name].value).toBe(Infinity);
  });

  it('ignores unknown names and invalid values in stored limits', () => {
    expect(sanitizeLimits({ projectsPerOrg: 4, bogus: 1, membersPerOrg: -2, webhooksPerOrg: 1.5, tokensPerUser: '3' })).toEqual({ projectsPerOrg: 4 });
    expect(sanitizeLimits(null)).toEqual({});
  });
});
