import { ConflictError, ForbiddenError } from '../../common/errors/domain-error.js';

export class OrgSlugTakenError extends ConflictError {
  constructor(slug: string) {
    super(`An organization with slug '${slug}' already exists`);
  }
}

/** A non-member, or an org that does not exist: the two are not told apart (DESIGN.md §4). */
export class NotOrgMemberError extends ForbiddenError {
  constructor(ref: string) {
    super(`You are not a member of organization '${ref}'`);
  }
}

export class LastOwnerError extends ConflictError {
  constructor() {
    super('An organization must keep at least one owner');
  }
}
