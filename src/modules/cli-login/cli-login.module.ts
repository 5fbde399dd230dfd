import { Module } from '@nestjs/common';
import { RateLimiter } from '../../common/rate-limit/rate-limiter.service.js';
import { CliLoginController } from './cli-login.controller.js';
import { CliLoginService } from './cli-login.service.js';

@Module({ controllers: [CliLoginController], providers: [CliLoginService, RateLimiter] })
export class CliLoginModule {}
