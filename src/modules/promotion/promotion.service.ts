import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { AuditService } from '../audit/audit.service.js';
import { PlansService } from '../plans/plans.service.js';
import { usage } from '../plans/usage.js';
import { canonicalEnvironment } from '../projects/environments.js';
import type { VaultTarget } from '../projects/vault-access.service.js';
import { lockProjectKey } from '../secrets/secrets.service.js';
import { SecretsRepository, type NewVersion } from '../secrets/secrets.repository.js';
import { WebhookEvents } from '../webhooks/webhook-events.service.js';
import { PromoteResultDto, PromoteSecretsDto, PromotionAction } from './promotion.dto.js';
import { KeysNotInSourceError, SameEnvironmentError } from './promotion.errors.js';

interface Plan {
  copies: NewVersion[];
  results: Array<{ key: string; action: PromotionAction }>;
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
    private readonly audit: AuditService,
    private readonly events: WebhookEvents,
    private readonly plans: PlansService,
  ) {}

  /** `source` resolved with read access and `target` with write access (the controller, after `assertDistinctEnvironments`). */
  async promote(actor: Actor, source: VaultTarget, target: VaultTarget, dto: PromoteSecretsDto, meta: RequestMeta): Promise<PromoteResultDto> {
    const overwrite = dto.overwrite ?? false;

    if (dto.dryRun) {
      const plan = await this.plan(this.db.manager, source, target, dto.keys, overwrite);
      return summarize(plan, true);
    }
    return this.db.transaction(async (em) => {
      // A rotation must not destroy the key version of a ciphertext this is copying (see lockProjectKey).
      await lockProjectKey(em, target.project.id);
      const plan = await this.plan(em, source, target, dto.keys, overwrite, true);
      await this.plans.assertCanAdd(em, target.org.id, {
        limit: 'secretsPerEnvironment',
        scopeId: target.environment.id,
        adding: plan.results.filter((r) => r.action === 'created').length,
        usage: usage.secrets(target.environment.id),
      });
      if (plan.copies.length) {
        await this.repo.writeVersions(
          em,
          { projectId: target.project.id, environmentId: target.environment.id },
          plan.copies,
          'promote',
          { userId: actor.userId, tokenId: actor.token?.id ?? null },
          'exact',
        );
      }
      const result = summarize(plan, false);
      const byAction = (action: PromotionAction) => plan.results.filter((r) => r.action === action).map((r) => r.key);
      if (result.promoted) {
        await this.events.emit(em, {
          event: 'secret.promoted',
          orgId: target.org.id,
          project: { id: target.project.id, slug: target.project.slug },
          environment: { id: target.environment.id, slug: target.environment.slug },
          key: null,
          actor: { id: actor.userId, email: actor.email },
          metadata: { fromEnvironment: source.environment.slug, promoted: result.promoted, created: byAction('created'), updated: byAction('updated') },
        });
      }
      await this.audit.record(em, {
        action: 'secret.promote',
        orgId: target.org.id,
        actor,
        meta,
        metadata: {
          projectId: target.project.id,
          project: target.project.slug,
          fromEnvironment: source.environment.slug,
          toEnvironment: target.environment.slug,
          overwrite,
          promoted: result.promoted,
          created: byAction('created'),
          updated: byAction('updated'),
          skipped: byAction('skipped'),
        },
      });
      return result;
    });
  }

  /** What promotion does to each key; with `lock`, the target's keys are locked first so the plan holds. */
  private async plan(em: EntityManager, source: VaultTarget, target: VaultTarget, keys: string[] | undefined, overwrite: boolean, lock = false): Promise<Plan> {
    const stored = await this.repo.currentStored(em, source.environment.id, keys);
    if (keys) {
      const found = new Set(stored.map((s) => s.key));
      const missing = keys.filter((k) => !found.has(k));
      if (missing.length) throw new KeysNotInSourceError(missing, source.environment.slug);
    }
    const names = stored.map((s) => s.key);
    if (lock) await this.repo.lockKeys(em, target.environment.id, names);
    const existing = await this.repo.setKeys(em, target.environment.id, names);
    const results = stored.map((s) => ({
      key: s.key,
      action: (!existing.has(s.key) ? 'created' : overwrite ? 'updated' : 'skipped') as PromotionAction,
    }));
    return { copies: stored.filter((s) => !existing.has(s.key) || overwrite), results };
  }
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
