import http from 'node:http';
import type { Credentials } from './http.js';

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

export interface SseOpenResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed error body when the status is not 200. */
  body?: any;
  /** The open stream when the status is 200. */
  stream?: SseStream;
}

/**
 * A Server-Sent Events client over node:http for tests: collects every event (and the raw text, for
 * "no value in any event" checks) and waits for events with a deadline, never a fixed sleep.
 */
export class SseStream {
  readonly events: SseEvent[] = [];
  raw = '';
  ended = false;
  private buffer = '';
  private waiters: Array<() => void> = [];

  constructor(private readonly res: http.IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.raw += chunk;
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event: Partial<SseEvent> & { lines: string[] } = { lines: [] };
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || !line) continue;
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') event.lines.push(value);
        }
        if (event.event || event.lines.length) {
          const text = event.lines.join('\n');
          this.events.push({ id: event.id, event: event.event ?? 'message', data: text ? JSON.parse(text) : undefined });
        }
      }
      this.wake();
    });
    const done = () => {
      this.ended = true;
      this.wake();
    };
    res.once('end', done);
    res.once('close', done);
    res.once('error', done);
  }

  static open(baseUrl: string, path: string, credentials: Credentials & { lastEventId?: string } = {}): Promise<SseOpenResult> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (credentials.token) headers.authorization = `Bearer ${credentials.token}`;
    if (credentials.session) headers.cookie = `__secr_session=${credentials.session}`;
    if (credentials.lastEventId !== undefined) headers['last-event-id'] = credentials.lastEventId;
    return new Promise((resolve, reject) => {
      const req = http.get(new URL(path, baseUrl), { headers, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
          return;
        }
        resolve({ status: 200, headers: res.headers, stream: new SseStream(res) });
      });
      req.once('error', reject);
    });
  }

  /** The first event (at or after index `from`) that matches, waiting up to `timeoutMs`. */
  async next(match: (e: SseEvent) => boolean, { from = 0, timeoutMs = 10_000 } = {}): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      if (this.ended) throw new Error(`stream ended without the event; got ${JSON.stringify(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves when the server has ended the stream, or rejects after `timeoutMs`. */
  untilEnded(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.ended, 'stream still open', timeoutMs);
  }

  /** Resolves once `condition` holds (checked whenever data arrives), or rejects after `timeoutMs`. */
  async until(condition: () => boolean, what = 'condition not met', timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.res.destroy();
  }

  /** Stops reading (a slow client): once the client's small buffer is full, the socket is not read, so the server's writes back up. */
  pause(): void {
    this.res.pause();
  }

  resume(): void {
    this.res.resume();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
