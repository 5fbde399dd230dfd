import { Module } from '@nestjs/common';
import { RateLimitPruner } from './rate-limit-pruner.service.js';
import { RateLimiter } from './rate-limiter.service.js';

/** The shared rate-limit counters (`rate_limit_buckets`) and the job that deletes the expired ones. */
@Module({ providers: [RateLimiter, RateLimitPruner], exports: [RateLimiter] })
export class RateLimitModule {}
