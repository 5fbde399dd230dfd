import { Module } from '@nestjs/common';
import { OrgsModule } from '../orgs/orgs.module.js';
import { PlansService } from './plans.service.js';

/** Plan limits: every module with a creating route imports it. */
@Module({ imports: [OrgsModule], providers: [PlansService], exports: [PlansService] })
export class PlansModule {}
