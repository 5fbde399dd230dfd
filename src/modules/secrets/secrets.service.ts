import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { AuditService } from '../audit/audit.service.js';
import { PlansService } from '../plans/plans.service.js';
import { usage } from '../plans/usage.js';
import type { VaultTarget } from '../projects/vault-access.service.js';
import type { SecretEvent } from '../webhooks/secret-event.js';
import { WebhookEvents } from '../webhooks/webhook-events.service.js';
import { readThroughRotation, SecretCipher } from './secret-cipher.service.js';
import {
  BulkDeleteResultDto,
  BulkSetResultDto,
  DeleteSecretResultDto,
  ListKeysDto,
  ListSecretsQueryDto,
  PullSecretsDto,
  RollbackResultDto,
  RollbackSecretDto,
  SecretHistoryDto,
  SetSecretDto,
  SetSecretResultDto,
} from './secrets.dto.js';
import { DuplicateKeysError, SecretNotFoundError, SecretsNotFoundError, SecretVersionNotFoundError } from './secrets.errors.js';
import { SecretsRepository, type Author, type WrittenSecret } from './secrets.repository.js';

type Source = 'set' | 'import' | 'rollback';

@Injectable()
export class SecretsService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: SecretsRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    private readonly events: WebhookEvents,
    private readonly plans: PlansService,
  ) {}

  /** Decrypted values, returned only once the read's audit row has committed (fail closed: no audit row, no values). */
  async pull(target: VaultTarget, query: ListSecretsQueryDto, actor: Actor, meta: RequestMeta): Promise<PullSecretsDto> {
    const { project, environment } = target;
    const { rows, values } = await readThroughRotation(async () => {
      const rows = await this.repo.readCurrent(environment.id, query, true);
      return { rows, values: await this.cipher.decrypt(project.id, rows) };
    });
    // Fail closed: no value leaves before the read's audit row has committed.
    await this.audit.recordCommitted({
      action: 'secret.read',
      orgId: target.org.id,
      actor,
      meta,
      metadata: { ...where(target), ...(query.search ? { search: query.search } : {}), count: rows.length },
    });
    const pagination = await this.pagination(environment.id, query, rows.length);
    return {
      secrets: rows.map((r, i) => ({ key: r.key, value: values[i], description: r.description, version: r.version, updatedAt: r.updatedAt })),
      ...(pagination ? { pagination } : {}),
    };
  }

  async listKeys(target: VaultTarget, query: ListSecretsQueryDto): Promise<ListKeysDto> {
    const rows = await this.repo.readCurrent(target.environment.id, query, false);
    const pagination = await this.pagination(target.environment.id, query, rows.length);
    return {
      keys: rows.map((r) => ({ key: r.key, description: r.description, version: r.version, updatedAt: r.updatedAt })),
      ...(pagination ? { pagination } : {}),
    };
  }

  async set(target: VaultTarget, dto: SetSecretDto, actor: Actor, meta: RequestMeta): Promise<SetSecretResultDto> {
    return this.db.transaction(async (em) => {
      const [written] = await this.write(em, target, [dto], 'set', actor);
      const action = written.created ? 'secret.created' : 'secret.updated';
      await this.events.emit(em, secretEvent(action, target, actor, written.key, { version: written.version }));
      await this.audit.record(em, {
        action,
        orgId: target.org.id,
        actor,
        meta,
        metadata: { ...where(target), key: written.key, version: written.version },
      });
      return written;
    });
  }

  /** All or nothing: one transaction for every key. */
  async bulkSet(target: VaultTarget, secrets: SetSecretDto[], actor: Actor, meta: RequestMeta): Promise<BulkSetResultDto> {
    const duplicates = secrets.map((s) => s.key).filter((key, i, keys) => keys.indexOf(key) !== i);
    if (duplicates.length) throw new DuplicateKeysError([...new Set(duplicates)]);
    return this.db.transaction(async (em) => {
      const written = await this.write(em, target, secrets, 'import', actor);
      const created = written.filter((w) => w.created).length;
      const result = { created, updated: written.length - created, total: written.length };
      await this.events.emit(em, secretEvent('secret.bulk_set', target, actor, null, { ...result, keys: written.map((w) => w.key) }));
      await this.audit.record(em, {
        action: 'secret.bulk_set',
        orgId: target.org.id,
        actor,
        meta,
        metadata: { ...where(target), ...result, keys: written.map((w) => w.key) },
      });
      return result;
    });
  }

  async history(target: VaultTarget, key: string, actor: Actor, meta: RequestMeta): Promise<SecretHistoryDto> {
    const { history, values } = await readThroughRotation(async () => {
      const history = await this.repo.history(this.db.manager, target.environment.id, key);
      if (!history) throw new SecretNotFoundError(key);
      return {
        history,
        values: await this.cipher.decrypt(
          target.project.id,
          history.versions.map((v) => ({ ...v, key })),
        ),
      };
    });
    await this.audit.record(this.db.manager, {
      action: 'secret.history_read',
      orgId: target.org.id,
      actor,
      meta,
      metadata: { ...where(target), key, versions: history.versions.length },
    });
    return {
      key,
      deleted: history.deleted,
      versions: history.versions.map((v, i) => ({
        version: v.version,
        value: values[i],
        description: v.description,
        source: v.source,
        createdAt: v.createdAt,
        createdBy: v.createdById ? { id: v.createdById, email: v.createdByEmail! } : null,
      })),
    };
  }

  /**
   * Writes an earlier version's value as a new version. The ciphertext is copied as it is: its AAD
   * (project and key) is unchanged and its key version travels with it.
   */
  async rollback(target: VaultTarget, dto: RollbackSecretDto, actor: Actor, meta: RequestMeta): Promise<RollbackResultDto> {
    return this.db.transaction(async (em) => {
      await lockProjectKey(em, target.project.id);
      const old = await this.repo.lockVersion(em, target.environment.id, dto.key, dto.version);
      if (old === 'no-key') throw new SecretNotFoundError(dto.key);
      if (!old) throw new SecretVersionNotFoundError(dto.key, dto.version);
      const [written] = await this.repo.writeVersions(
        em,
        { projectId: target.project.id, environmentId: target.environment.id },
        [{ key: dto.key, description: old.description, keyVersion: old.keyVersion, ciphertext: old.ciphertext }],
        'rollback',
        authorOf(actor),
        'exact',
      );
      await this.events.emit(em, secretEvent('secret.updated', target, actor, dto.key, { version: written.version, restoredFrom: dto.version }));
      await this.audit.record(em, {
        action: 'secret.rolled_back',
        orgId: target.org.id,
        actor,
        meta,
        metadata: { ...where(target), key: dto.key, version: written.version, restoredFrom: dto.version },
      });
      return { key: dto.key, version: written.version, restoredFrom: dto.version };
    });
  }

  async remove(target: VaultTarget, key: string, actor: Actor, meta: RequestMeta): Promise<DeleteSecretResultDto> {
    return this.db.transaction(async (em) => {
      const deleted = await this.repo.softDelete(em, target.environment.id, [key]);
      if (!deleted.length) throw new SecretNotFoundError(key);
      await this.events.emit(em, secretEvent('secret.deleted', target, actor, key, {}));
      await this.audit.record(em, { action: 'secret.deleted', orgId: target.org.id, actor, meta, metadata: { ...where(target), key } });
      return { deleted: true, key };
    });
  }

  /** All or nothing: a key that is not set fails the whole request, naming it. */
  async bulkRemove(target: VaultTarget, keys: string[], actor: Actor, meta: RequestMeta): Promise<BulkDeleteResultDto> {
    return this.db.transaction(async (em) => {
      const deleted = await this.repo.softDelete(em, target.environment.id, keys);
      if (deleted.length !== keys.length) throw new SecretsNotFoundError(keys.filter((k) => !deleted.includes(k)));
      await this.events.emit(em, secretEvent('secret.bulk_delete', target, actor, null, { count: deleted.length, keys: deleted }));
      await this.audit.record(em, {
        action: 'secret.bulk_delete',
        orgId: target.org.id,
        actor,
        meta,
        metadata: { ...where(target), count: deleted.length, keys: deleted },
      });
      return { deleted: deleted.length, keys: deleted };
    });
  }

  /** Encrypts under the project's current key version and writes, holding that version steady (see lockProjectKey). */
  private async write(em: EntityManager, target: VaultTarget, entries: SetSecretDto[], source: Source, actor: Actor): Promise<WrittenSecret[]> {
    const keyVersion = await lockProjectKey(em, target.project.id);
    if (source !== 'rollback')
      await this.assertRoomFor(
        em,
        target,
        entries.map((e) => e.key),
      );
    const ciphertexts = await this.cipher.encrypt(target.project.id, keyVersion, entries, em);
    return this.repo.writeVersions(
      em,
      { projectId: target.project.id, environmentId: target.environment.id },
      entries.map((e, i) => ({ key: e.key, description: e.description ?? null, keyVersion, ciphertext: ciphertexts[i] })),
      source,
      authorOf(actor),
    );
  }

  /**
   * Only keys that are not set yet count against secretsPerEnvironment; updates are free. The keys are
   * locked before the limit, as promotion does, so the two lock orders agree and cannot deadlock.
   */
  private async assertRoomFor(em: EntityManager, target: VaultTarget, keys: string[]): Promise<void> {
    await this.repo.lockKeys(em, target.environment.id, keys);
    await this.plans.assertCanAdd(em, target.org.id, {
      limit: 'secretsPerEnvironment',
      scopeId: target.environment.id,
      adding: async (locked) => keys.length - (await this.repo.setKeys(locked, target.environment.id, keys)).size,
      usage: usage.secrets(target.environment.id),
    });
  }

  private async pagination(environmentId: string, query: ListSecretsQueryDto, returned: number) {
    if (query.limit === undefined) return undefined;
    const offset = query.offset ?? 0;
    // A short page needs no count: everything matching is on or before it.
    const total = returned > 0 && returned < query.limit ? offset + returned : await this.repo.countCurrent(this.db.manager, environmentId, query.search);
    return { limit: query.limit, offset, total };
  }
}

/**
 * The project's current key version, with a share lock on the project row until the transaction ends.
 * A key rotation takes the row exclusively to switch versions and to destroy old ones, so no value can
 * be written under a version that is being destroyed.
 */
export async function lockProjectKey(em: EntityManager, projectId: string): Promise<number> {
  const [row] = await em.query('SELECT current_key_version FROM projects WHERE id = $1 FOR SHARE', [projectId]);
  return row.current_key_version;
}

function authorOf(actor: Actor): Author {
  return { userId: actor.userId, tokenId: actor.token?.id ?? null };
}

/** A change for webhooks (delivered only if the transaction it is emitted in commits). Names and counts, never values. */
function secretEvent(event: SecretEvent['event'], target: VaultTarget, actor: Actor, key: string | null, metadata: Record<string, unknown>): SecretEvent {
  return {
    event,
    orgId: target.org.id,
    project: { id: target.project.id, slug: target.project.slug },
    environment: { id: target.environment.id, slug: target.environment.slug },
    key,
    actor: { id: actor.userId, email: actor.email },
    metadata,
  };
}

/** Where an audited secret event happened. */
function where(target: VaultTarget) {
  return {
    projectId: target.project.id,
    project: target.project.slug,
    environmentId: target.environment.id,
    environment: target.environment.slug,
  };
}
