export interface ClaimCondition {
  claim: string;
  pattern: string;
}

/**
 * Whether a claim value matches a condition's pattern: exactly, or as a glob where `*` is any run of
 * characters (`/` included: `acme/*` matches every repository of acme) and `?` is one character.
 * Strings, numbers and booleans are compared as text; a missing claim, an object or an array never matches.
 */
export function claimMatches(value: unknown, pattern: string): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  const text = String(value);
  if (!/[*?]/.test(pattern)) return text === pattern;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*')
    .replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${source}$`).test(text);
}

/** The first condition the claims do not meet, or null when all hold. */
export function firstUnmet(claims: Record<string, unknown>, conditions: readonly ClaimCondition[]): ClaimCondition | null {
  return conditions.find((c) => !Object.hasOwn(claims, c.claim) || !claimMatches(claims[c.claim], c.pattern)) ?? null;
}

/** A pattern of wildcards only would accept anything: a condition must pin something down. */
export function isVacuous(pattern: string): boolean {
  return /^[*?]*$/.test(pattern);
}
