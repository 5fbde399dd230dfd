import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { ProjectKeys } from '../keys/project-keys.service.js';
import { SecretCipher } from '../secrets/secret-cipher.service.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import { ProjectsRepository } from './projects.repository.js';
import { RotateKeyResultDto } from './projects.dto.js';
import type { ProjectRef } from './vault-access.service.js';

/**
 * Key rotation (DESIGN.md §4): create DEK version n+1 and make it current; re-encrypt every stored
 * value (current and history) in batches, each its own transaction; then destroy the old wrapped keys
 * once no row references them. Every row names its key version, so reads work at every point, and a
 * rotation cut short (process killed) is finished by calling rotate-key again.
 */
@Injectable()
export class KeyRotationService {
  private readonly batchSize: number;

  constructor(
    private readonly db: DataSource,
    private readonly keys: ProjectKeys,
    private readonly projects: ProjectsRepository,
    private readonly secrets: SecretsRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.batchSize = config.rotationBatchSize;
  }

  async rotate(actor: Actor, project: ProjectRef, meta: RequestMeta): Promise<RotateKeyResultDto> {
    const { keyVersion, resumed } = await this.begin(project, actor, meta);
    let reencrypted = 0;
    for (;;) {
      reencrypted += await this.reencryptAll(project.id, keyVersion);
      const destroyed = await this.finish(project, keyVersion, reencrypted, resumed, actor, meta);
      if (destroyed) return { keyVersion, reencrypted, destroyedVersions: destroyed, resumed };
    }
  }

  /** Switches the project to a new key version, or resumes an unfinished rotation. */
  private begin(project: ProjectRef, actor: Actor, meta: RequestMeta): Promise<{ keyVersion: number; resumed: boolean }> {
    return this.db.transaction(async (em) => {
      const current = await this.projects.lockKeyVersion(em, project.id, 'update');
      if ((await this.keys.countLiveBelow(em, project.id, current)) > 0) return { keyVersion: current, resumed: true };
      const next = current + 1;
      await this.keys.create(em, project.id, next);
      await this.projects.setKeyVersion(em, project.id, next);
      await this.audit.record(em, {
        action: 'project.key_rotation_started',
        orgId: project.orgId,
        actor,
        meta,
        metadata: { projectId: project.id, project: project.slug, fromVersion: current, toVersion: next },
      });
      return { keyVersion: next, resumed: false };
    });
  }

  /** Re-encrypts through the same cipher as reads and writes, a batch per transaction. */
  private async reencryptAll(projectId: string, keyVersion: number): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.db.transaction(async (em) => {
        const rows = await this.secrets.lockStale(em, projectId, keyVersion, this.batchSize);
        if (!rows.length) return 0;
        await this.secrets.replaceCiphertexts(em, keyVersion, rows, await this.cipher.reencrypt(projectId, keyVersion, rows, em));
        return rows.length;
      });
      if (!count) return total;
      total += count;
    }
  }

  /**
   * Destroys the old key versions when nothing references them any more; `null` when a value was
   * written under an old version meanwhile (another pass is needed). The exclusive project lock waits
   * for in-flight writers (they hold it shared).
   */
  private finish(project: ProjectRef, keyVersion: number, reencrypted: number, resumed: boolean, actor: Actor, meta: RequestMeta): Promise<number[] | null> {
    return this.db.transaction(async (em) => {
      await this.projects.lockKeyVersion(em, project.id, 'update');
      if ((await this.secrets.countStale(em, project.id, keyVersion)) > 0) return null;
      const versions = await this.keys.destroyBelow(em, project.id, keyVersion);
      await this.audit.record(em, {
        action: 'project.key_rotated',
        orgId: project.orgId,
        actor,
        meta,
        metadata: { projectId: project.id, project: project.slug, keyVersion, reencrypted, destroyedVersions: versions, resumed },
      });
      for (const version of versions) this.keys.forget(project.id, version);
      return versions;
    });
  }
}
