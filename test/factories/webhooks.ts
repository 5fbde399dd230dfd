import { SECRET_EVENTS } from '../../src/modules/webhooks/secret-event.js';
import type { HttpClient } from '../support/http.js';
import type { TestOrg, TestUser } from './accounts.js';

export interface TestWebhook {
  id: string;
  url: string;
  /** The signing secret, as the create response showed it (once). */
  secret: string;
}

export interface WebhookInput {
  url: string;
  events?: string[];
  project?: string;
  environments?: string[];
  enabled?: boolean;
  description?: string;
}

export const ALL_SECRET_EVENTS: string[] = [...SECRET_EVENTS];

/** A webhook of `org` created by `user` (owner or admin), every event unless told; fails the setup on anything but 201. */
export async function createWebhook(api: HttpClient, user: TestUser, org: TestOrg, input: WebhookInput): Promise<TestWebhook> {
  const res = await api.post(`/v1/webhooks/${org.id}`, { events: ALL_SECRET_EVENTS, ...input }, { session: user.session });
  if (res.status !== 201) throw new Error(`create webhook failed: ${res.status} ${res.text}`);
  return { id: res.body.id, url: res.body.url, secret: res.body.secret };
}
