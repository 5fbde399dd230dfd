import { queriesOn } from '../../database/queries-on.js';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { AuditService } from '../audit/audit.service.js';
import type { VaultTarget } from '../projects/vault-access.service.js';
import { readThroughRotation, SecretCipher } from './secret-cipher.service.js';
import { DiffEntryDto, DiffStatus, EnvironmentDiffDto, keysFilter } from './secrets.dto.js';
import { SecretsRepository, type StoredValue } from './secrets.repository.js';

/**
 * Compares the values of two environments of one project on the server. Values are decrypted only to
 * be compared; they leave only when asked for (`showValues`), and then as audited reads of both.
 */
@Injectable()
export class EnvironmentDiff {
  constructor(
    private readonly repo: SecretsRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
  ) {}

  /** `source` and `target`: resolved with read access. `keys`: comma-separated names (all when undefined). */
  async diff(
    source: VaultTarget,
    target: VaultTarget,
    options: { keys?: string; showValues: boolean },
    actor: Actor,
    meta: RequestMeta,
  ): Promise<EnvironmentDiffDto> {
    const projectId = source.project.id;
    const { from, to, fromValues, toValues } = await readThroughRotation(async () => {
      const [from, to] = await Promise.all([
        this.repo.readCurrent(source.environment.id, { keys: options.keys }, true),
        this.repo.readCurrent(target.environment.id, { keys: options.keys }, true),
      ]);
      const [fromValues, toValues] = await Promise.all([this.cipher.decrypt(projectId, from), this.cipher.decrypt(projectId, to)]);
      return { from, to, fromValues, toValues };
    });
    const inSource = new Map(from.map((r, i) => [r.key, { version: r.version, value: fromValues[i] }]));
    const inTarget = new Map(to.map((r, i) => [r.key, { version: r.version, value: toValues[i] }]));
    const names = [...new Set([...inSource.keys(), ...inTarget.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keys: DiffEntryDto[] = names.map((key) => {
      const a = inSource.get(key);
      const b = inTarget.get(key);
      const status: DiffStatus = !b ? 'only_in_source' : !a ? 'only_in_target' : a.value === b.value ? 'identical' : 'changed';
      return {
        key,
        status,
        ...(a ? { sourceVersion: a.version } : {}),
        ...(b ? { targetVersion: b.version } : {}),
        ...(options.showValues && a ? { sourceValue: a.value } : {}),
        ...(options.showValues && b ? { targetValue: b.value } : {}),
      };
    });
    const count = (status: DiffStatus) => keys.filter((k) => k.status === status).length;
    const counts = { onlyInSource: count('only_in_source'), onlyInTarget: count('only_in_target'), changed: count('changed'), identical: count('identical') };
    const differ = counts.onlyInSource + counts.onlyInTarget + counts.changed > 0;

    const common = { projectId, project: source.project.slug, ...(options.keys !== undefined ? { keys: keysFilter(options.keys) } : {}) };
    if (options.showValues) {
      // Values leave: a read of each environment, committed before they do (fail closed, like a pull).
      await Promise.all(
        [
          [source, from],
          [target, to],
        ].map(([env, rows]) =>
          this.audit.recordCommitted({
            action: 'secret.read',
            orgId: source.org.id,
            actor,
            meta,
            metadata: {
              ...common,
              environmentId: (env as VaultTarget).environment.id,
              environment: (env as VaultTarget).environment.slug,
              keys: (rows as Array<{ key: string }>).map((r) => r.key),
              count: (rows as unknown[]).length,
              via: 'diff',
            },
          }),
        ),
      );
    } else {
      await this.audit.recordCommitted({
        action: 'secret.diff',
        orgId: source.org.id,
        actor,
        meta,
        metadata: { ...common, fromEnvironment: source.environment.slug, toEnvironment: target.environment.slug, ...counts },
      });
    }
    return { from: source.environment.slug, to: target.environment.slug, differ, counts, keys };
  }

  /** Which keys hold the same value in `a` and `b` (stored values of one project; keys in only one are not). */
  async identical(
    projectId: string,
    a: ReadonlyArray<StoredValue & { key: string }>,
    b: ReadonlyArray<StoredValue & { key: string }>,
    em?: EntityManager,
  ): Promise<Set<string>> {
    const inB = new Map(b.map((r) => [r.key, r]));
    const pairs = a.filter((r) => inB.has(r.key));
    if (!pairs.length) return new Set();
    const [left, right] = await queriesOn(em, [
      () => this.cipher.decrypt(projectId, pairs, em),
      () =>
        this.cipher.decrypt(
          projectId,
          pairs.map((r) => inB.get(r.key)!),
          em,
        ),
    ] as const);
    return new Set(pairs.filter((_, i) => left[i] === right[i]).map((r) => r.key));
  }
}
