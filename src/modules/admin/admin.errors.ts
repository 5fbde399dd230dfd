import { NotFoundError } from '../../common/errors/domain-error.js';

export class AdminOrgNotFoundError extends NotFoundError {
  constructor(orgId: string) {
    super(`Organization '${orgId}' not found`);
  }
}

export class PlanNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`Plan '${name}' not found; plans are free, pro, team and enterprise`);
  }
}
