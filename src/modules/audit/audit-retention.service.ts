import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditChain } from './audit-chain.service.js';
import { AuditSettings } from './audit-settings.service.js';
import { AuditRepository } from './audit.repository.js';

/** Rows deleted per statement: short statements, so pulls' inserts never wait long behind a retention pass. */
const DELETE_BATCH = 5_000;
const DAY_MS = 86_400_000;

export interface RetentionResult {
  orgId: string;
  /** The last position deleted (the chain's new restart), or null when nothing was due. */
  upTo: string | null;
  deleted: number;
  /** Set when the expired part of the chain did not verify: nothing was deleted (the evidence is kept). */
  refused?: string;
}

/**
 * Deletes audit rows older than the org's retention period (its own, else its plan's, else
 * AUDIT_RETENTION_DAYS; none = kept forever, the self-hosted default: see AuditSettings), a batch at a time, from a timer on every instance (passes of
 * two instances do the same idempotent work). Before deleting, it verifies the part it is about to delete
 * and signs a `retention` checkpoint at the last deleted position: verification of what remains starts
 * there, so the kept chain stays provable and a deletion by anyone else is still reported.
 */
@Injectable()
export class AuditRetention implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditRetention.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: AuditRepository,
    private readonly chain: AuditChain,
    private readonly settings: AuditSettings,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.running = this.runAll().catch((error: unknown) => this.logger.error({ err: error }, 'Audit retention pass failed'));
    }, this.config.audit.retentionIntervalSeconds * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async runAll(now = new Date()): Promise<RetentionResult[]> {
    const results: RetentionResult[] = [];
    for (const [orgId, days] of await this.settings.periods(await this.repo.chainedOrgs())) {
      // One org's failure (say it was deleted meanwhile) does not hold up the others' retention.
      try {
        results.push(await this.run(orgId, new Date(now.getTime() - days * DAY_MS)));
      } catch (error) {
        this.logger.error({ err: error, orgId }, 'Audit retention of an org failed');
      }
    }
    return results;
  }

  /** Deletes the org's rows created before `cutoff`. */
  async run(orgId: string, cutoff: Date): Promise<RetentionResult> {
    const last = await this.repo.expired(orgId, cutoff);
    if (!last) return { orgId, upTo: null, deleted: 0 };
    const upTo = BigInt(last.seq);
    const check = await this.chain.verify(orgId, { fromSeq: upTo, toSeq: upTo });
    const hash = check.valid ? await this.repo.hashAt(orgId, last.seq) : undefined;
    if (!hash) {
      const refused = check.firstProblem?.message ?? `The row at position ${upTo} is missing`;
      this.logger.error(`Audit retention of org ${orgId} refused: the rows to delete do not verify (${refused})`);
      return { orgId, upTo: null, deleted: 0, refused };
    }
    await this.chain.sign(orgId, { seq: upTo, hash }, 'retention');
    let deleted = 0;
    for (let n = DELETE_BATCH; n === DELETE_BATCH; deleted += n) n = await this.repo.deleteUpTo(orgId, last.seq, DELETE_BATCH);
    this.logger.log(`Audit retention: deleted ${deleted} rows of org ${orgId} up to position ${upTo}`);
    return { orgId, upTo: last.seq, deleted };
  }
}
