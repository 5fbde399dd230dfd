import { ConflictError, ForbiddenError, NotFoundError } from '../../common/errors/domain-error.js';

export class MemberNotFoundError extends NotFoundError {
  constructor(userId: string) {
    super(`Member '${userId}' not found in this organization`);
  }
}

export class InviteNotFoundError extends NotFoundError {
  constructor() {
    super('Invitation not found, already used, revoked or expired');
  }
}

export class InviteEmailMismatchError extends ForbiddenError {
  constructor() {
    super('This invitation was sent to another email address; sign in with that address to accept it');
  }
}

export class EmailNotVerifiedError extends ForbiddenError {
  constructor() {
    super('Verify your email address (POST /v1/auth/send-verification) before accepting an invitation');
  }
}

export class InviteNotPendingError extends NotFoundError {
  constructor(id: string) {
    super(`Invitation '${id}' not found, or already accepted, revoked or expired`);
  }
}

export class AlreadyMemberError extends ConflictError {
  constructor(email: string) {
    super(`${email} is already a member of this organization`);
  }
}

export class OutrankedError extends ForbiddenError {}

export class InviteRaceError extends ConflictError {
  constructor() {
    super('Another invitation for this address was created at the same time; list the invitations, or retry');
  }
}
