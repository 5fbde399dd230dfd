import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** Global: the HTTP layer records into it and the admin API reads from it. */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
