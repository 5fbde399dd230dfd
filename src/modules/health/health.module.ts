import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module.js';
import { HealthController } from './health.controller.js';

/** Liveness and readiness probes; readiness includes the KMS key check. */
@Module({
  imports: [KeysModule],
  controllers: [HealthController],
})
export class HealthModule {}
