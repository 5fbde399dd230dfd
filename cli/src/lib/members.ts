import { unwrap, type components, type SecrApi } from '@secr/sdk';
import { CliFailure, ExitCode } from './errors.js';

export { ROLES, type Role } from '@secr/sdk';
type Member = components['schemas']['MemberDto'];

/** A member by email (case-insensitive) or user id: the member routes take user ids. */
export async function findMember(api: SecrApi, org: { id: string; slug: string }, ref: string): Promise<Member> {
  const { members } = unwrap(await api.GET('/v1/members/{orgId}', { params: { path: { orgId: org.id } } }));
  const member = members.find((m) => m.userId === ref || m.email.toLowerCase() === ref.toLowerCase());
  if (!member) throw new CliFailure(`No member '${ref}' in ${org.slug}`, 'not_found', ExitCode.NotFound);
  return member;
}
