import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { parseDotenv } from './dotenv.js';
import YAML from 'yaml';
import { dotenvQuote, formatSecrets, shellQuote } from './formats.js';

const tricky: Record<string, string> = {
  PLAIN: 'abc123',
  EMPTY: '',
  SPACES: '  padded value  ',
  DOLLAR: 'pa$$word ${HOME} $(whoami) `id`',
  SINGLE: "it's",
  DOUBLE: 'say "hi"',
  BACKSLASH: 'C:\\path\\n',
  MULTILINE: '-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n',
  CRLF: 'a\r\nb',
  MIXED: `'"\\\n$#`,
  HASH: 'value # not a comment',
  UNICODE: 'ünïcødé ✓',
};

describe('export formats', () => {
  it('quotes a dotenv value in single quotes when it can, else in escaped double quotes', () => {
    expect(dotenvQuote('pa$$ "x" \\n')).toBe(`'pa$$ "x" \\n'`);
    expect(dotenvQuote("it's")).toBe(`"it's"`);
    expect(dotenvQuote('a\nb "c" \\d')).toBe('"a\\nb \\"c\\" \\\\d"');
  });

  it('writes dotenv that secr import reads back to the same values', () => {
    const text = formatSecrets('dotenv', tricky);
    expect(text.split('\n').filter(Boolean)).toHaveLength(Object.keys(tricky).length);
    expect(Object.fromEntries(parseDotenv(text).map((e) => [e.key, e.value]))).toEqual(tricky);
  });

  it('writes JSON that parses back to the same values', () => {
    expect(JSON.parse(formatSecrets('json', tricky))).toEqual(tricky);
  });

  it('quotes shell values so that nothing inside is interpreted', () => {
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(formatSecrets('shell', { A: 'x' })).toBe("export A='x'\n");
  });

  it('writes shell exports that sh evaluates to exactly the same values', () => {
    const script = `${formatSecrets('shell', tricky)}\n${Object.keys(tricky)
      .map((k) => `printf '%s\\0' "$${k}"`)
      .join('\n')}`;
    const out = execFileSync('sh', ['-c', script], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(Object.values(tricky));
  });

  it('writes YAML whose every value reads back as the same string (1.2 and 1.1), with keys a 1.1 reader would take as booleans quoted', () => {
    const awkward = { ...tricky, NO: 'no', ON: 'on', OCTAL: '0123', TILDE: '~', CONTROL: '\u007f\u0085\u2028\ufeff', y: 'yes' };
    const text = formatSecrets('yaml', awkward);
    expect(YAML.parse(text)).toEqual(awkward);
    expect(YAML.parse(text, { version: '1.1' })).toEqual(awkward);
    expect(text).toContain('"y": "yes"\n');
    expect(formatSecrets('yaml', {})).toBe('{}\n');
  });

  it('writes docker env lines unquoted, and refuses a value with a line break naming its key only', () => {
    expect(formatSecrets('docker', { A: `it's "x" $Y = #z`, B: '' })).toBe(`A=it's "x" $Y = #z\nB=\n`);
    expect(() => formatSecrets('docker', { OK: 'x', PEM: 'a\nb', CR: 'c\rd' })).toThrow(
      /^Cannot write PEM, CR for docker --env-file: their values hold a line break/,
    );
  });
});
