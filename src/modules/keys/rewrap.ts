import type { KeyContext, KeyProvider } from './key-provider.js';
import { KeyProviders } from './key-providers.js';

/** Runs one SQL statement: a pg.Pool's or a TypeORM DataSource's `query`, adapted. */
export type Query = (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;

export type WrappedKeyKind = 'project_key' | 'webhook_secret' | 'audit_signing_key';

export interface WrappedKeyCount {
  kind: WrappedKeyKind;
  provider: string;
  masterKey: string;
  count: number;
  /** Wrapped by the primary provider: nothing to do. */
  current: boolean;
  /** Wrapped by a provider this process is not configured with: it cannot be rewrapped (or read). */
  readable: boolean;
}

export interface RewrapReport {
  rewrapped: { projectKeys: number; webhookSecrets: number; auditSigningKeys: number };
  /** Changed by someone else meanwhile (a key rotation destroyed the version, a webhook was deleted): nothing to do. */
  skipped: number;
  /** Could not be rewrapped; each is logged. Running again retries them. */
  failed: number;
  /** What is still not under the primary provider afterwards. */
  remaining: WrappedKeyCount[];
}

export interface RewrapOptions {
  /** Rows read per query. */
  batchSize?: number;
  /** Keys rewrapped at the same time (each one: an unwrap, a wrap and a check unwrap). */
  concurrency?: number;
  log?: (line: string) => void;
}

interface Item {
  kind: WrappedKeyKind;
  id: string;
  version: number;
  provider: string;
  masterKey: string;
  wrapped: Buffer;
}

/**
 * The three places wrapped material is stored: project_keys, the webhooks' signing secrets, and the keys
 * that sign audit checkpoints (keyed by an int id, carried as `version`; `id` is unused there).
 */
const TABLES = {
  project_key: {
    select: `SELECT project_id::text AS id, version, provider, master_key, wrapped_key AS wrapped FROM project_keys
              WHERE wrapped_key IS NOT NULL AND NOT (provider = $1 AND master_key = $2) AND (project_id, version) > ($3::uuid, $4)
              ORDER BY project_id, version LIMIT $5`,
    update: `UPDATE project_keys SET provider = $1, master_key = $2, wrapped_key = $3
              WHERE project_id = $4 AND version = $5 AND provider = $6 AND master_key = $7 AND wrapped_key = $8`,
    count: `SELECT provider, master_key, count(*)::int AS n FROM project_keys WHERE wrapped_key IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  webhook_secret: {
    select: `SELECT id::text AS id, 0 AS version, secret_provider AS provider, secret_master_key AS master_key, secret_ciphertext AS wrapped FROM webhooks
              WHERE NOT (secret_provider = $1 AND secret_master_key = $2) AND (id, 0) > ($3::uuid, $4)
              ORDER BY id LIMIT $5`,
    update: `UPDATE webhooks SET secret_provider = $1, secret_master_key = $2, secret_ciphertext = $3
              WHERE id = $4 AND $5::int = 0 AND secret_provider = $6 AND secret_master_key = $7 AND secret_ciphertext = $8`,
    count: `SELECT secret_provider AS provider, secret_master_key AS master_key, count(*)::int AS n FROM webhooks GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  audit_signing_key: {
    select: `SELECT $3::uuid::text AS id, id AS version, provider, master_key_id AS master_key, wrapped FROM audit_signing_keys
              WHERE NOT (provider = $1 AND master_key_id = $2) AND id > $4
              ORDER BY id LIMIT $5`,
    update: `UPDATE audit_signing_keys SET provider = $1, master_key_id = $2, wrapped = $3
              WHERE $4::uuid IS NOT NULL AND id = $5 AND provider = $6 AND master_key_id = $7 AND wrapped = $8`,
    count: `SELECT provider, master_key_id AS master_key, count(*)::int AS n FROM audit_signing_keys GROUP BY 1, 2 ORDER BY 1, 2`,
  },
} as const;

const KINDS = ['project_key', 'webhook_secret', 'audit_signing_key'] as const;

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Moves every wrapped key to the primary key provider (`npm run kms:rewrap`; README "Moving between key
 * providers"): each project DEK version, each webhook signing secret and each audit checkpoint signing
 * key not wrapped by the primary is
 * unwrapped by the provider that wrapped it, wrapped by the primary, checked (unwrapped again by the
 * primary) and written back, in one statement that only succeeds if the row still holds what was read.
 * Nothing is re-encrypted: the DEKs, and so every stored value, stay the same, only their wrapping changes.
 *
 * Each row is its own unit, so an interrupted run loses nothing and the next run takes what is left.
 * Servers keep reading both wrappings meanwhile: they are configured with both providers, and the DEK a
 * row unwraps to never changes, so their DEK caches stay valid.
 */
export async function rewrapAll(query: Query, providers: KeyProviders, options: RewrapOptions = {}): Promise<RewrapReport> {
  const { batchSize = 100, concurrency = 8, log = () => undefined } = options;
  const primary = providers.primary;
  const report: RewrapReport = { rewrapped: { projectKeys: 0, webhookSecrets: 0, auditSigningKeys: 0 }, skipped: 0, failed: 0, remaining: [] };

  for (const kind of KINDS) {
    const table = TABLES[kind];
    let cursor: [string, number] = [FIRST_ID, -1];
    for (;;) {
      const { rows } = await query(table.select, [primary.name, primary.masterKeyId, cursor[0], cursor[1], batchSize]);
      if (!rows.length) break;
      const items: Item[] = rows.map((r) => ({
        kind,
        id: r.id as string,
        version: Number(r.version),
        provider: r.provider as string,
        masterKey: r.master_key as string,
        wrapped: r.wrapped as Buffer,
      }));
      cursor = [items.at(-1)!.id, items.at(-1)!.version];
      await forEachLimited(items, concurrency, async (item) => {
        const source = providers.find(item.provider, item.masterKey);
        if (!source) return; // counted in `remaining` as unreadable
        try {
          const moved = await rewrapOne(query, table.update, item, source, primary);
          if (!moved) report.skipped++;
          else report.rewrapped[COUNTED_AS[kind]]++;
        } catch (error) {
          report.failed++;
          log(`Could not rewrap ${describe(item)} (wrapped by ${item.provider}/${item.masterKey}): ${(error as Error).message}`);
        }
      });
      log(`Rewrapped ${describeCounts(report.rewrapped)} so far`);
    }
  }
  report.remaining = (await countWrappedKeys(query, providers)).filter((c) => !c.current);
  return report;
}

async function rewrapOne(query: Query, update: string, item: Item, source: KeyProvider, primary: KeyProvider): Promise<boolean> {
  const context = contextOf(item);
  const material = await source.unwrap(item.wrapped, context);
  try {
    const rewrapped = await primary.wrap(material, context);
    const check = await primary.unwrap(rewrapped, context);
    const same = check.equals(material);
    check.fill(0);
    if (!same) throw new Error(`${primary.name} unwrapped the new wrapping to other bytes; the row is left as it was`);
    const { rowCount } = await query(update, [
      primary.name,
      primary.masterKeyId,
      rewrapped,
      item.id,
      item.version,
      item.provider,
      item.masterKey,
      item.wrapped,
    ]);
    return rowCount === 1;
  } finally {
    material.fill(0);
  }
}

/** Stored wrapped keys by what wrapped them. */
export async function countWrappedKeys(query: Query, providers: KeyProviders): Promise<WrappedKeyCount[]> {
  const counts: WrappedKeyCount[] = [];
  for (const kind of KINDS) {
    const { rows } = await query(TABLES[kind].count);
    for (const r of rows) {
      const provider = r.provider as string;
      const masterKey = r.master_key as string;
      counts.push({
        kind,
        provider,
        masterKey,
        count: Number(r.n),
        current: provider === providers.primary.name && masterKey === providers.primary.masterKeyId,
        readable: providers.find(provider, masterKey) !== undefined,
      });
    }
  }
  return counts;
}

const COUNTED_AS = { project_key: 'projectKeys', webhook_secret: 'webhookSecrets', audit_signing_key: 'auditSigningKeys' } as const;

/** What each kind is called in the command's output. */
export const KIND_LABELS: Readonly<Record<WrappedKeyKind, string>> = {
  project_key: 'project key(s)',
  webhook_secret: 'webhook secret(s)',
  audit_signing_key: 'audit signing key(s)',
};

/** "3 project key(s) and 1 webhook secret(s), 1 audit signing key(s)". */
export function describeCounts(counts: RewrapReport['rewrapped']): string {
  return `${counts.projectKeys} ${KIND_LABELS.project_key} and ${counts.webhookSecrets} ${KIND_LABELS.webhook_secret}, ${counts.auditSigningKeys} ${KIND_LABELS.audit_signing_key}`;
}

function contextOf(item: Item): KeyContext {
  if (item.kind === 'audit_signing_key') return { auditKeyId: item.version };
  return item.kind === 'project_key' ? { projectId: item.id, version: item.version } : { webhookId: item.id };
}

function describe(item: Item): string {
  if (item.kind === 'audit_signing_key') return `audit signing key ${item.version}`;
  return item.kind === 'project_key' ? `project key v${item.version} of project ${item.id}` : `the signing secret of webhook ${item.id}`;
}

async function forEachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]);
  });
  await Promise.all(lanes);
}
