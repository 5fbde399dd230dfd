import { Global, Module } from '@nestjs/common';
import { PlansService } from './plans.service.js';

/** Global: every module with a creating route checks plan limits. */
@Global()
@Module({ providers: [PlansService], exports: [PlansService] })
export class PlansModule {}
