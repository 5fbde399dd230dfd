import { Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** The HTTP layer records into it (app.factory.ts, through the app) and the admin API reads from it. */
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
