import { Inject, Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../request-context.js';
import { RateLimitedError } from '../../../common/errors/domain-error.js';
import { RateLimiter } from '../../../common/rate-limit/rate-limiter.service.js';
import { CONFIG, type AppConfig } from '../../../config/config.js';
import { isUniqueViolation } from '../../../database/pg-errors.js';
import { AuditService } from '../../audit/audit.service.js';
import { randomBase62 } from '../../../common/crypto/random.js';
import { sha256 } from '../../../common/crypto/hash.js';
import { TokensService } from '../tokens.service.js';
import { UsersRepository } from '../users.repository.js';
import type {
  CliLoginDecisionDto,
  CliLoginPollDto,
  CliLoginRequestDto,
  CliLoginStartedDto,
  DecideCliLoginDto,
  PollCliLoginDto,
  StartCliLoginDto,
} from './cli-login.dto.js';
import { CliLoginDecidedError, CliLoginNotFoundError, SlowDownError, UnknownCliLoginError } from './cli-login.errors.js';

/** How long a request waits for its approval, and then for the CLI to collect its token. */
export const CLI_LOGIN_TTL_SECONDS = 600;
/** No vowels (no words spelt by chance) and no look-alike letters: 20^8 ≈ 2.6e10 codes. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const CLI_LOGIN_PATH = '/cli-login';

/**
 * `secr login` through the browser, in the shape of OAuth's device flow (RFC 8628): the CLI starts a
 * request and polls it with a secret device code; a signed-in person approves it in the dashboard by its
 * short user code. The token is minted at the first poll after the approval, so no token exists before
 * it is collected and none is stored in the clear; a request yields at most one token.
 */
@Injectable()
export class CliLoginService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly tokens: TokensService,
    private readonly users: UsersRepository,
    private readonly limiter: RateLimiter,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async start(dto: StartCliLoginDto, meta: RequestMeta): Promise<CliLoginStartedDto> {
    const rule = this.config.cliLoginStartLimit;
    const hit = await this.limiter.hit(`cli-login:start:ip:${meta.ip}`, rule);
    if (hit.count > rule.limit) throw new RateLimitedError('Too many sign-in requests from this address; try again later', hit.retryAfterSeconds);
    const deviceCode = `secr_clr_${randomBase62()}`;
    for (let attempt = 0; ; attempt++) {
      const userCode = newUserCode();
      try {
        const [row]: Array<{ expires_at: Date }> = await this.db.query(
          `INSERT INTO cli_login_requests (device_code_hash, user_code, hostname, ip, user_agent, expires_at)
           VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING expires_at`,
          [sha256(deviceCode), userCode, dto.hostname, meta.ip, meta.userAgent, CLI_LOGIN_TTL_SECONDS],
        );
        return { deviceCode, userCode, verificationPath: CLI_LOGIN_PATH, expiresAt: row.expires_at, interval: this.config.cliLoginPollIntervalSeconds };
      } catch (error) {
        // A user code is unique among pending requests: draw another one.
        if (!isUniqueViolation(error) || attempt >= 4) throw error;
      }
    }
  }

  /** What the approval page shows: which machine asks, from where, since when. */
  async describe(userCode: string): Promise<CliLoginRequestDto> {
    const row = await this.pendingByCode(userCode);
    return { userCode: row.user_code, hostname: row.hostname, ip: row.ip, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async decide(actor: Actor, dto: DecideCliLoginDto, meta: RequestMeta): Promise<CliLoginDecisionDto> {
    const code = normalizeUserCode(dto.userCode);
    const status = dto.approve ? 'approved' : 'denied';
    await this.db.transaction(async (em) => {
      const rows: Array<{ id: string; hostname: string }> = await em.query(
        `WITH decided AS (
           UPDATE cli_login_requests SET status = $2, user_id = $3, decided_at = now()
            WHERE user_code = $1 AND status = 'pending' AND expires_at > now()
            RETURNING id, hostname)
         SELECT id, hostname FROM decided`,
        [code, status, actor.userId],
      );
      if (!rows.length) {
        await this.pendingByCode(code); // throws the error that says why
        throw new CliLoginNotFoundError();
      }
      await this.audit.record(em, { action: `cli_login.${status}`, actor, meta, metadata: { requestId: rows[0].id, hostname: rows[0].hostname } });
    });
    return { status };
  }

  /** The CLI's poll: rate-limited per request; delivers the token once. */
  async poll(dto: PollCliLoginDto, meta: RequestMeta): Promise<CliLoginPollDto> {
    const hash = sha256(dto.deviceCode);
    const interval = this.config.cliLoginPollIntervalSeconds;
    const [row]: Array<{ id: string; status: string; user_id: string | null; hostname: string; expired: boolean }> = await this.db.query(
      `WITH polled AS (
         UPDATE cli_login_requests SET last_polled_at = now()
          WHERE device_code_hash = $1 AND (last_polled_at IS NULL OR last_polled_at <= now() - make_interval(secs => $2))
          RETURNING id, status, user_id, hostname, expires_at <= now() AS expired)
       SELECT * FROM polled`,
      [hash, interval],
    );
    if (!row) {
      const [waiting]: Array<{ wait: number }> = await this.db.query(
        `SELECT extract(epoch FROM last_polled_at + make_interval(secs => $2) - now())::float AS wait FROM cli_login_requests WHERE device_code_hash = $1`,
        [hash, interval],
      );
      if (!waiting) throw new UnknownCliLoginError();
      throw new SlowDownError(Math.max(1, Math.ceil(waiting.wait)));
    }
    if (row.status === 'denied') return { status: 'denied' };
    if (row.status === 'delivered' || row.expired) return { status: 'expired' };
    if (row.status === 'pending') return { status: 'pending' };
    return this.deliver(row.id, row.hostname, meta);
  }

  /** Mints the token of an approved request, once: a concurrent second poll finds it delivered. */
  private deliver(requestId: string, hostname: string, meta: RequestMeta): Promise<CliLoginPollDto> {
    return this.db.transaction(async (em) => {
      const [claimed]: Array<{ user_id: string }> = await em.query(
        // In a CTE: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
        // Not after its expiry: taking the account back expires the approved requests it has not collected
        // (clock_timestamp: a poll that waited for that transaction compares with the time it committed).
        `WITH claimed AS (
           UPDATE cli_login_requests SET status = 'delivered' WHERE id = $1 AND status = 'approved' AND expires_at > clock_timestamp() RETURNING user_id)
         SELECT user_id FROM claimed`,
        [requestId],
      );
      if (!claimed) return { status: 'expired' as const };
      const name = `secr CLI on ${hostname}`.slice(0, 100);
      const token = await this.tokens.mintCliToken(em, claimed.user_id, name, meta, { via: 'browser_login', requestId });
      await em.query('UPDATE cli_login_requests SET token_id = $2 WHERE id = $1', [requestId, token.id]);
      const email = (await this.users.profiles(em, [claimed.user_id])).get(claimed.user_id)!.email;
      return { status: 'approved' as const, token: token.token, tokenId: token.id, hint: token.hint, email };
    });
  }

  /**
   * Taking an account back: the sign-in requests it approved whose token no CLI has collected yet expire
   * now (a poll answers `expired`, no token is minted), in the caller's transaction. Returns how many.
   */
  async expireApprovedOf(em: EntityManager, userId: string): Promise<number> {
    const rows: Array<{ id: string }> = await em.query(
      `WITH expired AS (
         UPDATE cli_login_requests SET expires_at = now()
          WHERE user_id = $1 AND status = 'approved' AND expires_at > now() RETURNING id)
       SELECT id FROM expired`,
      [userId],
    );
    return rows.length;
  }

  private async pendingByCode(userCode: string) {
    const [row]: Array<{ user_code: string; hostname: string; ip: string; status: string; created_at: Date; expires_at: Date; expired: boolean }> =
      await this.db.query(
        `SELECT user_code, hostname, ip, status, created_at, expires_at, expires_at <= now() AS expired
         FROM cli_login_requests WHERE user_code = $1 ORDER BY created_at DESC LIMIT 1`,
        [normalizeUserCode(userCode)],
      );
    if (!row || row.expired) throw new CliLoginNotFoundError();
    if (row.status !== 'pending') throw new CliLoginDecidedError(row.status === 'denied' ? 'denied' : 'approved');
    return row;
  }
}

function newUserCode(): string {
  const letters = Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('');
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** `bcdfghjk` and `BCDF-GHJK` name the same request. */
export function normalizeUserCode(code: string): string {
  const letters = code.toUpperCase().replace(/[^A-Z]/g, '');
  return `${letters.slice(0, 4)}-${letters.slice(4, 8)}`;
}
