/**
 * A `.env` parser for `secr import`, strict where the common parsers are silently lossy: a line it
 * cannot read is an error with its line number, never skipped (and never quoted: it may hold a value).
 *
 * - `KEY=value`, `export KEY=value`, spaces around `=`; blank lines and `# comments`.
 * - Unquoted values are trimmed; ` # …` after them is a comment (a `#` inside a word is kept).
 * - `'single'` and `` `backtick` `` quotes are literal; `"double"` quotes understand `\n`, `\r`, `\t`,
 *   `\"`, `\\` and `\$` (any other backslash is kept as is). Quoted values may span lines.
 * - No variable expansion: `$OTHER` stays as written.
 * - A key set twice keeps the last value.
 */
export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

export class DotenvParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'DotenvParseError';
  }
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*/;
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

export function parseDotenv(text: string): DotenvEntry[] {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const entries = new Map<string, DotenvEntry>();
  let pos = 0;
  let line = 1;

  while (pos < src.length) {
    const end = lineEnd(src, pos);
    const startLine = line;
    let rest = src.slice(pos, end).trimStart();
    if (rest === '' || rest.startsWith('#')) {
      ({ pos, line } = nextLine(end, line));
      continue;
    }
    const lineStart = pos + (src.slice(pos, end).length - rest.length);
    let cursor = lineStart;
    if (/^export[ \t]+/.test(rest)) {
      const skip = rest.match(/^export[ \t]+/)![0].length;
      cursor += skip;
      rest = rest.slice(skip);
    }
    const keyMatch = KEY.exec(rest);
    if (!keyMatch) throw new DotenvParseError('expected KEY=VALUE (a key starts with a letter or _)', startLine);
    const key = keyMatch[0];
    cursor += key.length;
    cursor = skipBlanks(src, cursor);
    if (src[cursor] !== '=') throw new DotenvParseError("expected KEY=VALUE (no '=' after the name)", startLine);
    cursor = skipBlanks(src, cursor + 1);

    const quote = src[cursor];
    let value: string;
    if (quote === '"' || quote === "'" || quote === '`') {
      const parsed = quote === '"' ? readDoubleQuoted(src, cursor + 1, startLine) : readLiteralQuoted(src, cursor + 1, quote, startLine);
      value = parsed.value;
      line += countNewlines(src, cursor, parsed.end);
      const after = src.slice(parsed.end, lineEnd(src, parsed.end));
      if (!/^[ \t]*(#.*)?$/.test(after)) throw new DotenvParseError(`unexpected characters after the closing ${quote} of ${key}`, line);
      pos = lineEnd(src, parsed.end);
    } else {
      value = stripInlineComment(src.slice(cursor, end)).trim();
      pos = end;
    }
    entries.delete(key);
    entries.set(key, { key, value, line: startLine });
    ({ pos, line } = nextLine(pos, line));
  }
  return [...entries.values()];
}

function readDoubleQuoted(src: string, start: number, line: number): { value: string; end: number } {
  let value = '';
  for (let i = start; i < src.length; i++) {
    const ch = src[i];
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\' && i + 1 < src.length) {
      const escaped = DOUBLE_QUOTE_ESCAPES[src[i + 1]];
      if (escaped !== undefined) {
        value += escaped;
        i++;
        continue;
      }
    }
    value += ch;
  }
  throw new DotenvParseError('unterminated " quote', line);
}

function readLiteralQuoted(src: string, start: number, quote: string, line: number): { value: string; end: number } {
  const close = src.indexOf(quote, start);
  if (close === -1) throw new DotenvParseError(`unterminated ${quote} quote`, line);
  return { value: src.slice(start, close), end: close + 1 };
}

/** ` # comment` ends an unquoted value; so does a `#` right after `=`. */
function stripInlineComment(raw: string): string {
  if (raw.startsWith('#')) return '';
  const match = /[ \t]#/.exec(raw);
  return match ? raw.slice(0, match.index) : raw;
}

function lineEnd(src: string, from: number): number {
  const i = src.indexOf('\n', from);
  return i === -1 ? src.length : i;
}

function nextLine(end: number, line: number): { pos: number; line: number } {
  return { pos: end + 1, line: line + 1 };
}

function skipBlanks(src: string, from: number): number {
  let i = from;
  while (src[i] === ' ' || src[i] === '\t') i++;
  return i;
}

function countNewlines(src: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (src[i] === '\n') n++;
  return n;
}
