import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { SecretEvent } from './secret-event.js';
import type { SealedSecret } from './webhook-secrets.service.js';

export interface WebhookRow {
  id: string;
  orgId: string;
  url: string;
  description: string | null;
  events: string[];
  projectId: string | null;
  environments: string[] | null;
  enabled: boolean;
  secretHint: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewWebhook {
  id: string;
  orgId: string;
  url: string;
  description: string | null;
  events: string[];
  projectId: string | null;
  environments: string[] | null;
  enabled: boolean;
  secret: SealedSecret;
  secretHint: string;
  createdBy: string;
}

export interface WebhookChanges {
  url?: string;
  description?: string | null;
  events?: string[];
  projectId?: string | null;
  environments?: string[] | null;
  enabled?: boolean;
}

/** What a delivery needs of its webhook, read when the attempt starts (it may have changed since the event). */
export interface DeliveryTarget {
  id: string;
  url: string;
  enabled: boolean;
  secret: SealedSecret;
}

export type AttemptOutcome = 'delivered' | 'retrying' | 'failed';

export interface AttemptRecord {
  webhookId: string;
  deliveryId: string;
  event: string;
  attempt: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface AttemptRow extends Omit<AttemptRecord, 'webhookId'> {
  id: string;
  createdAt: Date;
}

const SELECT_WEBHOOK = `
  SELECT w.id, w.org_id, w.url, w.description, w.events, w.project_id, w.environments,
         w.enabled, w.secret_hint, w.created_at, w.updated_at
    FROM webhooks w`;

function toWebhook(r: Record<string, unknown>): WebhookRow {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    url: r.url as string,
    description: r.description as string | null,
    events: r.events as string[],
    projectId: r.project_id as string | null,
    environments: r.environments as string[] | null,
    enabled: r.enabled as boolean,
    secretHint: r.secret_hint as string,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

/** SQL over `webhooks` and `webhook_deliveries`. Writers pass the EntityManager of their transaction. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly db: DataSource) {}

  async list(orgId: string): Promise<WebhookRow[]> {
    const rows = await this.db.query(`${SELECT_WEBHOOK} WHERE w.org_id = $1 ORDER BY w.created_at, w.id`, [orgId]);
    return rows.map(toWebhook);
  }

  async find(orgId: string, id: string, em: EntityManager = this.db.manager): Promise<WebhookRow | null> {
    const [row] = await em.query(`${SELECT_WEBHOOK} WHERE w.org_id = $1 AND w.id = $2`, [orgId, id]);
    return row ? toWebhook(row) : null;
  }

  async insert(em: EntityManager, w: NewWebhook): Promise<void> {
    await em.query(
      `INSERT INTO webhooks (id, org_id, url, description, events, project_id, environments, enabled,
                             secret_ciphertext, secret_provider, secret_master_key, secret_hint, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        w.id,
        w.orgId,
        w.url,
        w.description,
        w.events,
        w.projectId,
        w.environments,
        w.enabled,
        w.secret.ciphertext,
        w.secret.provider,
        w.secret.masterKey,
        w.secretHint,
        w.createdBy,
      ],
    );
  }

  /** Applies the given changes (an undefined field is left alone); false when there is no such webhook. */
  async update(em: EntityManager, orgId: string, id: string, changes: WebhookChanges): Promise<boolean> {
    const columns: Record<keyof WebhookChanges, string> = {
      url: 'url',
      description: 'description',
      events: 'events',
      projectId: 'project_id',
      environments: 'environments',
      enabled: 'enabled',
    };
    const set = (Object.keys(columns) as Array<keyof WebhookChanges>).filter((k) => changes[k] !== undefined);
    const rows = await em.query(
      `WITH updated AS (
         UPDATE webhooks SET ${[...set.map((k, i) => `${columns[k]} = $${i + 3}`), 'updated_at = now()'].join(', ')}
          WHERE org_id = $1 AND id = $2 RETURNING id)
       SELECT id FROM updated`,
      [orgId, id, ...set.map((k) => changes[k])],
    );
    return rows.length > 0;
  }

  async delete(em: EntityManager, orgId: string, id: string): Promise<WebhookRow | null> {
    const existing = await this.find(orgId, id, em);
    if (!existing) return null;
    await em.query('DELETE FROM webhooks WHERE org_id = $1 AND id = $2', [orgId, id]);
    return existing;
  }

  /** The org's enabled webhooks that subscribe to the event and whose filters match it, in the caller's transaction. */
  async subscribers(em: EntityManager, event: SecretEvent): Promise<string[]> {
    const rows: Array<{ id: string }> = await em.query(
      `SELECT id FROM webhooks
        WHERE org_id = $1 AND enabled AND $2 = ANY(events)
          AND (project_id IS NULL OR project_id = $3)
          AND (environments IS NULL OR $4 = ANY(environments))
        ORDER BY id`,
      [event.orgId, event.event, event.project.id, event.environment.slug],
    );
    return rows.map((r) => r.id);
  }

  async deliveryTarget(id: string): Promise<DeliveryTarget | null> {
    const [row] = await this.db.query('SELECT id, url, enabled, secret_ciphertext, secret_provider, secret_master_key FROM webhooks WHERE id = $1', [id]);
    if (!row) return null;
    return {
      id: row.id,
      url: row.url,
      enabled: row.enabled,
      secret: { ciphertext: row.secret_ciphertext, provider: row.secret_provider, masterKey: row.secret_master_key },
    };
  }

  /**
   * One row per attempt. An attempt already recorded (a claim that lapsed and was retried after the
   * row was written) is not written twice; a webhook deleted meanwhile takes its log with it.
   */
  async recordAttempt(a: AttemptRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO webhook_deliveries (webhook_id, delivery_id, event, attempt, outcome, status_code, duration_ms, error, response_body)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
        WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $1)
       ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [a.webhookId, a.deliveryId, a.event, a.attempt, a.outcome, a.statusCode, a.durationMs, a.error, a.responseBody],
    );
  }

  /** A page of the delivery log, newest first, and how many attempts there are in all. */
  async attempts(webhookId: string, limit: number, offset: number): Promise<{ rows: AttemptRow[]; total: number }> {
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `SELECT id::text, delivery_id, event, attempt, outcome, status_code, duration_ms, error, response_body, created_at,
              count(*) OVER () AS total
         FROM webhook_deliveries WHERE webhook_id = $1
        ORDER BY created_at DESC, id DESC
        LIMIT $2 OFFSET $3`,
      [webhookId, limit, offset],
    );
    const total = rows.length
      ? Number(rows[0].total)
      : Number((await this.db.query('SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]))[0].n);
    return {
      total,
      rows: rows.map((r) => ({
        id: r.id as string,
        deliveryId: r.delivery_id as string,
        event: r.event as string,
        attempt: r.attempt as number,
        outcome: r.outcome as AttemptOutcome,
        statusCode: r.status_code as number | null,
        durationMs: r.duration_ms as number,
        error: r.error as string | null,
        responseBody: r.response_body as string | null,
        createdAt: r.created_at as Date,
      })),
    };
  }

  /** What webhooksPerOrg counts. */
  async countInOrg(em: EntityManager, orgId: string): Promise<number> {
    const [row]: Array<{ n: number }> = await em.query('SELECT count(*)::int AS n FROM webhooks WHERE org_id = $1', [orgId]);
    return row.n;
  }

  /** How many webhooks each org has (those with none are absent). */
  async countByOrg(em: EntityManager, orgIds: string[]): Promise<Map<string, number>> {
    const rows: Array<{ org_id: string; n: number }> = await em.query(
      'SELECT org_id, count(*)::int AS n FROM webhooks WHERE org_id = ANY($1::uuid[]) GROUP BY org_id',
      [orgIds],
    );
    return new Map(rows.map((r) => [r.org_id, r.n]));
  }

  /** Org deletion: deletes up to `limit` delivery log rows of the org's webhooks; returns how many. */
  async purgeDeliveries(orgId: string, limit: number): Promise<number> {
    const [row]: Array<{ n: number }> = await this.db.query(
      `WITH doomed AS (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.org_id = $1 LIMIT $2),
            gone AS (DELETE FROM webhook_deliveries d USING doomed WHERE d.id = doomed.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [orgId, limit],
    );
    return row.n;
  }
}
