import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { hashesEqual } from '../../common/crypto/hash.js';
import { KeyProvider } from '../keys/key-provider.js';
import { KeyProviders } from '../keys/key-providers.js';
import type { AuditVerifyFailureDto, AuditVerifyResultDto, VerifyProblem } from './audit.dto.js';
import { AuditRepository, type ChainLink, type CheckpointRow } from './audit.repository.js';

/** Rows read per statement while verifying (a bounded amount of memory at any chain length). */
const VERIFY_BATCH = 5_000;
/** Heads signed per statement by one checkpoint pass. */
const CHECKPOINT_BATCH = 500;
/** The only signing key so far; a new id would come with a key rotation (not yet offered). */
const SIGNING_KEY_ID = 1;

interface Anchor {
  seq: bigint;
  hash: Buffer;
}

/**
 * The tamper evidence of the audit log (issue 21). Each org's rows form a hash chain, linked by the
 * database as each row is inserted (the `audit_events_link` trigger, migration 1764830000000):
 * hash(n) = SHA-256(hash(n-1) ‖ content(n)). A hash chain alone proves nothing against someone who can
 * write the table — they can recompute it — so checkpoints pin it: (org, position, hash) signed with an
 * HMAC under a key that the KeyProvider wraps, which the database never sees in clear. Verification walks
 * the chain from a trusted start (a signed checkpoint, or the chain's start) and compares every row with
 * its hash, its predecessor and every checkpoint on the way.
 */
@Injectable()
export class AuditChain implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditChain.name);
  private readonly keys = new Map<number, Promise<Buffer>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: AuditRepository,
    private readonly provider: KeyProvider,
    private readonly providers: KeyProviders,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.running = this.checkpointAll().catch((error: unknown) => this.logger.error({ err: error }, 'Audit checkpoint pass failed'));
    }, this.config.audit.checkpointIntervalSeconds * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Signs a checkpoint of every org's chain that grew since its last one; returns how many it signed. */
  async checkpointAll(): Promise<number> {
    let signed = 0;
    for (;;) {
      const heads = await this.repo.uncheckpointedHeads(CHECKPOINT_BATCH);
      for (const head of heads) await this.sign(head.org_id, { seq: BigInt(head.seq), hash: head.hash }, 'periodic');
      signed += heads.length;
      if (heads.length < CHECKPOINT_BATCH) return signed;
    }
  }

  /** Stores a signed checkpoint of `at` (a position and the hash of the row there). */
  async sign(orgId: string, at: Anchor, kind: CheckpointRow['kind']): Promise<void> {
    const key = await this.key(SIGNING_KEY_ID);
    const mac = checkpointMac(key, orgId, at);
    await this.repo.addCheckpoint(orgId, { seq: at.seq.toString(), hash: at.hash, key_id: SIGNING_KEY_ID, mac }, kind);
  }

  /**
   * Checks the org's chain over positions [fromSeq, toSeq] (default: all of it that is kept), starting at
   * the last signed checkpoint before `fromSeq` (or the chain's start, or its retention restart), and
   * reports the first position that was changed, removed or reordered, or a checkpoint that is forged or
   * no longer matches.
   */
  async verify(orgId: string, range: { fromSeq?: bigint; toSeq?: bigint } = {}): Promise<AuditVerifyResultDto> {
    const checkpoints = await this.repo.checkpoints(orgId);
    const trusted = new Map<bigint, Buffer>();
    let forged: AuditVerifyFailureDto | null = null;
    for (const cp of checkpoints) {
      const seq = BigInt(cp.seq);
      const key = await this.key(cp.key_id).catch(() => undefined);
      if (key && hashesEqual(checkpointMac(key, orgId, { seq, hash: cp.hash }), cp.mac)) trusted.set(seq, cp.hash);
      else forged ??= failure('checkpoint_forged', seq, null, `The checkpoint at position ${seq} does not carry a valid signature`);
    }
    // The kept chain starts after the last trusted retention checkpoint (rows before it were deleted on purpose).
    const restart = checkpoints.filter((cp) => cp.kind === 'retention' && trusted.has(BigInt(cp.seq))).map((cp) => BigInt(cp.seq));
    const start: Anchor = restart.length
      ? { seq: restart[restart.length - 1], hash: trusted.get(restart[restart.length - 1])! }
      : { seq: 0n, hash: Buffer.alloc(0) };
    const from = range.fromSeq !== undefined && range.fromSeq > start.seq ? range.fromSeq : start.seq + 1n;
    let anchor = start;
    for (const [seq, hash] of trusted) if (seq < from && seq > anchor.seq) anchor = { seq, hash };

    const head = await this.repo.head(orgId);
    const lastCheckpoint = [...trusted.keys()].reduce((max, seq) => (seq > max ? seq : max), 0n);
    const end = range.toSeq ?? (BigInt(head.seq) > lastCheckpoint ? BigInt(head.seq) : lastCheckpoint);

    let checked = 0;
    let pinned = 0;
    let problem: AuditVerifyFailureDto | null = null;
    let prev = anchor;
    walk: while (prev.seq < end) {
      const batch = await this.repo.links(orgId, prev.seq.toString(), end.toString(), VERIFY_BATCH);
      if (!batch.length) break;
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i];
        const seq = BigInt(row.seq);
        if (seq !== prev.seq + 1n) {
          problem = failure('removed', prev.seq + 1n, null, `The row at position ${prev.seq + 1n} is missing`);
          break walk;
        }
        if (!hashesEqual(link(prev.hash, row.content), row.hash)) {
          problem = reordered(batch, i)
            ? failure('reordered', seq, row.id, `The row at position ${seq} (event ${row.id}) is out of order`)
            : failure('changed', seq, row.id, `The row at position ${seq} (event ${row.id}) does not match its hash`);
          break walk;
        }
        const pin = trusted.get(seq);
        if (pin) {
          pinned++;
          if (!hashesEqual(pin, row.hash)) {
            problem = failure(
              'checkpoint_mismatch',
              seq,
              row.id,
              `The chain up to position ${seq} was rewritten: it no longer matches the signed checkpoint there`,
            );
            break walk;
          }
        }
        checked++;
        prev = { seq, hash: row.hash };
      }
    }
    if (!problem && prev.seq < end) problem = failure('removed', prev.seq + 1n, null, `The row at position ${prev.seq + 1n} is missing`);
    const first = [problem, forged].filter((p): p is AuditVerifyFailureDto => p !== null).sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1))[0] ?? null;
    return { valid: first === null, fromSeq: (anchor.seq + 1n).toString(), toSeq: end.toString(), checked, checkpoints: pinned, firstProblem: first };
  }

  /** The HMAC key with this id, unwrapped by the provider that wrapped it; the first is created on first use. */
  private key(id: number): Promise<Buffer> {
    let key = this.keys.get(id);
    if (!key) {
      key = this.loadKey(id);
      this.keys.set(id, key);
      key.catch(() => this.keys.delete(id)); // a KMS outage is not cached
    }
    return key;
  }

  private async loadKey(id: number): Promise<Buffer> {
    let row = await this.repo.signingKeyById(id);
    if (!row && id === SIGNING_KEY_ID) {
      const wrapped = await this.provider.wrap(randomBytes(32), { auditKeyId: id });
      await this.repo.addSigningKey({ id, provider: this.provider.name, master_key_id: this.provider.masterKeyId, wrapped });
      row = await this.repo.signingKeyById(id); // another instance may have stored its key first: that one is used
    }
    if (!row) throw new Error(`Audit signing key ${id} does not exist`);
    const provider = this.providers.find(row.provider, row.master_key_id);
    if (!provider) throw new Error(`Audit signing key ${id} was wrapped by ${row.provider}/${row.master_key_id}, which this server is not configured with`);
    return provider.unwrap(row.wrapped, { auditKeyId: id });
  }
}

/** hash(n) = SHA-256(hash(n-1) ‖ content(n)), as the database computes it (audit_events_link). */
function link(prev: Buffer, content: string): Buffer {
  return createHash('sha256').update(prev).update(content, 'utf8').digest();
}

/** A row whose hash links it to another row of the batch as predecessor was moved, not edited. */
function reordered(batch: ChainLink[], i: number): boolean {
  return batch.some((other, j) => j !== i && hashesEqual(link(other.hash, batch[i].content), batch[i].hash));
}

function checkpointMac(key: Buffer, orgId: string, at: Anchor): Buffer {
  return createHmac('sha256', key)
    .update(`secr-audit-checkpoint:v1:${orgId}:${at.seq}:${at.hash.toString('hex')}`)
    .digest();
}

function failure(problem: VerifyProblem, seq: bigint, eventId: string | null, message: string): AuditVerifyFailureDto {
  return { problem, seq: seq.toString(), eventId, message };
}
