import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeCall {
  method: string;
  path: string;
  /** The form-encoded body as Stripe's SDK sends it. */
  form: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/**
 * A local stand-in for api.stripe.com, enough for what secr calls: customers, Checkout sessions and
 * Customer Portal sessions, answering with the shape of Stripe's real objects. Tests point the real
 * `stripe` SDK at it with STRIPE_API_URL.
 */
export class FakeStripe {
  readonly calls: StripeCall[] = [];
  private server!: Server;
  private seq = 0;
  private holds = new Map<string, { arrived: () => void; released: Promise<void> }>();

  /** Holds the next request to `path` unanswered until `release()`, as a slow Stripe would. */
  hold(path: string): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    this.holds.set(path, { arrived, released: new Promise<void>((resolve) => (release = resolve)) });
    return { arrived: arrival, release };
  }

  private failures = new Map<string, number>();

  /** Answers the next request to `path` with `status` and a Stripe API error, as a failing Stripe would. */
  failNext(path: string, status: number): void {
    this.failures.set(path, status);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', async () => {
        const path = (req.url ?? '').split('?')[0];
        const form = new URLSearchParams(data);
        this.calls.push({ method: req.method ?? '', path, form, headers: req.headers });
        const hold = this.holds.get(path);
        if (hold) {
          this.holds.delete(path);
          hold.arrived();
          await hold.released;
        }
        const failure = this.failures.get(path);
        this.failures.delete(path);
        const [status, body] = failure
          ? [failure, { error: { type: 'api_error', message: 'An unknown error occurred (fake Stripe)' } }]
          : this.answer(req.method ?? '', path, form);
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${++this.seq}` });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(method: string, path: string, form: URLSearchParams): [number, unknown] {
    const created = Math.floor(Date.now() / 1000);
    const n = ++this.seq;
    if (method === 'POST' && path === '/v1/customers') {
      return [200, { id: `cus_test${n}`, object: 'customer', created, livemode: false, name: form.get('name'), email: null, metadata: metadataOf(form) }];
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const id = `cs_test_${n}`;
      return [
        200,
        {
          id,
          object: 'checkout.session',
          mode: form.get('mode'),
          status: 'open',
          customer: form.get('customer'),
          client_reference_id: form.get('client_reference_id'),
          metadata: metadataOf(form),
          success_url: form.get('success_url'),
          cancel_url: form.get('cancel_url'),
          url: `https://checkout.stripe.com/c/pay/${id}`,
          created,
          livemode: false,
        },
      ];
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const id = `bps_test_${n}`;
      return [
        200,
        {
          id,
          object: 'billing_portal.session',
          customer: form.get('customer'),
          return_url: form.get('return_url'),
          url: `https://billing.stripe.com/p/session/${id}`,
          created,
          livemode: false,
        },
      ];
    }
    return [404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } }];
  }
}

function metadataOf(form: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of form) {
    const m = /^metadata\[(.+)\]$/.exec(key);
    if (m) metadata[m[1]] = value;
  }
  return metadata;
}
