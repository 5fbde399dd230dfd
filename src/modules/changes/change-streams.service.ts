import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { roleCanReadTier } from '../../common/auth/permissions.js';
import { RateLimitedError } from '../../common/errors/domain-error.js';
import { safeError } from '../../common/logging/safe-error.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { CredentialStatus } from '../auth/credential-status.service.js';
import type { Actor } from '../auth/request-context.js';
import { OrgsRepository } from '../orgs/orgs.repository.js';
import type { VaultTarget } from '../projects/vault-access.service.js';
import { ChangeFeed, type FeedSignal } from './change-feed.service.js';
import { ChangeLogRepository, type SecretChangeEvent } from './change-log.repository.js';

/** A reconnecting watcher is sent at most this many missed changes; beyond, it is told to pull again. */
export const REPLAY_LIMIT = 500;
/** What a client waits before reconnecting (the SSE `retry:` field). */
const RETRY_MS = 2_000;

interface Watcher {
  readonly res: ServerResponse;
  readonly target: VaultTarget;
  readonly userId: string;
  /** `t:<token id>` or `s:<session id>`: what the per-credential limit counts and the re-check verifies. */
  readonly credential: string;
  /** The last change sent (or the head it started from). */
  lastSeq: bigint;
  /** False while the first replay runs: live changes wait in `queued`. */
  ready: boolean;
  queued: FeedSignal[];
  /** A replay after a gap in the feed is running. */
  replaying: boolean;
  unsubscribe: () => void;
  closed: boolean;
}

/**
 * The open change streams of this instance (`GET /v1/secrets/…/events`, Server-Sent Events). Each
 * stream subscribes to the instance's one ChangeFeed; one timer sends every stream its heartbeat, and
 * another re-checks every stream's caller (credential live, still a member, role still reads the tier)
 * in two statements for all of them. A client that does not read is closed once `bufferBytes` wait for
 * it, rather than buffered without bound.
 */
@Injectable()
export class ChangeStreams implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ChangeStreams.name);
  private readonly watchers = new Set<Watcher>();
  /** Open streams per token or session, counting those still opening. */
  private readonly perCredential = new Map<string, number>();
  /** Streams past the limit checks whose replay is still being read. */
  private opening = 0;
  private heartbeat?: NodeJS.Timeout;
  private recheck?: NodeJS.Timeout;
  private rechecking = false;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly log: ChangeLogRepository,
    private readonly credentials: CredentialStatus,
    private readonly orgs: OrgsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { heartbeatMs, recheckMs } = this.config.streams;
    this.heartbeat = setInterval(() => this.sendHeartbeats(), heartbeatMs).unref();
    this.recheck = setInterval(() => void this.recheckCallers(), recheckMs).unref();
  }

  /** Ends every stream, so that the HTTP server can close (clients reconnect elsewhere with Last-Event-ID). */
  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.recheck);
    for (const w of [...this.watchers]) this.close(w, null);
  }

  /** Streams open on this instance. */
  get count(): number {
    return this.watchers.size;
  }

  /**
   * Answers the request with a stream of the environment's committed changes. With `lastEventId`, the
   * changes after it are sent first (or `resync` when there are too many, some were pruned from the log, or the id is unknown);
   * without, a `ready` event carries the current position. Limits are checked, and the replay read,
   * before anything is sent, so that a refusal or a database failure is an ordinary error response.
   */
  async open(reply: FastifyReply, target: VaultTarget, actor: Actor, lastEventId: string | undefined): Promise<void> {
    const credential = actor.token ? `t:${actor.token.id}` : `s:${actor.sessionId}`;
    const { maxPerInstance, maxPerCredential } = this.config.streams;
    // The slot is taken before the first await, so that concurrent opens cannot all pass the checks.
    if (this.watchers.size + this.opening >= maxPerInstance)
      throw new RateLimitedError('This server has as many open change streams as it allows; try again later', 5);
    if ((this.perCredential.get(credential) ?? 0) >= maxPerCredential) {
      throw new RateLimitedError(`At most ${maxPerCredential} change streams may be open per token or session`, 5);
    }
    this.opening++;
    this.perCredential.set(credential, (this.perCredential.get(credential) ?? 0) + 1);
    const watcher: Watcher = {
      res: reply.raw,
      target,
      userId: actor.userId,
      credential,
      lastSeq: 0n,
      ready: false,
      queued: [],
      replaying: false,
      unsubscribe: () => undefined,
      closed: false,
    };
    // Subscribed before the replay is read: a change committed meanwhile waits in `queued`.
    watcher.unsubscribe = this.feed.subscribe(target.environment.id, (signal) => this.onSignal(watcher, signal));
    let start: string;
    try {
      start = await this.startOf(watcher, lastEventId);
    } catch (error) {
      watcher.unsubscribe();
      this.opening--;
      this.releaseCredential(credential);
      throw error;
    }
    this.opening--;
    reply.hijack();
    const res = reply.raw;
    if (res.destroyed) {
      // The client left while the replay was read: its 'close' has passed, nothing is left to count.
      watcher.unsubscribe();
      this.releaseCredential(credential);
      return;
    }
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    this.watchers.add(watcher);
    res.once('close', () => this.close(watcher, null));
    this.write(watcher, `retry: ${RETRY_MS}\n${start}`);
    watcher.ready = true;
    this.drain(watcher);
  }

  /** The first events of a stream: a replay, a resync, or `ready`; sets the watcher's position. */
  private async startOf(w: Watcher, lastEventId: string | undefined): Promise<string> {
    const head = await this.log.head(w.target.environment.id);
    if (lastEventId === undefined) {
      w.lastSeq = BigInt(head.environment);
      return frame('ready', head.environment, { seq: head.environment });
    }
    const { text, lastSeq } = await this.replay(w.target.environment.id, BigInt(lastEventId), head);
    w.lastSeq = lastSeq;
    return text;
  }

  /**
   * What a watcher missed after `after`: the changes, or `resync` (too many, changes pruned from the log
   * since, or an id this database never issued).
   */
  private async replay(environmentId: string, after: bigint, known?: { environment: string; all: string }): Promise<{ text: string; lastSeq: bigint }> {
    const head = known ?? (await this.log.head(environmentId));
    const resync = (reason: string) => ({ text: frame('resync', head.environment, { seq: head.environment, reason }), lastSeq: BigInt(head.environment) });
    if (after > BigInt(head.all)) return resync('unknown_event_id');
    const { floor, changes: missed } = await this.log.since(environmentId, after.toString(), REPLAY_LIMIT + 1);
    if (after < BigInt(floor)) return resync('changes_pruned');
    if (missed.length > REPLAY_LIMIT) return resync('too_many_changes');
    return { text: missed.map(changeFrame).join(''), lastSeq: missed.length ? BigInt(missed[missed.length - 1].seq) : after };
  }

  private onSignal(w: Watcher, signal: FeedSignal): void {
    if (w.closed) return;
    w.queued.push(signal);
    if (w.ready && !w.replaying) this.drain(w);
  }

  /** Sends what waits, in order; a gap in the feed is filled from the log before anything after it. */
  private drain(w: Watcher): void {
    while (w.queued.length && !w.closed) {
      const signal = w.queued.shift()!;
      if ('gap' in signal) {
        w.queued = w.queued.filter((s) => !('gap' in s));
        w.replaying = true;
        this.replay(w.target.environment.id, w.lastSeq)
          .then(({ text, lastSeq }) => {
            if (text) this.write(w, text);
            if (lastSeq > w.lastSeq) w.lastSeq = lastSeq;
          })
          .catch((error: unknown) => {
            this.logger.warn({ failure: safeError(error) }, 'Change stream: could not replay after a gap; closing it');
            this.close(w, null);
          })
          .finally(() => {
            w.replaying = false;
            this.drain(w);
          });
        return;
      }
      const seq = BigInt(signal.change.seq);
      if (seq <= w.lastSeq) continue; // already sent (replayed)
      w.lastSeq = seq;
      this.write(w, changeFrame(signal.change));
    }
  }

  /** Writes to the client, or closes a stream whose client lets more than `bufferBytes` wait. */
  private write(w: Watcher, text: string): void {
    if (w.closed) return;
    if (w.res.writableLength > this.config.streams.bufferBytes) {
      this.logger.warn('Change stream: the client does not read; closing it');
      this.close(w, null);
      return;
    }
    w.res.write(text);
  }

  private sendHeartbeats(): void {
    for (const w of this.watchers) this.write(w, ':\n\n');
  }

  /** Closes every stream whose credential ended, whose member left, or whose role no longer reads the tier. */
  private async recheckCallers(): Promise<void> {
    if (this.rechecking || !this.watchers.size) return;
    this.rechecking = true;
    try {
      const watchers = [...this.watchers];
      const ids = { t: new Set<string>(), s: new Set<string>() };
      const pairs = new Map<string, { orgId: string; userId: string }>();
      for (const w of watchers) {
        ids[w.credential[0] as 't' | 's'].add(w.credential.slice(2));
        pairs.set(`${w.target.org.id}/${w.userId}`, { orgId: w.target.org.id, userId: w.userId });
      }
      const [live, roles] = await Promise.all([this.credentials.live([...ids.t], [...ids.s]), this.orgs.roles([...pairs.values()])]);
      for (const w of watchers) {
        const role = roles.get(`${w.target.org.id}/${w.userId}`);
        if (!live.has(w.credential.slice(2))) this.close(w, 'credential_revoked');
        else if (!role) this.close(w, 'membership_removed');
        else if (!roleCanReadTier(role, w.target.environment.tier)) this.close(w, 'role_changed');
      }
    } catch (error) {
      this.logger.warn({ failure: safeError(error) }, 'Change stream: could not re-check callers; will try again');
    } finally {
      this.rechecking = false;
    }
  }

  /** Ends a stream; with a reason, tells the client first why (it should not reconnect with the same credential). */
  private releaseCredential(credential: string): void {
    const n = (this.perCredential.get(credential) ?? 1) - 1;
    if (n > 0) this.perCredential.set(credential, n);
    else this.perCredential.delete(credential);
  }

  private close(w: Watcher, reason: string | null): void {
    if (w.closed) return;
    if (reason && !w.res.writableEnded) w.res.write(frame('closed', null, { reason }));
    w.closed = true;
    w.unsubscribe();
    this.watchers.delete(w);
    this.releaseCredential(w.credential);
    if (!w.res.writableEnded) w.res.end();
    if (reason === null && w.res.writableLength > 0) w.res.destroy();
  }
}

function frame(event: string, id: string | null, data: unknown): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A change's frame is the same for every watcher: serialised once, for the 5,000 streams of a busy environment. */
const changeFrames = new WeakMap<SecretChangeEvent, string>();

function changeFrame(c: SecretChangeEvent): string {
  let text = changeFrames.get(c);
  if (text === undefined) changeFrames.set(c, (text = frame('change', c.seq, { seq: c.seq, type: c.type, changes: c.changes, at: c.at })));
  return text;
}
