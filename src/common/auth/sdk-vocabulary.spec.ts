import { describe, expect, it } from '@jest/globals';
import * as sdk from '../../../sdk/src/vocabulary.js';
import { canonicalEnvironment, ENVIRONMENT_ALIASES } from '../../modules/projects/environments.js';
import { ROLES, TIERS } from './permissions.js';

describe('the vocabulary the SDK exports', () => {
  it('names the roles and tiers of the role matrix, in its order', () => {
    expect(sdk.ROLES).toEqual(ROLES);
    expect(sdk.TIERS).toEqual(TIERS);
  });

  it('spells out the environment aliases the server accepts', () => {
    expect(sdk.ENVIRONMENT_ALIASES).toEqual(ENVIRONMENT_ALIASES);
    for (const ref of ['dev', 'stg', 'prod', 'development', 'qa']) expect(sdk.canonicalEnvironment(ref)).toBe(canonicalEnvironment(ref));
  });
});
