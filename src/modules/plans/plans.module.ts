import { Module } from '@nestjs/common';
import { PlansService } from './plans.service.js';

/** Plan limits: every module with a creating route imports it. */
@Module({ providers: [PlansService], exports: [PlansService] })
export class PlansModule {}
