import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { canonicalEnvironment } from '../projects/environments.js';
import { AuditService } from '../audit/audit.service.js';
import { canReadEnvironment, type VaultTarget } from '../projects/vault-access.service.js';
import { SecretWriter } from '../secrets/secret-writer.service.js';
import { SecretsRepository, type NewVersion } from '../secrets/secrets.repository.js';
import { EnvironmentDiff } from '../secrets/environment-diff.service.js';
import { ReferenceResolver } from '../secrets/reference-resolver.service.js';
import { PromoteResultDto, PromoteSecretsDto, PromotionAction, PromotionDifference } from './promotion.dto.js';
import { KeysNotInSourceError, SameEnvironmentError } from './promotion.errors.js';

interface Plan {
  copies: NewVersion[];
  results: Array<{ key: string; action: PromotionAction; difference: PromotionDifference }>;
}

/**
 * Promotion (spec 000): copy an environment's secrets into another of the same project. The stored
 * ciphertext is copied as it is, never decrypted: its AAD binds project and key name, not the
 * environment (DESIGN.md §4), and its key version travels with it. All keys or none.
 */
@Injectable()
export class PromotionService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: SecretsRepository,
    private readonly writer: SecretWriter,
    private readonly diffs: EnvironmentDiff,
    private readonly references: ReferenceResolver,
    private readonly audit: AuditService,
  ) {}

  /** `source` resolved with read access and `target` with write access (the controller, after `assertDistinctEnvironments`). */
  async promote(actor: Actor, source: VaultTarget, target: VaultTarget, dto: PromoteSecretsDto, meta: RequestMeta): Promise<PromoteResultDto> {
    const overwrite = dto.overwrite ?? false;
    // A caller who may not read the target's tier (a developer promoting to production) is not told
    // whether a value there equals the source's: `exists`, and the spec's rule (overwrite or skip).
    const compare = canReadEnvironment(actor, target.org, target.environment);

    if (dto.dryRun) {
      const stored = await this.sourceValues(this.db.manager, source, dto.keys);
      const plan = await this.plan(this.db.manager, target, stored, overwrite, compare);
      // A plan the write would refuse (references: a cycle, a chain too deep) is refused as the write would be.
      await this.references.assertVersionsWritable(this.db.manager, target, actor, plan.copies);
      const result = summarize(plan, true);
      // Audited as what it is (a plan, no change), committed before the answer.
      await this.audit.recordCommitted({
        action: 'secret.promote_dry_run',
        orgId: target.org.id,
        actor,
        meta,
        metadata: auditMetadata(source, target, overwrite, plan, result),
      });
      return result;
    }
    // The writer locks the project key first: a rotation cannot destroy the key version of a ciphertext
    // being copied. The source is read under that lock, the plan made with the target's keys locked.
    let stored: NewVersion[] = [];
    let plan: Plan;
    return this.writer.apply(target, actor, meta, {
      keys: async (em) => (stored = await this.sourceValues(em, source, dto.keys)).map((s) => s.key),
      limited: true,
      mutation: async (em) => {
        plan = await this.plan(em, target, stored, overwrite, compare);
        return { versions: plan.copies, source: 'promote', descriptions: 'exact' };
      },
      record: () => {
        const result = summarize(plan, false);
        return {
          result,
          event: result.promoted
            ? {
                event: 'secret.promoted',
                key: null,
                metadata: {
                  fromEnvironment: source.environment.slug,
                  promoted: result.promoted,
                  created: keysOf(plan, 'created'),
                  updated: keysOf(plan, 'updated'),
                },
              }
            : null,
          audit: { action: 'secret.promote', metadata: auditMetadata(source, target, overwrite, plan, result) },
        };
      },
    });
  }

  /** The source's current stored values (of `keys`, all of which must be set there). */
  private async sourceValues(em: EntityManager, source: VaultTarget, keys: string[] | undefined): Promise<NewVersion[]> {
    const stored = await this.repo.currentStored(em, source.environment.id, keys);
    if (keys) {
      const found = new Set(stored.map((s) => s.key));
      const missing = keys.filter((k) => !found.has(k));
      if (missing.length) throw new KeysNotInSourceError(missing, source.environment.slug);
    }
    return stored;
  }

  /**
   * What promotion does to each key of the target: create a missing one, overwrite (with `overwrite`) a
   * different value, skip an identical one. Values set in both are decrypted to be compared, never copied
   * decrypted. Without `compare` (the caller may not read the target) nothing is compared: a key set in
   * the target is `exists`, overwritten with `overwrite` (a new version even if the value was the same)
   * and skipped without it, so the answer does not depend on the target's values.
   */
  private async plan(em: EntityManager, target: VaultTarget, stored: NewVersion[], overwrite: boolean, compare: boolean): Promise<Plan> {
    const existing = await this.repo.currentStored(
      em,
      target.environment.id,
      stored.map((s) => s.key),
    );
    const inTarget = new Set(existing.map((e) => e.key));
    const identical = compare ? await this.diffs.identical(target.project.id, stored, existing, em) : new Set<string>();
    const results = stored.map((s) => {
      const difference: PromotionDifference = !inTarget.has(s.key) ? 'new' : !compare ? 'exists' : identical.has(s.key) ? 'identical' : 'changed';
      const action: PromotionAction = difference === 'new' ? 'created' : difference !== 'identical' && overwrite ? 'updated' : 'skipped';
      return { key: s.key, action, difference };
    });
    const copied = new Set(results.filter((r) => r.action !== 'skipped').map((r) => r.key));
    return { copies: stored.filter((s) => copied.has(s.key)), results };
  }
}

const keysOf = (plan: Plan, action: PromotionAction) => plan.results.filter((r) => r.action === action).map((r) => r.key);

/** The audit row's metadata of a promotion (or its dry run): names and counts, never values. */
function auditMetadata(source: VaultTarget, target: VaultTarget, overwrite: boolean, plan: Plan, result: PromoteResultDto) {
  return {
    projectId: target.project.id,
    project: target.project.slug,
    fromEnvironment: source.environment.slug,
    toEnvironment: target.environment.slug,
    overwrite,
    promoted: result.promoted,
    created: keysOf(plan, 'created'),
    updated: keysOf(plan, 'updated'),
    skipped: keysOf(plan, 'skipped'),
  };
}

function summarize(plan: Plan, dryRun: boolean): PromoteResultDto {
  const count = (action: PromotionAction) => plan.results.filter((r) => r.action === action).length;
  const created = count('created');
  const updated = count('updated');
  return { promoted: created + updated, created, updated, skipped: count('skipped'), dryRun, results: plan.results };
}

/** Checked before either environment is resolved: promoting an environment onto itself is a 400, whatever exists. */
export function assertDistinctEnvironments(dto: Pick<PromoteSecretsDto, 'fromEnv' | 'toEnv'>): void {
  if (canonicalEnvironment(dto.fromEnv) === canonicalEnvironment(dto.toEnv)) throw new SameEnvironmentError();
}
