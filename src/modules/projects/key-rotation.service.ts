import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { decryptValue, encryptValue } from '../keys/envelope.js';
import { ProjectKeys } from '../keys/project-keys.service.js';
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
      const [row] = await em.query('SELECT current_key_version FROM projects WHERE id = $1 FOR UPDATE', [project.id]);
      const current: number = row.current_key_version;
      const [{ unfinished }] = await em.query(
        'SELECT count(*)::int AS unfinished FROM project_keys WHERE project_id = $1 AND version < $2 AND wrapped_key IS NOT NULL',
        [project.id, current],
      );
      if (unfinished > 0) return { keyVersion: current, resumed: true };
      const next = current + 1;
      await this.keys.create(em, project.id, next);
      await em.query('UPDATE projects SET current_key_version = $2 WHERE id = $1', [project.id, next]);
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

  private async reencryptAll(projectId: string, keyVersion: number): Promise<number> {
    const dek = await this.keys.get(projectId, keyVersion);
    let total = 0;
    for (;;) {
      const count = await this.db.transaction(async (em) => {
        const rows: Array<{ secret_id: string; version: number; key_version: number; ciphertext: Buffer; key: string }> = await em.query(
          `SELECT v.secret_id, v.version, v.key_version, v.ciphertext, s.key
             FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
            WHERE v.project_id = $1 AND v.key_version < $2
            LIMIT $3
              FOR UPDATE OF v SKIP LOCKED`,
          [projectId, keyVersion, this.batchSize],
        );
        if (!rows.length) return 0;
        const reencrypted = await Promise.all(
          rows.map(async (r) =>
            encryptValue(dek, projectId, r.key, decryptValue(await this.keys.get(projectId, r.key_version, em), projectId, r.key, r.ciphertext)),
          ),
        );
        await em.query(
          `UPDATE secret_versions v SET ciphertext = u.ciphertext, key_version = $1
             FROM unnest($2::uuid[], $3::int[], $4::bytea[]) AS u(secret_id, version, ciphertext)
            WHERE v.secret_id = u.secret_id AND v.version = u.version`,
          [keyVersion, rows.map((r) => r.secret_id), rows.map((r) => r.version), reencrypted],
        );
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
      await em.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [project.id]);
      const [{ remaining }] = await em.query('SELECT count(*)::int AS remaining FROM secret_versions WHERE project_id = $1 AND key_version < $2', [
        project.id,
        keyVersion,
      ]);
      if (remaining > 0) return null;
      const destroyed: Array<{ version: number }> = await em.query(
        `WITH destroyed AS (
           UPDATE project_keys SET wrapped_key = NULL, destroyed_at = now()
            WHERE project_id = $1 AND version < $2 AND wrapped_key IS NOT NULL
            RETURNING version)
         SELECT version FROM destroyed`,
        [project.id, keyVersion],
      );
      const versions = destroyed.map((d) => d.version).sort((a, b) => a - b);
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
