import { describe, expect, it } from '@jest/globals';
import { describeReference, referencesIn, substitute } from './secret-references.js';

describe('secret reference syntax', () => {
  it('finds ${KEY}, ${env.KEY} and optional references with their default text, in order', () => {
    expect(referencesIn('a ${A} ${prod.B_2} ${C:-} ${staging-eu.D:-x y}')).toEqual([
      { env: null, key: 'A', fallback: null },
      { env: 'prod', key: 'B_2', fallback: null },
      { env: null, key: 'C', fallback: '' },
      { env: 'staging-eu', key: 'D', fallback: 'x y' },
    ]);
  });

  it('treats $${ as a literal ${ and text outside the grammar as text', () => {
    expect(referencesIn('$${A} ${ A} ${1A} ${A.B} ${a b} ${')).toEqual([]);
    expect(substitute('$${A} and ${A}', () => 'v')).toBe('${A} and v');
    expect(substitute('${ A} ${1A} ${A.B} ${', () => 'v')).toBe('${ A} ${1A} ${A.B} ${');
  });

  it('substitutes every reference with the lookup’s text and leaves values without ${ as they are', () => {
    const seen: string[] = [];
    expect(
      substitute('${A}-${dev.B:-d}', (ref) => {
        seen.push(describeReference(ref));
        return ref.key.toLowerCase();
      }),
    ).toBe('a-b');
    expect(seen).toEqual(['${A}', '${dev.B}']);
    expect(substitute('no refs $ {} here', () => 'x')).toBe('no refs $ {} here');
  });
});
