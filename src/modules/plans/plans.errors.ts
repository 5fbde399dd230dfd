import { DomainError } from '../../common/errors/domain-error.js';
import { LIMIT_LABELS, type LimitName, type PlanName } from './plan-limits.js';

export class PlanLimitExceededError extends DomainError {
  readonly status = 403;
  readonly code = 'plan_limit_exceeded';
  constructor(
    readonly limit: LimitName,
    readonly max: number,
    readonly usage: number,
    readonly plan: PlanName,
  ) {
    super(`Plan limit reached: ${limit} (${LIMIT_LABELS[limit]}) is ${max} on the '${plan}' plan; current usage is ${usage}`);
  }
}
