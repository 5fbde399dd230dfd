import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { ConflictError, NotFoundError } from '../../common/errors/domain-error.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import type { ProjectRef, VaultTarget } from '../projects/vault-access.service.js';
import { AddTemplateDto, TemplateDto, TemplateValidationDto } from './templates.dto.js';

/** A project's template: the keys its environments are expected to set (spec 003, Templates). */
@Injectable()
export class TemplatesService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(project: ProjectRef): Promise<TemplateDto[]> {
    const rows: Array<{ id: string; key: string; description: string | null; required: boolean; created_at: Date }> = await this.db.query(
      'SELECT id, key, description, required, created_at FROM templates WHERE project_id = $1 ORDER BY key COLLATE "C"',
      [project.id],
    );
    return rows.map((r) => ({ id: r.id, key: r.key, description: r.description, required: r.required, createdAt: r.created_at }));
  }

  async add(actor: Actor, project: ProjectRef, dto: AddTemplateDto, meta: RequestMeta): Promise<TemplateDto> {
    const required = dto.required ?? true;
    try {
      return await this.db.transaction(async (em) => {
        const [row] = await em.query('INSERT INTO templates (project_id, key, description, required) VALUES ($1, $2, $3, $4) RETURNING id, created_at', [
          project.id,
          dto.key,
          dto.description ?? null,
          required,
        ]);
        await this.audit.record(em, {
          action: 'template.added',
          orgId: project.orgId,
          actor,
          meta,
          metadata: { projectId: project.id, project: project.slug, key: dto.key, required },
        });
        return { id: row.id, key: dto.key, description: dto.description ?? null, required, createdAt: row.created_at };
      });
    } catch (error) {
      if (isUniqueViolation(error, 'templates_project_id_key_key')) {
        throw new ConflictError(`The template of '${project.slug}' already lists '${dto.key}'`);
      }
      throw error;
    }
  }

  async remove(actor: Actor, project: ProjectRef, key: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const deleted: unknown[] = await em.query('WITH gone AS (DELETE FROM templates WHERE project_id = $1 AND key = $2 RETURNING 1) SELECT * FROM gone', [
        project.id,
        key,
      ]);
      if (!deleted.length) throw new NotFoundError(`The template of '${project.slug}' does not list '${key}'`);
      await this.audit.record(em, {
        action: 'template.removed',
        orgId: project.orgId,
        actor,
        meta,
        metadata: { projectId: project.id, project: project.slug, key },
      });
    });
  }

  /** missing: required template keys not set; extra: set keys the template does not list. */
  /** Key names of the environment are revealed: the caller resolves `target` with read access, as for listing its keys. */
  async validate(target: VaultTarget): Promise<TemplateValidationDto> {
    const [row] = await this.db.query(
      `WITH tpl AS (SELECT key, required FROM templates WHERE project_id = $1),
            env AS (SELECT key FROM secrets WHERE environment_id = $2 AND deleted_at IS NULL)
       SELECT
         ARRAY(SELECT key FROM tpl WHERE required AND key NOT IN (SELECT key FROM env) ORDER BY key COLLATE "C") AS missing,
         ARRAY(SELECT key FROM env WHERE key NOT IN (SELECT key FROM tpl) ORDER BY key COLLATE "C") AS extra`,
      [target.project.id, target.environment.id],
    );
    return { valid: row.missing.length === 0, missing: row.missing, extra: row.extra };
  }
}
