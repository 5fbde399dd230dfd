import { hash } from 'node:crypto';
import type { CurrentSecretRow } from './secrets.repository.js';
import type { PullSecretsQueryDto } from './secrets.dto.js';

/**
 * The strong ETag of a pull: a hash of what the pull's answer depends on — the environment, the
 * query's filters and page, and each key's name, version and update time (a new value is always a new
 * version) — computed from the rows the pull reads anyway. Values and ciphertexts are not in it: it
 * changes exactly when the answer would, and tells nothing about a value (a key rotation re-encrypts
 * without changing it). `dependencies`: the values references led to (environment, key, version, update
 * time; missing ones too), so that a change in a referenced environment changes the ETag of the pulls
 * that resolve it.
 */
export function pullETag(
  environmentId: string,
  query: PullSecretsQueryDto,
  rows: readonly CurrentSecretRow[],
  total: number | undefined,
  dependencies: readonly string[] = [],
): string {
  // One string, one update: a call into the hash per row costs more than the row's text (the pull's hot path).
  let text = `secr-pull/v1\n${environmentId}\n${query.search ?? ''}\n${query.keys ?? ''}\n${query.limit ?? ''}\n${query.offset ?? ''}\n${total ?? ''}\n`;
  if (query.raw === 'true') text += 'raw\n';
  for (const r of rows) text += `${r.key}\n${r.version}\n${r.updatedAt}\n`;
  for (const d of dependencies) text += `ref\n${d}\n`;
  // One-shot (crypto.hash): no Hash object per pull.
  return `"${hash('sha256', text, 'base64url')}"`;
}

/** If-None-Match (RFC 9110 §13.1.2): `*`, or a list of entity tags compared weakly (W/ ignored). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
