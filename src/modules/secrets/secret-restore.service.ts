import { queriesOn } from '../../database/queries-on.js';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { BadRequestError } from '../../common/errors/domain-error.js';
import type { VaultTarget } from '../projects/vault-access.service.js';
import { EnvironmentDiff } from './environment-diff.service.js';
import { SecretWriter, where } from './secret-writer.service.js';
import { RestoreAction, RestoreResultDto, RestoreSecretsDto } from './secrets.dto.js';
import { SecretsNotFoundError } from './secrets.errors.js';
import { SecretsRepository, type NewVersion } from './secrets.repository.js';

interface RestorePlan {
  /** Past values to write as new versions (restored and revived keys); ciphertexts copied as stored. */
  writes: NewVersion[];
  /** Keys created since: soft-deleted. */
  deletes: string[];
  results: Array<{ key: string; action: RestoreAction; fromVersion?: number }>;
}

/**
 * Point-in-time restore: an environment (all keys, or some) as it was at an instant, in one change of
 * the write pipeline (SecretWriter): keys whose value or description differs get their old value as a
 * new version, keys deleted since come back, keys created since are soft-deleted; one audit row and one
 * webhook event. Old ciphertexts are copied as stored (AAD: project and key; their key version travels).
 */
@Injectable()
export class SecretRestore {
  constructor(
    private readonly db: DataSource,
    private readonly repo: SecretsRepository,
    private readonly writer: SecretWriter,
    private readonly diffs: EnvironmentDiff,
  ) {}

  async restore(target: VaultTarget, dto: RestoreSecretsDto, actor: Actor, meta: RequestMeta): Promise<RestoreResultDto> {
    const at = new Date(dto.to);
    if (Number.isNaN(at.getTime())) throw new BadRequestError('to must be an ISO 8601 date and time, such as 2026-11-30T12:00:00Z');
    if (at.getTime() > Date.now()) throw new BadRequestError('to must not be in the future');
    const to = at.toISOString();

    if (dto.dryRun) return summarize(to, await this.plan(this.db.manager, target, at, dto.keys), true, new Map());

    let plan: RestorePlan;
    return this.writer.apply(target, actor, meta, {
      // Every key that was set then or is set now (of those named); what happens to each is decided once they are locked.
      keys: async (em) => {
        const [past, current] = await queriesOn(em, [
          () => this.repo.stateAt(em, target.environment.id, at, dto.keys),
          () => this.repo.setKeys(em, target.environment.id, dto.keys),
        ] as const);
        return [...past.map((p) => p.key), ...current];
      },
      limited: true,
      mutation: async (em) => {
        plan = await this.plan(em, target, at, dto.keys);
        return { versions: plan.writes, source: 'restore', descriptions: 'exact', alsoDelete: plan.deletes };
      },
      record: ({ written }) => {
        const result = summarize(to, plan, false, new Map(written.map((w) => [w.key, w.version])));
        const byAction = (action: RestoreAction) => plan.results.filter((r) => r.action === action).map((r) => r.key);
        const changes = { to, restored: byAction('restored'), revived: byAction('revived'), deleted: byAction('deleted') };
        if (!plan.writes.length && !plan.deletes.length) return { result, event: null, audit: null };
        return {
          result,
          event: { event: 'secret.restored', key: null, metadata: changes },
          audit: { action: 'secret.restored', metadata: { ...where(target), ...changes, unchanged: result.unchanged } },
        };
      },
    });
  }

  /** What restoring `target` to `at` does to each key (of `keys`, all of which must have been set then or be set now). */
  private async plan(em: EntityManager, target: VaultTarget, at: Date, keys: string[] | undefined): Promise<RestorePlan> {
    const [past, current] = await queriesOn(em, [
      () => this.repo.stateAt(em, target.environment.id, at, keys),
      () => this.repo.currentStored(em, target.environment.id, keys),
    ] as const);
    if (keys) {
      const known = new Set([...past.map((p) => p.key), ...current.map((c) => c.key)]);
      const unknown = keys.filter((k) => !known.has(k));
      if (unknown.length) throw new SecretsNotFoundError(unknown);
    }
    const now = new Map(current.map((c) => [c.key, c]));
    const then = new Set(past.map((p) => p.key));
    const sameValue = await this.diffs.identical(target.project.id, past, current, em);
    const results: RestorePlan['results'] = [];
    const writes: NewVersion[] = [];
    for (const p of past) {
      const c = now.get(p.key);
      const action: RestoreAction = !c ? 'revived' : sameValue.has(p.key) && c.description === p.description ? 'unchanged' : 'restored';
      results.push({ key: p.key, action, fromVersion: p.version });
      if (action !== 'unchanged') writes.push({ key: p.key, description: p.description, keyVersion: p.keyVersion, ciphertext: p.ciphertext });
    }
    const deletes = current.filter((c) => !then.has(c.key)).map((c) => c.key);
    results.push(...deletes.map((key) => ({ key, action: 'deleted' as const })));
    results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { writes, deletes, results };
  }
}

function summarize(to: string, plan: RestorePlan, dryRun: boolean, written: Map<string, number>): RestoreResultDto {
  const count = (action: RestoreAction) => plan.results.filter((r) => r.action === action).length;
  return {
    to,
    dryRun,
    restored: count('restored'),
    revived: count('revived'),
    deleted: count('deleted'),
    unchanged: count('unchanged'),
    results: plan.results.map((r) => ({ ...r, ...(written.has(r.key) ? { version: written.get(r.key) } : {}) })),
  };
}
