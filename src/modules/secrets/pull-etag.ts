import { createHash } from 'node:crypto';
import type { CurrentSecretRow } from './secrets.repository.js';
import type { ListSecretsQueryDto } from './secrets.dto.js';

/**
 * The strong ETag of a pull: a hash of what the pull's answer depends on — the environment, the
 * query's filters and page, and each key's name, version and update time (a new value is always a new
 * version) — computed from the rows the pull reads anyway. Values and ciphertexts are not in it: it
 * changes exactly when the answer would, and tells nothing about a value (a key rotation re-encrypts
 * without changing it).
 */
export function pullETag(environmentId: string, query: ListSecretsQueryDto, rows: readonly CurrentSecretRow[], total: number | undefined): string {
  // The bytes hashed are those of one text (head, then key, version and update time per row, each line
  // ended by \n), written into one reused buffer and hashed in one update: building the text as a string
  // allocated ~12 KiB per 50-row pull for the GC to collect; this allocates under 1 KiB, for the same tag.
  const head = `secr-pull/v1\n${environmentId}\n${query.search ?? ''}\n${query.keys ?? ''}\n${query.limit ?? ''}\n${query.offset ?? ''}\n${total ?? ''}\n`;
  let n = scratch.write(head, 0, reserve(head.length * 3), 'utf8');
  for (const r of rows) {
    reserve(n + (r.key.length + r.updatedAt.length) * 3 + 24);
    n += scratch.write(r.key, n, 'utf8');
    scratch[n++] = NEWLINE;
    n += scratch.write(String(r.version), n, 'latin1');
    scratch[n++] = NEWLINE;
    n += scratch.write(r.updatedAt, n, 'utf8');
    scratch[n++] = NEWLINE;
  }
  return `"${createHash('sha256').update(scratch.subarray(0, n)).digest('base64url')}"`;
}

const NEWLINE = 0x0a;
let scratch = Buffer.allocUnsafe(8192);

/** Grows the scratch buffer (keeping its content) to hold at least `bytes`; returns its length. */
function reserve(bytes: number): number {
  if (scratch.length < bytes) {
    const grown = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
    scratch.copy(grown);
    scratch = grown;
  }
  return scratch.length;
}

/** If-None-Match (RFC 9110 §13.1.2): `*`, or a list of entity tags compared weakly (W/ ignored). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
