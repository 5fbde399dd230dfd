import { DomainError } from '../../common/errors/domain-error.js';
import { LIMIT_LABELS, type LimitName, type PlanName } from './plan-limits.js';

/** What a person can do about a limit besides upgrading: said in the error, as the CLI prints it. */
const HOW_TO_FREE: Partial<Record<LimitName, string>> = {
  tokensPerUser: 'Revoke tokens you no longer use: `secr tokens` lists them, `secr tokens revoke <id>` revokes one (or DELETE /v1/auth/tokens/{id})',
};

export class PlanLimitExceededError extends DomainError {
  readonly status = 403;
  readonly code = 'plan_limit_exceeded';
  constructor(
    readonly limit: LimitName,
    readonly max: number,
    readonly usage: number,
    readonly plan: PlanName,
  ) {
    super(
      `Plan limit reached: ${limit} (${LIMIT_LABELS[limit]}) is ${max} on the '${plan}' plan; current usage is ${usage}${HOW_TO_FREE[limit] ? `. ${HOW_TO_FREE[limit]}` : ''}`,
    );
  }
}
