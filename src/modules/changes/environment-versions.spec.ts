import { describe, expect, it } from '@jest/globals';
import { EnvironmentVersions } from './environment-versions.js';

describe('EnvironmentVersions (the versions the change feed heard, for the pull header)', () => {
  it('knows nothing until the feed listens, then keeps the highest version heard or read per environment', () => {
    const versions = new EnvironmentVersions();
    versions.heard('e1', '5');
    versions.remember('e1', '5', versions.ticket());
    expect(versions.current('e1')).toBeUndefined();
    versions.listen();
    const ticket = versions.ticket();
    versions.heard('e1', '9');
    // A read that started before change 9 was heard and answers 7 does not take the version back.
    versions.remember('e1', '7', ticket);
    expect(versions.current('e1')).toBe('9');
    versions.remember('e2', '12', ticket);
    expect(versions.current('e2')).toBe('12');
    expect(versions.current('e3')).toBeUndefined();
  });

  it('forgets everything when the feed goes deaf, and does not remember a read that started before a gap', () => {
    const versions = new EnvironmentVersions();
    versions.listen();
    versions.heard('e1', '3');
    const before = versions.ticket();
    versions.deaf();
    expect(versions.current('e1')).toBeUndefined();
    versions.heard('e1', '4'); // not listening: not kept
    versions.listen();
    expect(versions.current('e1')).toBeUndefined();
    // Read before the gap: a change made while the feed was deaf may be newer than what it read.
    versions.remember('e1', '3', before);
    expect(versions.current('e1')).toBeUndefined();
    versions.remember('e1', '4', versions.ticket());
    expect(versions.current('e1')).toBe('4');
  });

  it('ignores a notification whose position is not a number', () => {
    const versions = new EnvironmentVersions();
    versions.listen();
    versions.heard('e1', 'x1');
    versions.heard('e1', '');
    expect(versions.current('e1')).toBeUndefined();
  });
});
