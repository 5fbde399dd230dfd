import { describe, expect, it } from '@jest/globals';
import { validate } from 'class-validator';
import { depthError, findBadText, MAX_BODY_DEPTH, nestsDeeperThan } from './input-checks.js';
import { IsMultiLineText, IsSingleLineText } from './text.validators.js';

const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: nested(depth - 1) });

describe('input checks', () => {
  it('counts nesting levels: MAX_BODY_DEPTH objects pass, one more is refused, 100,000 levels do not overflow', () => {
    expect(nestsDeeperThan(nested(MAX_BODY_DEPTH), MAX_BODY_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_BODY_DEPTH + 1), MAX_BODY_DEPTH)).toBe(true);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(depthError(deep)?.message).toMatch(/nested too deeply/);
    expect(depthError({ secrets: [{ key: 'A', value: 'b' }] })).toBeNull();
  });

  it('finds NUL and unpaired surrogates in values and field names, naming the field and echoing nothing', () => {
    expect(findBadText({ secrets: [{ key: 'A', value: 'x\u0000y' }] }, 'body')).toEqual({
      field: 'secrets.0.value',
      message: 'secrets.0.value must not contain NUL characters',
    });
    expect(findBadText({ name: 'a\ud800' }, 'body')?.field).toBe('name');
    expect(findBadText({ meta: { 'k\u0000secret': 1 } }, 'body')).toEqual({
      field: 'meta',
      message: 'meta has a field name that must not contain NUL characters',
    });
    expect(findBadText({ name: 'emoji 😀, tab\t, newline\n, U+FFFD \ufffd' }, 'body')).toBeNull();
  });

  it('refuses every control character in single-line text and all but tab, LF and CR in multi-line text', async () => {
    class Sample {
      @IsSingleLineText()
      name: string;

      @IsMultiLineText()
      description: string;
    }
    const errorsOf = async (name: string, description: string) => {
      const sample = Object.assign(new Sample(), { name, description });
      return (await validate(sample)).map((e) => e.property);
    };
    expect(await errorsOf('Acme Inc. – ü 😀', 'line one\n\tline two\r\n')).toEqual([]);
    for (const control of ['\n', '\t', '\u0001', '\u001b', '\u007f', '\u0085', '\u009b']) {
      expect(await errorsOf(`a${control}b`, 'fine')).toEqual(['name']);
    }
    for (const control of ['\u0001', '\u001b', '\u007f', '\u0085', '\u009b']) {
      expect(await errorsOf('fine', `a${control}b`)).toEqual(['description']);
    }
  });
});
