/** `secr export` output formats. Each one reads back to exactly the same values. */
export const EXPORT_FORMATS = ['dotenv', 'json', 'shell'] as const;
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
