/** The events webhooks subscribe to (spec 003, Webhooks). */
export const SECRET_EVENTS = [
  'secret.created',
  'secret.updated',
  'secret.deleted',
  'secret.bulk_set',
  'secret.promoted',
  'secret.bulk_delete',
  'secret.restored',
] as const;
export type SecretEventName = (typeof SECRET_EVENTS)[number];

/**
 * A change to secrets, as webhooks announce it (payload shape: spec/README.md). Never a value: key
 * names, counts and versions only.
 */
export interface SecretEvent {
  event: SecretEventName;
  orgId: string;
  project: { id: string; slug: string };
  environment: { id: string; slug: string };
  /** The key, for single-key events; null for bulk ones (their keys are in metadata). */
  key: string | null;
  actor: { id: string; email: string };
  metadata: Record<string, unknown>;
}
