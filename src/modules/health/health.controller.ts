import { Controller, Get } from '@nestjs/common';
import { ApiProperty, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Route } from '../../common/auth/route.decorator.js';
import { ServiceUnavailableError } from '../../common/errors/domain-error.js';
import { KeyCheck } from '../keys/key-check.js';

/** /health/ready answers within this, whatever the database does (load balancers give up after ~2 s). */
export const READY_PROBE_TIMEOUT_MS = 1_000;

export class HealthDto {
  @ApiProperty({ example: 'ok' })
  status: string;
}

@ApiTags('Health')
@Controller('health')
export class HealthController {
  private running: Promise<'ok' | 'failed'> | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly keyCheck: KeyCheck,
  ) {}

  @Get()
  @Route({ public: true, summary: 'Liveness: the process is up', response: HealthDto })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Route({ public: true, summary: 'Readiness: the database answers and the key providers passed their check', response: HealthDto })
  async ready(): Promise<HealthDto> {
    // Raced against a timer: a stopped database (SIGSTOP, a partition) never answers, and the pool's
    // own time-outs may be longer than a probe should take. The probe itself still ends with them.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_PROBE_TIMEOUT_MS)));
    try {
      const outcome = await Promise.race([this.probe(), timedOut]);
      if (outcome !== 'ok') throw new ServiceUnavailableError(outcome === 'timeout' ? 'Database not answering' : 'Database unreachable');
    } finally {
      clearTimeout(timer);
    }
    // The start-up key check (key-check.ts): a wrong or refused KMS key, or stored keys no configured provider can read.
    const keyProblems = this.keyCheck.readiness();
    if (keyProblems.length) throw new ServiceUnavailableError(`Keys not ready: ${keyProblems.join('; ')}`);
    return { status: 'ok' };
  }

  /**
   * `SELECT 1`, shared by the probes that arrive while it runs: on a stalled database each probe would
   * otherwise hold a pooled connection until the query time-out, and frequent probes would fill the pool.
   */
  private probe(): Promise<'ok' | 'failed'> {
    this.running ??= this.db
      .query('SELECT 1')
      .then(
        () => 'ok' as const,
        () => 'failed' as const,
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
