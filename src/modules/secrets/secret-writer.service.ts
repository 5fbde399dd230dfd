import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { AuditService } from '../audit/audit.service.js';
import { ChangeLogRepository, type ChangeType } from '../changes/change-log.repository.js';
import { PlansService } from '../plans/plans.service.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import type { VaultTarget } from '../projects/vault-access.service.js';
import type { SecretEvent } from '../webhooks/secret-event.js';
import { WebhookEvents } from '../webhooks/webhook-events.service.js';
import { ProjectQueue } from './project-queue.js';
import { ReferenceResolver } from './reference-resolver.service.js';
import { SecretCipher } from './secret-cipher.service.js';
import { EnvironmentChangedError, VersionConflictError } from './secrets.errors.js';
import { SecretsRepository, type CurrentState, type NewVersion, type WrittenSecret } from './secrets.repository.js';

export type SecretSource = 'set' | 'import' | 'rollback' | 'promote' | 'restore';

/** What a change does to the target environment, decided once its keys are locked. */
export type SecretMutation =
  | {
      versions: NewVersion[];
      source: SecretSource;
      /** A null description keeps the current one (set, import); `exact`: it is written as is (rollback, promotion). */
      descriptions: 'keep-when-null' | 'exact';
      /**
       * Plaintext of the values being set (set, import): a version whose key is set to this value already,
       * with the same description (or none given), is not written and is reported as unchanged.
       */
      unchangedIf?: ReadonlyMap<string, string>;
      /** Keys to soft-delete in the same change (a restore: keys created since). */
      alsoDelete?: string[];
    }
  | { deleteKeys: string[] };

/** What was written: new versions, or the keys a delete found set. */
export interface WriteOutcome {
  written: WrittenSecret[];
  deleted: string[];
  /** Keys a set left as they were (same value and description), with their current version. */
  unchanged: Array<{ key: string; version: number }>;
  /** The environment's version once the change is made (0 unless the change asks for it: `reportsEnvironmentVersion`). */
  environmentVersion: number;
}

/** Preconditions checked with the keys locked; a miss is a 409 and nothing is written. */
export interface WriteExpectations {
  /** The version each key must be at (0: the key must not be set). */
  versions?: ReadonlyMap<string, number>;
  /** None of the change's keys may have been written or deleted after this version of the environment. */
  environmentVersion?: number;
}

/** The change's answer, webhook event (null: none) and audit row. Names, counts and versions, never values. */
export interface ChangeRecord<R> {
  result: R;
  event: { event: SecretEvent['event']; key: string | null; metadata: Record<string, unknown> } | null;
  /** Null: nothing changed (a no-op set), so there is nothing to audit. */
  audit: { action: string; metadata: Record<string, unknown> } | null;
}

/** One change to the secrets of an environment, described for the write pipeline. */
export interface SecretChange<R> {
  /** The target environment's keys the change touches; called with the project key locked. */
  keys(em: EntityManager): Promise<readonly string[]> | readonly string[];
  /** Keys not set yet count against the plan's secretsPerEnvironment (writes that create; not rollback or delete). */
  limited: boolean;
  expect?: WriteExpectations;
  /** Read the environment's version after the write, for the answer (one more query). */
  reportsEnvironmentVersion?: boolean;
  /** What to write, with the project key and the keys locked; `keyVersion` is the project's current one. */
  mutation(em: EntityManager, keyVersion: number): Promise<SecretMutation> | SecretMutation;
  /** May throw (a key not found) to roll the whole change back. */
  record(outcome: WriteOutcome): ChangeRecord<R>;
  /**
   * A value the change writes may hold a reference (set and import know it before their transaction):
   * the change then waits for its project's turn in this instance before it opens its transaction.
   */
  storesReferences?: boolean;
}

/**
 * The one write path of secrets: set, bulk set, delete, bulk delete, rollback and promotion. One
 * transaction per change, and always the same lock order, so no two writers can deadlock:
 *   1. the project key, shared (a rotation takes it exclusively to switch or destroy key versions, so
 *      no value is written under a version being destroyed);
 *   2. the target keys, all at once in one global order (SecretsRepository.lockKeys);
 *   3. the plan limit's lock (PlansService);
 *   4. when a written value holds a reference, the project's reference lock (SecretsRepository.lockReferenceGraph),
 *      so that two writes whose references could close a cycle check one after the other;
 * then the references check (ReferenceResolver.assertVersionsWritable), the versions (or soft
 * deletes), the change log's row (with its NOTIFY to the change streams of every instance; its position
 * is the environment's version), the webhook event and the audit row, in that transaction.
 *
 * The reference lock is held until the commit, so writes of references to one project run one at a
 * time. Those whose values are known to hold one (`storesReferences`: set, import) first queue in this
 * instance, per project (ProjectQueue), before they take a connection: a burst of them waits in memory,
 * and at most one per instance waits inside PostgreSQL (for another instance's writer), where a waiter
 * holds a pooled connection and fails past lock_timeout. Queued at most HTTP_REQUEST_TIMEOUT_MS.
 */
@Injectable()
export class SecretWriter {
  constructor(
    private readonly db: DataSource,
    private readonly repo: SecretsRepository,
    private readonly projects: ProjectsRepository,
    private readonly audit: AuditService,
    private readonly events: WebhookEvents,
    private readonly plans: PlansService,
    private readonly cipher: SecretCipher,
    private readonly changes: ChangeLogRepository,
    private readonly references: ReferenceResolver,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.referenceWrites = new ProjectQueue(config.http.requestTimeoutMs);
  }

  private readonly referenceWrites: ProjectQueue;

  apply<R>(target: VaultTarget, actor: Actor, meta: RequestMeta, change: SecretChange<R>): Promise<R> {
    if (change.storesReferences) return this.referenceWrites.run(target.project.id, () => this.write(target, actor, meta, change));
    return this.write(target, actor, meta, change);
  }

  private write<R>(target: VaultTarget, actor: Actor, meta: RequestMeta, change: SecretChange<R>): Promise<R> {
    const { project, environment } = target;
    return this.db.transaction(async (em) => {
      const keyVersion = await this.projects.lockKeyVersion(em, project.id, 'share');
      const keys = [...new Set(await change.keys(em))];
      await this.repo.lockKeys(em, environment.id, keys);
      let current: Map<string, CurrentState> | undefined;
      const currentState = async () => (current ??= await this.repo.currentOf(em, environment.id, keys));
      if (change.expect) await this.checkExpectations(em, environment.id, keys, change.expect, await currentState());
      if (change.limited) {
        await this.plans.assertCanAdd(em, target.org.id, {
          limit: 'secretsPerEnvironment',
          scopeId: environment.id,
          adding: async (locked) => keys.length - (await this.repo.setKeys(locked, environment.id, keys)).size,
          usage: (locked) => this.repo.countSet(locked, environment.id),
        });
      }
      const mutation = await change.mutation(em, keyVersion);
      if ('versions' in mutation) await this.references.assertVersionsWritable(em, target, actor, mutation.versions, mutation.unchangedIf);
      const touched = 'versions' in mutation ? [...mutation.versions.map((v) => v.key), ...(mutation.alsoDelete ?? [])] : mutation.deleteKeys;
      // A set: a bulk write or promotion of n keys would otherwise compare n × n keys here.
      const locked = new Set(keys);
      const unlocked = touched.filter((k) => !locked.has(k));
      if (unlocked.length) throw new Error(`A secret change touched keys it did not lock first: ${unlocked.length}`);

      const outcome: WriteOutcome = { written: [], deleted: [], unchanged: [], environmentVersion: 0 };
      if ('deleteKeys' in mutation) {
        outcome.deleted = await this.repo.softDelete(em, environment.id, mutation.deleteKeys);
      } else {
        let versions = mutation.versions;
        if (mutation.unchangedIf) {
          const same = await this.unchanged(project.id, versions, mutation.unchangedIf, mutation.descriptions, await currentState(), em);
          outcome.unchanged = versions.filter((v) => same.has(v.key)).map((v) => ({ key: v.key, version: current!.get(v.key)!.version }));
          versions = versions.filter((v) => !same.has(v.key));
        }
        if (versions.length) {
          outcome.written = await this.repo.writeVersions(
            em,
            { projectId: project.id, environmentId: environment.id },
            versions,
            mutation.source,
            { userId: actor.userId, tokenId: actor.token?.id ?? null },
            mutation.descriptions,
          );
        }
        if (mutation.alsoDelete?.length) outcome.deleted = await this.repo.softDelete(em, environment.id, mutation.alsoDelete);
      }
      // The change log's row (and its per-environment lock, held until the commit) comes before the
      // answer is built: its position is the environment's new version.
      const changed = [...outcome.written.map((w) => ({ key: w.key, version: w.version })), ...outcome.deleted.map((key) => ({ key, version: null }))];
      const position = changed.length
        ? await this.changes.record(em, environment.id, 'deleteKeys' in mutation ? 'delete' : CHANGE_TYPES[mutation.source], changed)
        : undefined;
      if (change.reportsEnvironmentVersion) outcome.environmentVersion = Number(position ?? (await this.changes.environmentVersion(environment.id, em)));
      const { result, event, audit } = change.record(outcome);
      if (event) await this.events.emit(em, secretEvent(target, actor, event));
      if (audit) await this.audit.record(em, { action: audit.action, orgId: target.org.id, actor, meta, metadata: audit.metadata });
      return result;
    });
  }

  /** Throws a 409 naming each key whose version (or change since the environment version) is not the one expected. */
  private async checkExpectations(
    em: EntityManager,
    environmentId: string,
    keys: readonly string[],
    expect: WriteExpectations,
    current: Map<string, CurrentState>,
  ): Promise<void> {
    const versionOf = (key: string) => {
      const row = current.get(key);
      return row && !row.deleted ? row.version : 0;
    };
    if (expect.versions) {
      const conflicts = [...expect.versions]
        .filter(([key, expected]) => versionOf(key) !== expected)
        .map(([key, expected]) => ({ key, expectedVersion: expected, currentVersion: versionOf(key) }));
      if (conflicts.length) throw new VersionConflictError(conflicts);
    }
    if (expect.environmentVersion !== undefined) {
      const since = expect.environmentVersion;
      // Changes after `since` that were pruned from the log: which keys they touched is unknown, so every key conflicts.
      const changed = await this.changes.keysChangedSince(em, environmentId, String(since), keys);
      const conflicting = changed === 'unknown' ? [...keys].sort() : changed;
      if (conflicting.length) {
        throw new EnvironmentChangedError(
          since,
          Number(await this.changes.environmentVersion(environmentId, em)),
          conflicting.map((key) => ({ key, currentVersion: versionOf(key) })),
        );
      }
    }
  }

  /** The keys of `versions` already set to the given plaintext, with the same description (or none given). */
  private async unchanged(
    projectId: string,
    versions: NewVersion[],
    plaintexts: ReadonlyMap<string, string>,
    descriptions: 'keep-when-null' | 'exact',
    current: Map<string, CurrentState>,
    em: EntityManager,
  ): Promise<Set<string>> {
    const candidates = versions.flatMap((v) => {
      const row = current.get(v.key);
      const sameDescription = (v.description === null && descriptions === 'keep-when-null') || v.description === row?.description;
      return row && !row.deleted && sameDescription && plaintexts.has(v.key) ? [row] : [];
    });
    if (!candidates.length) return new Set();
    const values = await this.cipher.decrypt(projectId, candidates, em);
    return new Set(candidates.filter((row, i) => values[i] === plaintexts.get(row.key)).map((row) => row.key));
  }
}

const CHANGE_TYPES: Record<SecretSource, ChangeType> = { set: 'set', import: 'import', rollback: 'rollback', promote: 'promotion', restore: 'restore' };

/** A change for webhooks (delivered only if the transaction it is emitted in commits). */
function secretEvent(target: VaultTarget, actor: Actor, event: NonNullable<ChangeRecord<unknown>['event']>): SecretEvent {
  return {
    event: event.event,
    orgId: target.org.id,
    project: { id: target.project.id, slug: target.project.slug },
    environment: { id: target.environment.id, slug: target.environment.slug },
    key: event.key,
    actor: { id: actor.userId, email: actor.email },
    metadata: event.metadata,
  };
}

/** Where an audited secret event happened. */
export function where(target: VaultTarget) {
  return {
    projectId: target.project.id,
    project: target.project.slug,
    environmentId: target.environment.id,
    environment: target.environment.slug,
  };
}
