import { simpleParser, type AddressObject } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server in the test process (DESIGN.md: external services are faked at the protocol
 * boundary): the app sends through nodemailer over TCP, and the tests read what arrived, parsed by
 * mailparser. Plain SMTP on 127.0.0.1 (no STARTTLS offered), with or without AUTH.
 */
export interface ReceivedMail {
  /** Envelope recipients, lower-cased. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Every http(s) link in the text part. */
  links: string[];
}

export interface MailServerOptions {
  /** Require AUTH with these credentials. */
  auth?: { user: string; pass: string };
}

export class TestMailServer {
  readonly received: ReceivedMail[] = [];
  /** Milliseconds to hold each message before answering (a slow mail server). */
  delayMs = 0;
  /** Refuse every message with a 554 (a mail server that says no). */
  refuse = false;
  /** AUTH attempts that were refused. */
  readonly failedLogins: string[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    private readonly auth?: { user: string; pass: string },
  ) {}

  static async start(options: MailServerOptions = {}): Promise<TestMailServer> {
    // eslint-disable-next-line prefer-const -- assigned below, after the server that its callbacks close over
    let self: TestMailServer | undefined;
    const server = new SMTPServer({
      hideSTARTTLS: true,
      authOptional: !options.auth,
      allowInsecureAuth: true,
      logger: false,
      closeTimeout: 200,
      onAuth(auth, _session, callback) {
        if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
        self?.failedLogins.push(auth.username ?? '');
        callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const rcptTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        self!.receive(stream, rcptTo, session.envelope.mailFrom || undefined).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
    });
    self = new TestMailServer(server, port, options.auth);
    return self;
  }

  /** SMTP_URL for the app. */
  get url(): string {
    const credentials = this.auth ? `${encodeURIComponent(this.auth.user)}:${encodeURIComponent(this.auth.pass)}@` : '';
    return `smtp://${credentials}127.0.0.1:${this.port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(address.toLowerCase()));
  }

  /**
   * The first mail to `address` (after `skip` earlier ones) whose subject matches; waits for it, up to a
   * deadline that only bounds a failing test: a loaded 2-core machine once took more than 5 s to deliver a mail.
   */
  async next(address: string, subject: RegExp, { skip = 0, timeoutMs = 20_000 } = {}): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.to(address).filter((m) => subject.test(m.subject))[skip];
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no mail to ${address} matching ${subject} within ${timeoutMs} ms; got: ${this.received.map((m) => `${m.to} "${m.subject}"`).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async receive(stream: NodeJS.ReadableStream, rcptTo: string[], mailFrom: { address: string } | undefined): Promise<void> {
    const parsed = await simpleParser(stream as Parameters<typeof simpleParser>[0]);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.refuse) throw Object.assign(new Error('Message refused by policy'), { responseCode: 554 });
    const text = parsed.text ?? '';
    this.received.push({
      to: rcptTo,
      from: addresses(parsed.from).join(', ') || (mailFrom?.address ?? ''),
      subject: parsed.subject ?? '',
      text,
      html: typeof parsed.html === 'string' ? parsed.html : '',
      links: text.match(/https?:\/\/\S+/g) ?? [],
    });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return ([] as AddressObject[]).concat(field ?? []).flatMap((a) => a.value.map((v) => v.address ?? ''));
}

/** The token in a mailed link (`…#token=…`). */
export function tokenOf(link: string): string {
  const token = new URLSearchParams(new URL(link).hash.slice(1)).get('token');
  if (!token) throw new Error(`no token in ${link}`);
  return token;
}
