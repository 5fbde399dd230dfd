import { Injectable } from '@nestjs/common';

/** Environments whose version is kept at most; past it the memory starts over (one read each again). */
const MAX_KNOWN = 10_000;

/**
 * The environments' versions as this instance's change feed hears them, so that a pull can report its
 * environment's version without reading the log in its statement (which cost PostgreSQL ~100 µs of CPU
 * per pull in bench:pull:ab, a sixth of its share).
 *
 * What makes a remembered version safe to report: it is always the position of a change that has
 * committed (a NOTIFY is delivered only once its transaction is visible; a read from the log sees only
 * committed changes), and it is read before the pull's own statement takes its snapshot, so the answer
 * is at least as new as the version it reports (a check-and-set from it cannot miss a change the
 * answer did not show). It can lag behind a change that committed a moment ago (its notification not
 * yet heard): then a check-and-set from it is refused for that key, as from any older version; never
 * an update lost.
 *
 * Only while the feed listens: when it loses its connection, notifications may be missed, so
 * everything known is forgotten and pulls read the version from the log until the feed listens again
 * (and then from scratch: `epoch` tells a read that started before the gap not to be remembered).
 */
@Injectable()
export class EnvironmentVersions {
  private readonly known = new Map<string, bigint>();
  private listening = false;
  private epoch = 0;

  /** The feed listens (its LISTEN has returned): every change committed from now on will be heard. */
  listen(): void {
    this.forget();
    this.listening = true;
  }

  /** The feed lost its connection or stopped: changes may go unheard from now on. */
  deaf(): void {
    this.forget();
    this.listening = false;
  }

  /** A committed change of the environment, heard by the feed (in commit order). */
  heard(environmentId: string, seq: string): void {
    if (this.listening && /^\d{1,19}$/.test(seq)) this.raise(environmentId, BigInt(seq));
  }

  /** The version to report for a pull about to read the environment, if known; undefined: read it from the log. */
  current(environmentId: string): string | undefined {
    return this.listening ? this.known.get(environmentId)?.toString() : undefined;
  }

  /** Taken before a read of the version from the log, and given back to `remember` with what it read. */
  ticket(): number | null {
    return this.listening ? this.epoch : null;
  }

  /** The version read from the log: kept when the feed listened throughout the read. */
  remember(environmentId: string, version: string, ticket: number | null): void {
    if (ticket !== null && ticket === this.epoch && this.listening) this.raise(environmentId, BigInt(version));
  }

  private raise(environmentId: string, version: bigint): void {
    const known = this.known.get(environmentId);
    if (known === undefined && this.known.size >= MAX_KNOWN) this.forget();
    if (known === undefined || version > known) this.known.set(environmentId, version);
  }

  private forget(): void {
    this.known.clear();
    this.epoch++;
  }
}
