import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersRepository } from '../auth/users.repository.js';
import { ChangeLogRepository } from '../changes/change-log.repository.js';
import { EnvironmentVersions } from '../changes/environment-versions.js';
import { canReadEnvironment, type VaultTarget } from '../projects/vault-access.service.js';
import { matchesIfNoneMatch, pullETag } from './pull-etag.js';
import { ReferenceResolver } from './reference-resolver.service.js';
import { readThroughRotation, SecretCipher } from './secret-cipher.service.js';
import { mayReference } from './secret-references.js';
import { SecretWriter, where } from './secret-writer.service.js';
import {
  BulkDeleteResultDto,
  BulkSetResultDto,
  DeleteSecretResultDto,
  ListKeysDto,
  keysFilter,
  ListSecretsQueryDto,
  PullSecretsDto,
  PullSecretsQueryDto,
  RollbackResultDto,
  RollbackSecretDto,
  SecretHistoryDto,
  SetSecretDto,
  SetSecretResultDto,
} from './secrets.dto.js';
import { DuplicateKeysError, SecretNotFoundError, SecretsNotFoundError, SecretVersionNotFoundError } from './secrets.errors.js';
import { SecretsRepository, type NewVersion } from './secrets.repository.js';

@Injectable()
export class SecretsService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: SecretsRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    private readonly writer: SecretWriter,
    private readonly users: UsersRepository,
    private readonly changes: ChangeLogRepository,
    private readonly references: ReferenceResolver,
    private readonly versions: EnvironmentVersions,
  ) {}

  /**
   * Decrypted values, returned only once the read's audit row has committed (fail closed: no audit row,
   * no values), with the answer's ETag and the environment's version. References in the values are
   * resolved (ReferenceResolver) unless `query.raw`; the referenced keys read are audited in the same
   * row. When `ifNoneMatch` matches the ETag, no body is returned (`notModified`): still a read, and
   * audited as one. Nothing is decrypted for that answer when the rows are known to hold no reference
   * (or the pull is raw).
   */
  async pull(
    target: VaultTarget,
    query: PullSecretsQueryDto,
    actor: Actor,
    meta: RequestMeta,
    ifNoneMatch?: string,
  ): Promise<{ etag: string; environmentVersion: string; body: PullSecretsDto | null }> {
    const raw = query.raw === 'true';
    const { rows, pagination, etag, resolution, environmentVersion } = await readThroughRotation(() => this.readPull(target, query, actor, raw, ifNoneMatch));
    const values = resolution?.values ?? null;
    const references = resolution?.reads ?? [];
    // Fail closed: no value leaves before the read's audit row has committed.
    await this.audit.recordCommitted({
      action: 'secret.read',
      orgId: target.org.id,
      actor,
      meta,
      metadata: {
        ...where(target),
        ...(query.search ? { search: query.search } : {}),
        // Named keys are audited by name: the ones read (a named key that does not exist was not read).
        ...(query.keys !== undefined ? { keys: rows.map((r) => r.key) } : {}),
        count: rows.length,
        ...(raw ? { raw: true } : {}),
        // Values reached through references are reads of the referenced keys.
        ...(references.length ? { references } : {}),
        ...(values ? {} : { notModified: true }),
      },
    });
    if (!values) return { etag, environmentVersion, body: null };
    return {
      etag,
      environmentVersion,
      body: {
        secrets: rows.map((r, i) => ({ key: r.key, value: values[i], description: r.description, version: r.version, updatedAt: r.updatedAt })),
        ...(pagination ? { pagination } : {}),
      },
    };
  }

  /**
   * The rows of a pull, their ETag and (unless the ETag matches `ifNoneMatch`: null values) their values,
   * resolved unless `raw`. A conditional pull compares the ETag before decrypting when it can: raw, or a
   * page seen to hold no reference (otherwise the referenced versions are part of the ETag).
   */
  private async readPull(target: VaultTarget, query: PullSecretsQueryDto, actor: Actor, raw: boolean, ifNoneMatch: string | undefined) {
    const { project, environment } = target;
    const { rows, environmentVersion } = await this.pullRows(environment.id, query);
    const pagination = await this.pagination(environment.id, query, rows.length);
    const total = pagination?.total;
    // A conditional pull hashes the rows first; without references that ETag is the answer's too.
    const plainETag = ifNoneMatch ? pullETag(environment.id, query, rows, total) : undefined;
    if (plainETag && matchesIfNoneMatch(ifNoneMatch, plainETag) && (raw || this.references.knownWithoutReferences(plainETag)))
      return { rows, pagination, etag: plainETag, environmentVersion, resolution: null };
    const values = await this.cipher.decrypt(project.id, rows);
    const resolution = raw ? { values, dependencies: [], reads: [] } : await this.references.resolve(target, actor, rows, values);
    const etag = plainETag && !resolution.dependencies.length ? plainETag : pullETag(environment.id, query, rows, total, resolution.dependencies);
    if (!raw && !resolution.dependencies.length && resolution.values === values) this.references.rememberWithoutReferences(etag);
    return { rows, pagination, etag, environmentVersion, resolution: matchesIfNoneMatch(ifNoneMatch, etag) ? { ...resolution, values: null } : resolution };
  }

  /**
   * A pull's rows and the environment's version they are at least as new as (a check-and-set with it
   * cannot miss a change the answer did not show): the version the change feed heard last, taken before
   * the rows are read (EnvironmentVersions), or, when that is not known, read with the rows in one
   * statement (one snapshot) and remembered.
   */
  private async pullRows(environmentId: string, query: PullSecretsQueryDto) {
    const heard = this.versions.current(environmentId);
    if (heard !== undefined) return { rows: await this.repo.readCurrent(environmentId, query, true), environmentVersion: heard };
    const ticket = this.versions.ticket();
    const read = await this.repo.readPull(environmentId, query);
    this.versions.remember(environmentId, read.environmentVersion, ticket);
    return read;
  }

  async listKeys(target: VaultTarget, query: ListSecretsQueryDto): Promise<ListKeysDto> {
    // Before the rows, as in a pull: the list is at least as new as the version it reports.
    const environmentVersion = Number(await this.changes.environmentVersion(target.environment.id));
    const rows = await this.repo.readCurrent(target.environment.id, query, false);
    const pagination = await this.pagination(target.environment.id, query, rows.length);
    return {
      keys: rows.map((r) => ({ key: r.key, description: r.description, version: r.version, updatedAt: r.updatedAt })),
      environmentVersion,
      ...(pagination ? { pagination } : {}),
    };
  }

  /**
   * A value and description equal to the current ones write nothing (`unchanged`), for a caller who may
   * read the environment (unchangedIf); for one who may not (a developer writing production) every set
   * writes a version and is audited, so the answer does not tell whether a guess was the stored value.
   * `dto.expectedVersion`: check-and-set.
   */
  async set(target: VaultTarget, dto: SetSecretDto, actor: Actor, meta: RequestMeta): Promise<SetSecretResultDto> {
    return this.writer.apply<SetSecretResultDto>(target, actor, meta, {
      keys: () => [dto.key],
      limited: true,
      storesReferences: mayReference(dto.value),
      ...(dto.expectedVersion !== undefined ? { expect: { versions: new Map([[dto.key, dto.expectedVersion]]) } } : {}),
      mutation: async (em, keyVersion) => ({
        versions: await this.encrypt(em, target, keyVersion, [dto]),
        source: 'set',
        descriptions: 'keep-when-null',
        ...unchangedIf(actor, target, [dto]),
      }),
      record: ({ written: [written], unchanged: [same] }) => {
        if (same) return { result: { key: same.key, version: same.version, created: false, unchanged: true }, event: null, audit: null };
        const action = written.created ? 'secret.created' : 'secret.updated';
        return {
          result: { ...written, unchanged: false },
          event: { event: action, key: written.key, metadata: { version: written.version } },
          audit: { action, metadata: { ...where(target), key: written.key, version: written.version } },
        };
      },
    });
  }

  /**
   * All or nothing: one transaction for every key. Keys already at the value and description given are
   * not written (`unchanged`); when none is written, nothing is announced or audited. As for `set`, only
   * for a caller who may read the environment: for others every key is written.
   * `ifEnvironmentVersion`: none of the keys may have changed after that version of the environment.
   */
  async bulkSet(target: VaultTarget, secrets: SetSecretDto[], actor: Actor, meta: RequestMeta, ifEnvironmentVersion?: number): Promise<BulkSetResultDto> {
    const seen = new Set<string>();
    const duplicates = secrets.map((s) => s.key).filter((key) => seen.size === seen.add(key).size);
    if (duplicates.length) throw new DuplicateKeysError([...new Set(duplicates)]);
    return this.writer.apply(target, actor, meta, {
      keys: () => secrets.map((s) => s.key),
      limited: true,
      storesReferences: secrets.some((s) => mayReference(s.value)),
      ...(ifEnvironmentVersion !== undefined ? { expect: { environmentVersion: ifEnvironmentVersion } } : {}),
      reportsEnvironmentVersion: true,
      mutation: async (em, keyVersion) => ({
        versions: await this.encrypt(em, target, keyVersion, secrets),
        source: 'import',
        descriptions: 'keep-when-null',
        ...unchangedIf(actor, target, secrets),
      }),
      record: ({ written, unchanged, environmentVersion }) => {
        const created = written.filter((w) => w.created).length;
        const counts = { created, updated: written.length - created, unchanged: unchanged.length, total: secrets.length };
        const result = { ...counts, environmentVersion };
        if (!written.length) return { result, event: null, audit: null };
        const keys = written.map((w) => w.key);
        return {
          result,
          event: { event: 'secret.bulk_set', key: null, metadata: { ...counts, keys } },
          audit: { action: 'secret.bulk_set', metadata: { ...where(target), ...counts, keys } },
        };
      },
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
    const authors = await this.users.profiles(
      this.db.manager,
      history.versions.flatMap((v) => (v.createdBy ? [v.createdBy] : [])),
    );
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
        createdBy: v.createdBy && authors.has(v.createdBy) ? { id: v.createdBy, email: authors.get(v.createdBy)!.email } : null,
      })),
    };
  }

  /**
   * Writes an earlier version's value as a new version. The ciphertext is copied as it is: its AAD
   * (project and key) is unchanged and its key version travels with it.
   */
  async rollback(target: VaultTarget, dto: RollbackSecretDto, actor: Actor, meta: RequestMeta): Promise<RollbackResultDto> {
    return this.writer.apply(target, actor, meta, {
      keys: () => [dto.key],
      limited: false,
      mutation: async (em) => {
        const old = await this.repo.lockVersion(em, target.environment.id, dto.key, dto.version);
        if (old === 'no-key') throw new SecretNotFoundError(dto.key);
        if (!old) throw new SecretVersionNotFoundError(dto.key, dto.version);
        return {
          versions: [{ key: dto.key, description: old.description, keyVersion: old.keyVersion, ciphertext: old.ciphertext }],
          source: 'rollback',
          descriptions: 'exact',
        };
      },
      record: ({ written: [written] }) => ({
        result: { key: dto.key, version: written.version, restoredFrom: dto.version },
        event: { event: 'secret.updated', key: dto.key, metadata: { version: written.version, restoredFrom: dto.version } },
        audit: { action: 'secret.rolled_back', metadata: { ...where(target), key: dto.key, version: written.version, restoredFrom: dto.version } },
      }),
    });
  }

  async remove(target: VaultTarget, key: string, actor: Actor, meta: RequestMeta): Promise<DeleteSecretResultDto> {
    return this.writer.apply(target, actor, meta, {
      keys: () => [key],
      limited: false,
      mutation: () => ({ deleteKeys: [key] }),
      record: ({ deleted }) => {
        if (!deleted.length) throw new SecretNotFoundError(key);
        return {
          result: { deleted: true, key },
          event: { event: 'secret.deleted', key, metadata: {} },
          audit: { action: 'secret.deleted', metadata: { ...where(target), key } },
        };
      },
    });
  }

  /** All or nothing: a key that is not set fails the whole request, naming it. */
  async bulkRemove(target: VaultTarget, keys: string[], actor: Actor, meta: RequestMeta): Promise<BulkDeleteResultDto> {
    return this.writer.apply(target, actor, meta, {
      keys: () => keys,
      limited: false,
      mutation: () => ({ deleteKeys: keys }),
      record: ({ deleted }) => {
        if (deleted.length !== keys.length) {
          const gone = new Set(deleted);
          throw new SecretsNotFoundError(keys.filter((k) => !gone.has(k)));
        }
        return {
          result: { deleted: deleted.length, keys: deleted },
          event: { event: 'secret.bulk_delete', key: null, metadata: { count: deleted.length, keys: deleted } },
          audit: { action: 'secret.bulk_delete', metadata: { ...where(target), count: deleted.length, keys: deleted } },
        };
      },
    });
  }

  /** The new versions of `entries`, encrypted under the project's current key version (held steady by the writer's lock). */
  private async encrypt(em: EntityManager, target: VaultTarget, keyVersion: number, entries: SetSecretDto[]): Promise<NewVersion[]> {
    const ciphertexts = await this.cipher.encrypt(target.project.id, keyVersion, entries, em);
    return entries.map((e, i) => ({ key: e.key, description: e.description ?? null, keyVersion, ciphertext: ciphertexts[i] }));
  }

  private async pagination(environmentId: string, query: ListSecretsQueryDto, returned: number) {
    if (query.limit === undefined) return undefined;
    const offset = query.offset ?? 0;
    // A short page needs no count: everything matching is on or before it.
    const total =
      returned > 0 && returned < query.limit
        ? offset + returned
        : await this.repo.countCurrent(this.db.manager, environmentId, query.search, keysFilter(query.keys));
    return { limit: query.limit, offset, total };
  }
}

/**
 * The writer's no-op check (a key already at the value given is not written), only for a caller who may
 * read the environment: for any other, `unchanged` would confirm a guess of a value they may not read.
 */
function unchangedIf(actor: Actor, target: VaultTarget, entries: readonly SetSecretDto[]): { unchangedIf?: ReadonlyMap<string, string> } {
  if (!canReadEnvironment(actor, target.org, target.environment)) return {};
  return { unchangedIf: new Map(entries.map((e) => [e.key, e.value])) };
}
