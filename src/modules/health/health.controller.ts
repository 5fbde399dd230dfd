import { Controller, Get } from '@nestjs/common';
import { ApiProperty, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Route } from '../../common/auth/route.decorator.js';
import { ServiceUnavailableError } from '../../common/errors/domain-error.js';

export class HealthDto {
  @ApiProperty({ example: 'ok' })
  status: string;
}

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(private readonly db: DataSource) {}

  @Get()
  @Route({ public: true, summary: 'Liveness: the process is up', response: HealthDto })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Route({ public: true, summary: 'Readiness: the database answers', response: HealthDto })
  async ready(): Promise<HealthDto> {
    try {
      await this.db.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableError('Database unreachable');
    }
    return { status: 'ok' };
  }
}
