import { ConflictError, ForbiddenError, NotFoundError } from '../../common/errors/domain-error.js';

export class ProjectNotFoundError extends NotFoundError {
  constructor(slug: string) {
    super(`Project '${slug}' not found`);
  }
}

export class EnvironmentNotFoundError extends NotFoundError {
  constructor(slug: string) {
    super(`Environment '${slug}' not found`);
  }
}

export class ProjectSlugTakenError extends ConflictError {
  constructor(slug: string) {
    super(`A project with slug '${slug}' already exists in this organization`);
  }
}

export class EnvironmentSlugTakenError extends ConflictError {
  constructor(slug: string) {
    super(`Environment '${slug}' already exists in this project (or is an alias of a default environment, or reserved)`);
  }
}

export class TierForbiddenError extends ForbiddenError {
  constructor(role: string, tier: string) {
    super(`Your role (${role}) cannot read secrets of ${tier}-tier environments`);
  }
}

export class TokenProjectScopeError extends ForbiddenError {
  constructor(what: string) {
    super(`This token is not scoped to this ${what}`);
  }
}
