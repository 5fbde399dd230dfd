import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { safeError } from '../../common/logging/safe-error.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { guardClient } from '../../database/pg-connection.js';
import { CHANGES_CHANNEL, ChangeLogRepository, type SecretChangeEvent } from './change-log.repository.js';
import { EnvironmentVersions } from './environment-versions.js';

/** What a subscriber hears: a committed change, or that changes may have been missed (the feed reconnected). */
export type FeedSignal = { change: SecretChangeEvent } | { gap: true };
export type FeedListener = (signal: FeedSignal) => void;

const RECONNECT_MAX_MS = 30_000;

/**
 * The committed changes of every environment, as this instance hears them: ONE connection per
 * instance LISTENs on the change channel (whatever the number of watchers), and each notification is
 * fanned out in process to the subscribers of its environment. A notification carries the change
 * itself, or only its sequence number when it is too big for a NOTIFY; those are read in one statement
 * for all announced together, and only for environments someone here watches. A lost connection is reopened with back-off, and subscribers are
 * told about the gap (they replay from the log what they missed).
 */
@Injectable()
export class ChangeFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ChangeFeed.name);
  private readonly subscribers = new Map<string, Set<FeedListener>>();
  private client: pg.Client | null = null;
  private stopped = false;
  private reconnectDelayMs = 500;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Sequence numbers announced and not yet read. */
  private announced: Array<SecretChangeEvent | string> = [];
  /** One read of announced changes at a time, so they are delivered in commit order. */
  private reading: Promise<void> = Promise.resolve();
  private readScheduled = false;

  constructor(
    private readonly db: DataSource,
    private readonly log: ChangeLogRepository,
    private readonly versions: EnvironmentVersions,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    // The app starts without its feed if the database refuses now; it keeps trying in the background.
    await this.connect().catch(() => this.scheduleReconnect());
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.versions.deaf();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Calls `listener` for each committed change of the environment from now on; returns the unsubscribe. */
  subscribe(environmentId: string, listener: FeedListener): () => void {
    let set = this.subscribers.get(environmentId);
    if (!set) this.subscribers.set(environmentId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.subscribers.get(environmentId) === set) this.subscribers.delete(environmentId);
    };
  }

  /** Whether this instance is listening now. */
  get listening(): boolean {
    return this.client !== null;
  }

  private async connect(): Promise<void> {
    const url = (this.db.options as PostgresDataSourceOptions).url;
    const t = this.config.databaseTimeouts;
    const client = guardClient(
      new pg.Client({ connectionString: url, connectionTimeoutMillis: t.connectMs, keepAlive: true, application_name: 'secr-change-feed' }),
      'change feed',
    );
    client.on('notification', (message) => this.onNotification(message.payload));
    client.once('error', () => this.lost(client));
    client.once('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    const reconnected = this.reconnectDelayMs > 500;
    this.client = client;
    this.versions.listen();
    this.reconnectDelayMs = 500;
    if (reconnected) this.broadcast({ gap: true });
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.versions.deaf();
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn('Change feed: lost its database connection; reconnecting');
    this.broadcast({ gap: true });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((error: unknown) => {
        this.logger.warn({ failure: safeError(error) }, 'Change feed: could not reconnect');
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  private onNotification(payload: string | undefined): void {
    let note: Partial<SecretChangeEvent>;
    try {
      note = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (typeof note.seq !== 'string' || typeof note.environmentId !== 'string') return;
    this.versions.heard(note.environmentId, note.seq); // every environment's, watched here or not (pulls report it)
    if (!this.subscribers.has(note.environmentId)) return; // nobody here watches it: not even read
    this.announced.push(Array.isArray(note.changes) ? (note as SecretChangeEvent) : note.seq);
    if (this.readScheduled) return;
    this.readScheduled = true;
    // Notifications that arrive together (a burst of writes) are handled, and read if need be, at once.
    setImmediate(() => {
      this.readScheduled = false;
      const announced = this.announced;
      this.announced = [];
      this.reading = this.reading.then(() => this.deliver(announced));
    });
  }

  /** Delivers announced changes in order; those that came without their content are read in one statement. */
  private async deliver(announced: Array<SecretChangeEvent | string>): Promise<void> {
    let changes = announced.filter((a): a is SecretChangeEvent => typeof a !== 'string');
    const unread = announced.filter((a): a is string => typeof a === 'string');
    if (unread.length) {
      try {
        const read = await this.log.bySeq(unread);
        // Pruned before it could be read (a burst beyond the per-environment count): streams replay, or resync.
        if (read.length < unread.length) this.broadcast({ gap: true });
        changes = [...changes, ...read].sort((x, y) => (BigInt(x.seq) < BigInt(y.seq) ? -1 : 1));
      } catch (error) {
        this.logger.warn({ failure: safeError(error) }, 'Change feed: could not read announced changes');
        this.broadcast({ gap: true });
        return;
      }
    }
    for (const change of changes) {
      for (const listener of this.subscribers.get(change.environmentId) ?? []) listener({ change });
    }
  }

  private broadcast(signal: FeedSignal): void {
    for (const set of this.subscribers.values()) for (const listener of set) listener(signal);
  }
}
