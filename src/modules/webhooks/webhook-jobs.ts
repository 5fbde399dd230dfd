import type { SecretEvent } from './secret-event.js';

/** The pg-boss queue of webhook deliveries: one job per (event, webhook); its id is the delivery id. */
export const DELIVERY_QUEUE = 'webhook-delivery';

/** The event of a delivery sent by `POST /webhooks/:orgId/:id/test`. */
export const TEST_EVENT = 'webhook.test';

/** A job's data. The body is fixed when the event happens, so every attempt sends the same bytes. */
export interface DeliveryJob {
  webhookId: string;
  event: string;
  /** The JSON body, exactly as sent and signed: key names, counts and versions, never a value. */
  body: string;
  /** A test delivery: sent even to a disabled webhook, and attempted once. */
  test?: boolean;
}

/** The JSON payload of spec/README.md, in its documented key order. */
export interface WebhookPayload {
  event: string;
  timestamp: string;
  org: { id: string };
  project: { id: string; slug: string } | null;
  environment: { id: string; slug: string } | null;
  key: string | null;
  actor: { id: string; email: string };
  metadata: Record<string, unknown>;
}

/** Names a payload's metadata may never carry, whatever a caller passes (a value in a webhook is a security bug). */
const FORBIDDEN_METADATA = new Set(['value', 'values', 'secret', 'secrets', 'password', 'token', 'ciphertext']);

export function payloadOf(event: SecretEvent, at: Date = new Date()): WebhookPayload {
  return {
    event: event.event,
    timestamp: at.toISOString(),
    org: { id: event.orgId },
    project: { id: event.project.id, slug: event.project.slug },
    environment: { id: event.environment.id, slug: event.environment.slug },
    key: event.key,
    actor: { id: event.actor.id, email: event.actor.email },
    metadata: Object.fromEntries(Object.entries(event.metadata).filter(([name]) => !FORBIDDEN_METADATA.has(name.toLowerCase()))),
  };
}
