import { AuditEvent } from '../modules/audit/audit-event.entity.js';
import { ApiToken } from '../modules/auth/api-token.entity.js';
import { Session } from '../modules/auth/session.entity.js';
import { User } from '../modules/auth/user.entity.js';
import { Invite } from '../modules/members/invite.entity.js';
import { Membership } from '../modules/orgs/membership.entity.js';
import { Org } from '../modules/orgs/org.entity.js';
import { Environment } from '../modules/projects/environment.entity.js';
import { Project } from '../modules/projects/project.entity.js';

export const ENTITIES = [User, Session, ApiToken, Org, Membership, Invite, AuditEvent, Project, Environment];
