import { CliFailure, ExitCode } from './errors.js';

/** `secr export` output formats. Each one reads back to exactly the same values. */
export const EXPORT_FORMATS = ['dotenv', 'json', 'shell', 'yaml', 'docker'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type SecretMap = Record<string, string>;

export function formatSecrets(format: ExportFormat, secrets: SecretMap): string {
  switch (format) {
    case 'dotenv':
      return formatDotenv(secrets);
    case 'json':
      return `${JSON.stringify(secrets, null, 2)}\n`;
    case 'shell':
      return formatShell(secrets);
    case 'yaml':
      return formatYaml(secrets);
    case 'docker':
      return formatDockerEnv(secrets);
  }
}

/**
 * `KEY='value'` when single quotes can hold the value literally (no `'`, no line break), which every
 * dotenv reader and docker compose take as is; otherwise `KEY="…"` with `\\`, `\"`, `\n` and `\r`
 * escaped, as `secr import` (and dotenv's double-quote rules) read them.
 */
export function formatDotenv(secrets: SecretMap): string {
  return Object.entries(secrets)
    .map(([key, value]) => `${key}=${dotenvQuote(value)}\n`)
    .join('');
}

export function dotenvQuote(value: string): string {
  if (!/['\n\r]/.test(value)) return `'${value}'`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/** `export KEY='value'` lines for `eval "$(secr export --format shell)"` in sh, bash or zsh. */
export function formatShell(secrets: SecretMap): string {
  return Object.entries(secrets)
    .map(([key, value]) => `export ${key}=${shellQuote(value)}\n`)
    .join('');
}

/** POSIX single quotes: nothing inside is special; a `'` is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Plain keys a YAML 1.1 reader (PyYAML, older Go and Ruby ones) would take as a boolean or null. */
const YAML_SPECIAL_KEY = /^(?:y|n|yes|no|true|false|on|off|null)$/i;

/**
 * One `KEY: "value"` mapping per secret. Values are always double-quoted (so `no`, `0123`, `1e3`,
 * `~`, `: #` and leading spaces stay strings in every YAML reader): JSON's escapes are YAML's, and the
 * characters YAML does not allow unescaped in a stream (DEL, C1 controls, BOM, line/paragraph
 * separators) are escaped too. Keys are plain unless a YAML 1.1 reader would read one as a boolean/null.
 */
export function formatYaml(secrets: SecretMap): string {
  const entries = Object.entries(secrets);
  if (entries.length === 0) return '{}\n';
  return entries.map(([key, value]) => `${YAML_SPECIAL_KEY.test(key) ? yamlQuote(key) : key}: ${yamlQuote(value)}\n`).join('');
}

export function yamlQuote(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\ufeff\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `KEY=value` lines for `docker run --env-file`, which takes everything after the first `=` literally
 * (no quotes, no escapes). A value with a line break (or NUL) cannot be written that way: refused,
 * naming the keys, never the values.
 */
export function formatDockerEnv(secrets: SecretMap): string {
  const unwritable = Object.entries(secrets)
    .filter(([, value]) => /[\n\r\0]/.test(value))
    .map(([key]) => key);
  if (unwritable.length) {
    throw new CliFailure(
      `Cannot write ${unwritable.join(', ')} for docker --env-file: ${unwritable.length === 1 ? 'its value holds' : 'their values hold'} a line break, which that format cannot carry (use --format dotenv, json or yaml, or leave ${unwritable.length === 1 ? 'it' : 'them'} out)`,
      'unrepresentable_value',
      ExitCode.Failure,
    );
  }
  return Object.entries(secrets)
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');
}
