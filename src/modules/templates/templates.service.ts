import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { ConflictError, NotFoundError } from '../../common/errors/domain-error.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import type { ProjectRef, VaultTarget } from '../projects/vault-access.service.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import { AddTemplateDto, TemplateDto, TemplateValidationDto } from './templates.dto.js';

/** A project's template: the keys its environments are expected to set (spec 003, Templates). */
@Injectable()
export class TemplatesService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly secrets: SecretsRepository,
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
    const [template, set]: [Array<{ key: string; required: boolean }>, string[]] = await Promise.all([
      this.db.query('SELECT key, required FROM templates WHERE project_id = $1', [target.project.id]),
      this.secrets.keysOf(target.environment.id),
    ]);
    const listed = new Set(template.map((t) => t.key));
    const setKeys = new Set(set);
    const row = {
      missing: template
        .filter((t) => t.required && !setKeys.has(t.key))
        .map((t) => t.key)
        .sort(byteOrder),
      extra: set.filter((key) => !listed.has(key)),
    };
    return { valid: row.missing.length === 0, missing: row.missing, extra: row.extra };
  }
}

/** As COLLATE "C" sorts (keys are ASCII, so UTF-16 code units are bytes). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
