/**
 * References inside stored values (issue #19): `${KEY}` (same environment), `${env.KEY}` (another
 * environment of the project, by slug or alias), `${KEY:-}` / `${KEY:-text}` (optional: empty or
 * `text` when the key is missing), and `$${` for a literal `${`. Text that does not match the grammar
 * stays as it is. Pure functions: the resolution (access, fetching, audit) is ReferenceResolver's.
 */

/** A hop from one stored value to another (chains longer than this are refused). */
export const MAX_REFERENCE_DEPTH = 5;

export interface SecretReference {
  /** The environment slug or alias as written; null: the value's own environment. */
  readonly env: string | null;
  readonly key: string;
  /** Null: required; otherwise the text used when the key is missing (`''` for `${KEY:-}`). */
  readonly fallback: string | null;
}

const TOKEN = /\$\$\{|\$\{(?:([a-z0-9][a-z0-9-]{0,62})\.)?([A-Za-z_][A-Za-z0-9_]{0,255})(?::-([^}]*))?\}/g;

/** The cheap test every pulled value goes through: a value without `${` is returned as stored. */
export function mayReference(value: string): boolean {
  return value.includes('${');
}

/** The references of a stored value, in order (escapes are not references). */
export function referencesIn(value: string): SecretReference[] {
  if (!mayReference(value)) return [];
  const found: SecretReference[] = [];
  for (const m of value.matchAll(TOKEN)) {
    if (m[0] !== '$${') found.push({ env: m[1] ?? null, key: m[2], fallback: m[3] ?? null });
  }
  return found;
}

/** The value with each reference replaced by `lookup`'s text and each `$${` by `${`. */
export function substitute(value: string, lookup: (ref: SecretReference) => string): string {
  if (!mayReference(value)) return value;
  return value.replace(TOKEN, (whole: string, env: string | undefined, key: string, fallback: string | undefined) =>
    whole === '$${' ? '${' : lookup({ env: env ?? null, key, fallback: fallback ?? null }),
  );
}

/** How a reference is named in errors and audit: `${KEY}` or `${env.KEY}`, never its default text. */
export function describeReference(ref: SecretReference): string {
  return ref.env === null ? `\${${ref.key}}` : `\${${ref.env}.${ref.key}}`;
}
