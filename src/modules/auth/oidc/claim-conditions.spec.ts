import { describe, expect, it } from '@jest/globals';
import { claimMatches, firstUnmet, isVacuous } from './claim-conditions.js';

describe('claim conditions', () => {
  it('matches exact values only exactly', () => {
    expect(claimMatches('acme/api', 'acme/api')).toBe(true);
    expect(claimMatches('acme/api2', 'acme/api')).toBe(false);
    expect(claimMatches('acme.api', 'acme?api')).toBe(true);
    expect(claimMatches('acmeXapi', 'acme.api')).toBe(false);
  });

  it('treats * as any run of characters and ? as one', () => {
    expect(claimMatches('refs/heads/release/1.2', 'refs/heads/release/*')).toBe(true);
    expect(claimMatches('refs/heads/main', 'refs/heads/release/*')).toBe(false);
    expect(claimMatches('repo:acme/api:ref:refs/heads/main', 'repo:acme/*:ref:refs/heads/main')).toBe(true);
    expect(claimMatches('v1', 'v?')).toBe(true);
    expect(claimMatches('v10', 'v?')).toBe(false);
  });

  it('compares numbers and booleans as text and never matches objects, arrays or missing claims', () => {
    expect(claimMatches(42, '42')).toBe(true);
    expect(claimMatches(true, 'true')).toBe(true);
    expect(claimMatches({ a: 1 }, '*x*')).toBe(false);
    expect(claimMatches(['acme/api'], 'acme/api')).toBe(false);
    expect(firstUnmet({ repository: 'acme/api' }, [{ claim: 'ref', pattern: '*main' }])).toEqual({ claim: 'ref', pattern: '*main' });
    expect(firstUnmet({ repository: 'acme/api', ref: 'refs/heads/main' }, [{ claim: 'ref', pattern: '*main' }])).toBeNull();
  });

  it('calls a pattern of wildcards only vacuous', () => {
    expect(isVacuous('*')).toBe(true);
    expect(isVacuous('?*')).toBe(true);
    expect(isVacuous('acme/*')).toBe(false);
  });
});
