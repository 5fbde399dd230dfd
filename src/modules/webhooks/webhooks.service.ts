import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { UUID_PATTERN } from '../../common/validation/parse-uuid.pipe.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditService } from '../audit/audit.service.js';
import { PlansService } from '../plans/plans.service.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import { canonicalEnvironment, DEFAULT_ENVIRONMENTS } from '../projects/environments.js';
import { EnvironmentNotFoundError, ProjectNotFoundError } from '../projects/projects.errors.js';
import { generateSigningSecret, secretHint } from './signing.js';
import { checkWebhookUrl, RefusedTargetError } from '../../common/net/ssrf.js';
import { WebhookEvents } from './webhook-events.service.js';
import { WebhookSecrets } from './webhook-secrets.service.js';
import { CreatedWebhookDto, CreateWebhookDto, DeliveryLogQueryDto, TestDeliveryDto, UpdateWebhookDto, WebhookDetailDto, WebhookDto } from './webhooks.dto.js';
import { WebhookNotFoundError, WebhookUrlRefusedError } from './webhooks.errors.js';
import { WebhooksRepository, type WebhookChanges, type WebhookRow } from './webhooks.repository.js';

const DEFAULT_LOG_PAGE = 50;

interface Filters {
  projectId: string | null;
  environments: string[] | null;
}

/**
 * Webhooks of an org (owner/admin; the guard checks the role): CRUD, the delivery log and test
 * deliveries. Every change is audited in its own transaction, naming the webhook and its host —
 * never the signing secret, and never the URL's path or query, which may hold a receiver's token.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly events: WebhookEvents,
    private readonly audit: AuditService,
    private readonly plans: PlansService,
    private readonly projects: ProjectsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async list(org: OrgContext): Promise<WebhookDto[]> {
    return this.toDtos(this.db.manager, await this.repo.list(org.id));
  }

  async create(org: OrgContext, actor: Actor, dto: CreateWebhookDto, meta: RequestMeta): Promise<CreatedWebhookDto> {
    const url = await this.checkUrl(dto.url);
    const filters = await this.resolveFilters(org, dto.project ?? null, dto.environments ?? null);
    const id = randomUUID();
    const secret = generateSigningSecret();
    const sealed = await this.secrets.seal(id, secret);
    const webhook = await this.db.transaction(async (em) => {
      // Each webhook is a job per matching event, enqueued inside the write that caused it: the plan caps them.
      await this.plans.assertCanAdd(em, org.id, {
        limit: 'webhooksPerOrg',
        scopeId: org.id,
        adding: 1,
        usage: (locked) => this.repo.countInOrg(locked, org.id),
      });
      await this.repo.insert(em, {
        id,
        orgId: org.id,
        url: url.href,
        description: dto.description ?? null,
        events: dto.events,
        ...filters,
        enabled: dto.enabled ?? true,
        secret: sealed,
        secretHint: secretHint(secret),
        createdBy: actor.userId,
      });
      await this.audit.record(em, {
        action: 'webhook.created',
        orgId: org.id,
        actor,
        meta,
        metadata: { webhookId: id, host: url.host, events: dto.events, ...filters, enabled: dto.enabled ?? true },
      });
      return (await this.toDtos(em, [(await this.repo.find(org.id, id, em))!]))[0];
    });
    return { ...webhook, secret };
  }

  async get(org: OrgContext, id: string, query: DeliveryLogQueryDto): Promise<WebhookDetailDto> {
    const webhook = await this.require(org, id);
    const limit = query.limit ?? DEFAULT_LOG_PAGE;
    const offset = query.offset ?? 0;
    const { rows, total } = await this.repo.attempts(id, limit, offset);
    return {
      ...(await this.toDtos(this.db.manager, [webhook]))[0],
      deliveries: rows.map(({ responseBody, ...row }) => ({ ...row, response: responseBody })),
      pagination: { limit, offset, total },
    };
  }

  async update(org: OrgContext, actor: Actor, id: string, dto: UpdateWebhookDto, meta: RequestMeta): Promise<WebhookDto> {
    const current = await this.require(org, id);
    const changes: WebhookChanges = { events: dto.events, enabled: dto.enabled, description: dto.description };
    if (dto.url !== undefined) changes.url = (await this.checkUrl(dto.url)).href;
    if (dto.project !== undefined || dto.environments !== undefined) {
      // The filters are checked together: environments must exist in the project they end up with.
      const project = dto.project !== undefined ? dto.project : current.projectId;
      const environments = dto.environments !== undefined ? dto.environments : current.environments;
      Object.assign(changes, await this.resolveFilters(org, project, environments));
    }
    const changed = (Object.keys(changes) as Array<keyof WebhookChanges>).filter((k) => changes[k] !== undefined);
    return this.db.transaction(async (em) => {
      if (!(await this.repo.update(em, org.id, id, changes))) throw new WebhookNotFoundError(id);
      const updated = (await this.repo.find(org.id, id, em))!;
      await this.audit.record(em, {
        action: 'webhook.updated',
        orgId: org.id,
        actor,
        meta,
        metadata: { webhookId: id, host: new URL(updated.url).host, changed, events: updated.events, enabled: updated.enabled },
      });
      return (await this.toDtos(em, [updated]))[0];
    });
  }

  async remove(org: OrgContext, actor: Actor, id: string, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      const deleted = await this.repo.delete(em, org.id, id);
      if (!deleted) throw new WebhookNotFoundError(id);
      await this.audit.record(em, {
        action: 'webhook.deleted',
        orgId: org.id,
        actor,
        meta,
        metadata: { webhookId: id, host: new URL(deleted.url).host },
      });
    });
  }

  /** Enqueues one test delivery (a `webhook.test` event), even to a disabled webhook; its attempt shows in the log. */
  async test(org: OrgContext, actor: Actor, id: string, meta: RequestMeta): Promise<TestDeliveryDto> {
    return this.db.transaction(async (em) => {
      const webhook = await this.repo.find(org.id, id, em);
      if (!webhook) throw new WebhookNotFoundError(id);
      const deliveryId = await this.events.sendTest(em, id, org.id, { id: actor.userId, email: actor.email });
      await this.audit.record(em, {
        action: 'webhook.tested',
        orgId: org.id,
        actor,
        meta,
        metadata: { webhookId: id, host: new URL(webhook.url).host, deliveryId },
      });
      return { deliveryId };
    });
  }

  /** The API's view of webhooks: their project named by id and slug. */
  private async toDtos(em: EntityManager, rows: WebhookRow[]): Promise<WebhookDto[]> {
    const slugs = await this.projects.slugsOf(
      em,
      rows.flatMap((w) => (w.projectId ? [w.projectId] : [])),
    );
    return rows.map((w) => toDto(w, w.projectId && slugs.has(w.projectId) ? { id: w.projectId, slug: slugs.get(w.projectId)! } : null));
  }

  private async require(org: OrgContext, id: string): Promise<WebhookRow> {
    const webhook = await this.repo.find(org.id, id);
    if (!webhook) throw new WebhookNotFoundError(id);
    return webhook;
  }

  private async checkUrl(raw: string): Promise<URL> {
    try {
      return await checkWebhookUrl(raw, this.config.webhooks.allowPrivate);
    } catch (error) {
      if (error instanceof RefusedTargetError) throw new WebhookUrlRefusedError(error.message);
      throw error;
    }
  }

  /** A project (slug or id) of the org, and environments that exist in it — or, without a project, somewhere in the org. */
  private async resolveFilters(org: OrgContext, projectRef: string | null, environmentRefs: string[] | null): Promise<Filters> {
    let projectId: string | null = null;
    if (projectRef !== null) {
      const project = await this.projects.findInOrg(org.id, projectRef, UUID_PATTERN.test(projectRef));
      if (!project) throw new ProjectNotFoundError(projectRef);
      projectId = project.id;
    }
    if (environmentRefs === null) return { projectId, environments: null };
    const environments = [...new Set(environmentRefs.map(canonicalEnvironment))];
    const existing = await this.projects.existingEnvironmentSlugs(org.id, projectId, environments);
    // The default environments exist in every project, including those not created yet.
    const defaults = new Set(DEFAULT_ENVIRONMENTS.map((e) => e.slug));
    const missing = environments.find((slug) => !existing.has(slug) && !(projectId === null && defaults.has(slug)));
    if (missing) throw new EnvironmentNotFoundError(missing);
    return { projectId, environments };
  }
}

function toDto(w: WebhookRow, project: WebhookDto['project']): WebhookDto {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    events: w.events,
    project,
    environments: w.environments,
    enabled: w.enabled,
    secretHint: w.secretHint,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}
