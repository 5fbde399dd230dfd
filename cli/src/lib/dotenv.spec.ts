import { describe, expect, it } from '@jest/globals';
import { DotenvParseError, parseDotenv } from './dotenv.js';

const parse = (text: string) => Object.fromEntries(parseDotenv(text).map((e) => [e.key, e.value]));

describe('parseDotenv', () => {
  it('reads KEY=VALUE lines, skipping blank lines and comments', () => {
    expect(parse('# comment\n\nA=1\n  # indented comment\nB=two words\n')).toEqual({ A: '1', B: 'two words' });
  });

  it('accepts export prefixes and spaces around the equals sign', () => {
    expect(parse('export A=1\nexport   B = 2\n\tC\t=\t3')).toEqual({ A: '1', B: '2', C: '3' });
  });

  it('treats a key named like the prefix as a key', () => {
    expect(parse('export=1\nexport_X=2')).toEqual({ export: '1', export_X: '2' });
  });

  it('trims unquoted values and cuts inline comments that follow whitespace', () => {
    expect(parse('A=  value   # comment\nB=a#b\nC=#only a comment\nD=\nE=   ')).toEqual({ A: 'value', B: 'a#b', C: '', D: '', E: '' });
  });

  it('keeps single-quoted and backtick values literally', () => {
    expect(parse(`A='it has "quotes" and \\n # not a comment'\nB=\`back'tick\``)).toEqual({
      A: 'it has "quotes" and \\n # not a comment',
      B: "back'tick",
    });
  });

  it('decodes escapes in double-quoted values and keeps unknown ones', () => {
    expect(parse('A="line1\\nline2\\ttab \\"q\\" back\\\\slash \\$HOME \\x"')).toEqual({ A: 'line1\nline2\ttab "q" back\\slash $HOME \\x' });
  });

  it('reads quoted values that span lines, and keeps counting lines after them', () => {
    const entries = parseDotenv('A="first\nsecond"\nB=\'one\ntwo\'\nC=3\n');
    expect(entries).toEqual([
      { key: 'A', value: 'first\nsecond', line: 1 },
      { key: 'B', value: 'one\ntwo', line: 3 },
      { key: 'C', value: '3', line: 5 },
    ]);
  });

  it('reads a PEM key in double quotes', () => {
    const pem = '-----BEGIN KEY-----\nMIIB\n-----END KEY-----';
    expect(parse(`TLS_KEY="${pem}"  # the key\n`)).toEqual({ TLS_KEY: pem });
  });

  it('does not expand variables', () => {
    expect(parse('A=$B\nC="${B}"')).toEqual({ A: '$B', C: '${B}' });
  });

  it('handles CRLF line endings and a byte order mark', () => {
    expect(parse('\uFEFFA=1\r\nB="x\r\ny"\r\n')).toEqual({ A: '1', B: 'x\ny' });
  });

  it('keeps the last value of a key set twice', () => {
    expect(parseDotenv('A=1\nB=2\nA=3')).toEqual([
      { key: 'B', value: '2', line: 2 },
      { key: 'A', value: '3', line: 3 },
    ]);
  });

  it.each([
    ['a line without an equals sign', 'A=1\nsk_live_123\n', 2, "expected KEY=VALUE (no '=' after the name)"],
    ['an invalid key', '1ABC=x', 1, 'expected KEY=VALUE'],
    ['an unterminated double quote', 'A=1\nB="open\nC=2', 2, 'unterminated " quote'],
    ['an unterminated single quote', "B='open", 1, "unterminated ' quote"],
    ['text after a closing quote', 'A="x" y', 1, 'unexpected characters after the closing " of A'],
  ])('rejects %s with its line number', (_name, text, line, message) => {
    const error = (() => {
      try {
        parseDotenv(text);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DotenvParseError);
    expect(error).toMatchObject({ line });
    expect((error as Error).message).toContain(`line ${line}: ${message}`);
  });

  it('never quotes the offending line in an error (it may hold a value)', () => {
    expect(() => parseDotenv('sk_live_hunter2')).toThrow(/^line 1: expected KEY=VALUE/);
    expect(() => parseDotenv('sk_live_hunter2')).not.toThrow(/hunter2/);
  });
});
