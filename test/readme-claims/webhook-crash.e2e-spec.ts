import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobQueue } from '../../src/common/jobs/job-queue.js';
import { createOrg, registerUser } from '../factories/accounts.js';
import { createProject, setSecret } from '../factories/vault.js';
import { createWebhook } from '../factories/webhooks.js';
import { freePort, launchServer, waitForOutput, type ServerProcess } from '../support/server-process.js';
import { TEST_MASTER_KEY, TEST_SESSION_SECRET } from '../support/test-app.js';
import { startInProcessTestContext as startTestContext, type InProcessTestContext as TestContext } from '../support/in-process-app.js';
import { hasValidSignature, WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * README (Webhooks, delivery and retries): "a crash or a restart loses none … an instance that dies
 * mid-attempt leaves the job to be retried after a minute or so". A real server process takes the
 * delivery, the receiver holds the request open, and the process is killed (SIGKILL) mid-attempt.
 * Another instance then delivers it, once. The minute is the job's expiry (30 s) plus pg-boss's
 * supervisor pass (every 60 s): the test moves the job's start back by an hour and runs that pass at
 * once, as the timer would a minute later, instead of waiting for either.
 */
const FAST = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '500', WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '5000' };

describe('an instance that crashes mid-delivery', () => {
  let ctx: TestContext;
  let receiver: WebhookReceiver;
  let crashing: ServerProcess | undefined;
  beforeAll(async () => {
    [ctx, receiver] = await Promise.all([startTestContext({ ...FAST, WEBHOOK_CONCURRENCY: '0' }), WebhookReceiver.start()]);
  });
  afterAll(async () => {
    if (crashing && crashing.child.exitCode === null && crashing.child.signalCode === null) crashing.child.kill('SIGKILL');
    await ctx.close();
    await receiver.close();
  });

  const until = async (condition: () => Promise<boolean>, what: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const job = async (webhookId: string) =>
    (await ctx.db.query(`SELECT id, state::text, retry_count FROM pgboss.job WHERE data->>'webhookId' = $1`, [webhookId])).rows as Array<{
      id: string;
      state: string;
      retry_count: number;
    }>;

  it('leaves its delivery to another instance, which delivers it exactly once', async () => {
    const owner = await registerUser(ctx.api, 'crash');
    const org = await createOrg(ctx.api, owner, 'Crash');
    const project = await createProject(ctx.api, owner, org);
    const webhook = await createWebhook(ctx.api, owner, org, { url: receiver.url('/crash'), events: ['secret.created'] });
    receiver.script('/crash', 'hang'); // the first attempt is never answered

    const port = await freePort();
    crashing = launchServer({
      ...FAST,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: TEST_SESSION_SECRET,
      SECR_MASTER_KEY: TEST_MASTER_KEY,
      WEBHOOK_CONCURRENCY: '1',
    });
    await waitForOutput(crashing, 'secr API listening on');
    await setSecret(ctx.api, { session: owner.session }, org, project, 'development', { key: 'CRASHED', value: 'v' });
    const [first] = await receiver.waitFor('/crash', 1, 15_000);
    crashing.child.kill('SIGKILL'); // mid-attempt: the receiver has the request, the sender never hears back
    await crashing.exited;
    expect(await job(webhook.id)).toEqual([expect.objectContaining({ state: 'active', retry_count: 0 })]);

    const survivor = await ctx.startInstance({ WEBHOOK_CONCURRENCY: '1' });
    const [{ id }] = await job(webhook.id);
    await ctx.db.query(`UPDATE pgboss.job SET started_on = started_on - interval '1 hour' WHERE id = $1`, [id]);
    await (await survivor.app.get(JobQueue).ready()).supervise();

    const received = await receiver.waitFor('/crash', 2, 15_000);
    await until(async () => (await job(webhook.id))[0].state === 'completed', 'the job to complete');
    expect(received).toHaveLength(2);
    expect(received[1].headers['x-secr-delivery']).toBe(first.headers['x-secr-delivery']);
    expect(JSON.parse(received[1].body)).toMatchObject({ event: 'secret.created', key: 'CRASHED' });
    expect(hasValidSignature(received[1], webhook.secret)).toBe(true);
    const { rows } = await ctx.db.query(`SELECT attempt, outcome FROM webhook_deliveries WHERE webhook_id = $1`, [webhook.id]);
    expect(rows).toEqual([{ attempt: 2, outcome: 'delivered' }]); // the crashed attempt left no row; the second delivered
  });
});
