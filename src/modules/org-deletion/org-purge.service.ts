import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Job } from 'pg-boss';
import { DataSource } from 'typeorm';
import { JobQueue, transactionDb } from '../../common/jobs/job-queue.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { TokensService } from '../auth/tokens.service.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { ChangeLogRepository } from '../changes/change-log.repository.js';
import { InvitesRepository } from '../members/invites.repository.js';
import { OrgsRepository } from '../orgs/orgs.repository.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import { WebhooksRepository } from '../webhooks/webhooks.repository.js';

export const ORG_PURGE_QUEUE = 'org-purge';

interface PurgeJob {
  orgId: string;
}

/** What one purge step did: the table and how many rows; `done` when nothing of the org is left. */
export interface PurgeStep {
  table: string;
  deleted: number;
  done: boolean;
}

/**
 * Deleting an org (issue 21) without one transaction, lock or read the size of its data. The request
 * marks the org deleted, frees its slug and removes its members, invitations and org-scoped tokens —
 * so it is gone for everyone at once — and enqueues a purge job in the same transaction. The job
 * deletes the data in statements of ORG_PURGE_BATCH_SIZE rows, each committed on its own, the biggest
 * tables first (stored versions, secrets, the change log, the audit log, webhook deliveries), then each
 * project (what cascades from it is small by then), then the org row. Nothing is read into memory but
 * the project and environment ids. The marker on the org row is the state: a job lost with a crashed
 * instance is sent again when any instance starts, and running the same purge twice is harmless.
 */
@Injectable()
export class OrgPurge implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrgPurge.name);
  private stopping = false;
  /** This instance's purge worker, woken when a deletion here commits (else it finds the job at its next poll). */
  private workerId: string | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly queue: JobQueue,
    private readonly orgs: OrgsRepository,
    private readonly projects: ProjectsRepository,
    private readonly secrets: SecretsRepository,
    private readonly changes: ChangeLogRepository,
    private readonly auditRows: AuditRepository,
    private readonly webhooks: WebhooksRepository,
    private readonly invites: InvitesRepository,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const boss = await this.queue.ready();
    await boss.createQueue(ORG_PURGE_QUEUE);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { concurrency } = this.config.orgPurge;
    if (!concurrency) return;
    const boss = await this.queue.ready();
    this.workerId = await boss.work<PurgeJob>(ORG_PURGE_QUEUE, { batchSize: concurrency }, (jobs: Job<PurgeJob>[]) =>
      Promise.all(jobs.map((job) => this.purge(job.data.orgId))),
    );
    // Orgs whose purge a stopped instance left unfinished (its job may be gone with it): sent again.
    for (const orgId of await this.orgs.deletedIds()) await boss.send(ORG_PURGE_QUEUE, { orgId }, jobOptions());
  }

  beforeApplicationShutdown(): void {
    // A purge stops between two batches; the job fails and is retried (or resent at the next start).
    this.stopping = true;
  }

  /** DELETE /orgs/:orgId: the org disappears now; its data goes in the background. */
  async remove(actor: Actor, org: OrgContext, meta: RequestMeta): Promise<void> {
    await this.db.transaction(async (em) => {
      if (!(await this.orgs.markDeleted(em, org.id))) return;
      await this.invites.deleteForOrg(em, org.id);
      await this.tokens.deleteOrgScoped(em, org.id);
      // Not in the org's own log (which is being deleted): an orgless row that names it.
      await this.audit.record(em, { action: 'org.deleted', actor, meta, metadata: { orgId: org.id, slug: org.slug } });
      const boss = await this.queue.ready();
      await boss.send(ORG_PURGE_QUEUE, { orgId: org.id }, { ...jobOptions(), db: transactionDb(em) });
    });
    if (this.workerId) (await this.queue.ready()).notifyWorker(this.workerId);
  }

  /** Runs steps until the org is gone. */
  async purge(orgId: string): Promise<void> {
    let deleted = 0;
    for (;;) {
      if (this.stopping) throw new Error(`The purge of org ${orgId} was interrupted by a shutdown; it resumes later`);
      const step = await this.step(orgId);
      deleted += step.deleted;
      if (step.done) break;
    }
    this.logger.log(`Deleted org ${orgId}: ${deleted} rows in batches of ${this.config.orgPurge.batchSize}`);
  }

  /** Deletes one batch of what is left of a deleted org (or, at the end, the org row). */
  async step(orgId: string): Promise<PurgeStep> {
    const n = this.config.orgPurge.batchSize;
    const projects = await this.projects.idsInOrg(orgId);
    for (const { projectId, environmentIds } of projects) {
      const batches: Array<[string, () => Promise<number>]> = [
        ['secret_versions', () => this.secrets.purgeVersions(projectId, n)],
        ['secrets', () => this.secrets.purgeSecrets(projectId, n)],
        ['secret_changes', () => (environmentIds.length ? this.changes.purge(environmentIds, n) : Promise.resolve(0))],
      ];
      for (const [table, run] of batches) {
        const deleted = await run();
        if (deleted) return { table, deleted, done: false };
      }
    }
    for (const [table, run] of [
      ['audit_events', () => this.auditRows.purgeOrg(orgId, n)],
      ['webhook_deliveries', () => this.webhooks.purgeDeliveries(orgId, n)],
    ] as const) {
      const deleted = await run();
      if (deleted) return { table, deleted, done: false };
    }
    if (projects.length) {
      await this.db.transaction((em) => this.projects.delete(em, projects[0].projectId));
      return { table: 'projects', deleted: 1, done: false };
    }
    await this.orgs.delete(orgId);
    return { table: 'orgs', deleted: 1, done: true };
  }
}

function jobOptions() {
  return {
    id: randomUUID(),
    retryLimit: 10,
    retryDelay: 30,
    retryBackoff: true,
    // An instance that dies mid-purge holds the job this long before another takes it over.
    expireInSeconds: 15 * 60,
    deleteAfterSeconds: 24 * 3600,
  };
}
