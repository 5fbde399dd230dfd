import { randomBytes } from 'node:crypto';

/** A name as a slug (`^[a-z0-9][a-z0-9-]{0,62}$`, DESIGN.md §6), for orgs and projects named without one. */
export function slugify(name: string): string {
  const slug = name
    // NFKD splits 'é' into 'e' + a combining accent; dropping the marks keeps 'creme', not 'cre-me'.
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return slug || `org-${randomBytes(3).toString('hex')}`;
}
