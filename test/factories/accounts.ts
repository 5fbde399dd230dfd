import { randomBytes } from 'node:crypto';
import type { Role } from '../../src/common/auth/permissions.js';
import { HttpClient, sessionFrom } from '../support/http.js';
import { tokenOf, type TestMailServer } from '../support/mail-server.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  /** Session cookie value (the CSRF header is added by HttpClient). */
  session: string;
  /** The personal org created at registration. */
  personalOrg: { id: string; slug: string };
}

export interface TestOrg {
  id: string;
  slug: string;
}

export const DEFAULT_PASSWORD = 'correct horse battery staple';

/**
 * Registers (202, no session) and signs in, as a person would: `email` for a known address (e.g. one
 * in SECR_ADMIN_EMAILS); a unique one otherwise. Test apps raise the sign-up and login rate limits
 * (test-app.ts) so that suites can register as many users as they need.
 */
export async function registerUser(api: HttpClient, name = 'user', email = `${name}-${randomBytes(4).toString('hex')}@example.com`): Promise<TestUser> {
  const res = await api.post('/v1/auth/register', { email, password: DEFAULT_PASSWORD, name });
  if (res.status !== 202) throw new Error(`register failed: ${res.status} ${res.text}`);
  const login = await api.post('/v1/auth/login', { email, password: DEFAULT_PASSWORD });
  if (login.status !== 200) throw new Error(`login after register failed: ${login.status} ${login.text}`);
  const session = sessionFrom(login);
  const me = await api.get('/v1/auth/me', { session });
  if (me.status !== 200 || me.body.orgs.length !== 1) throw new Error(`me after register failed: ${me.status} ${me.text}`);
  const { id, slug } = me.body.orgs[0];
  return { id: login.body.user.id, email, password: DEFAULT_PASSWORD, session, personalOrg: { id, slug } };
}

export async function createOrg(api: HttpClient, owner: TestUser, name = 'Org'): Promise<TestOrg> {
  const res = await api.post('/v1/orgs', { name: `${name} ${randomBytes(3).toString('hex')}` }, { session: owner.session });
  if (res.status !== 201) throw new Error(`create org failed: ${res.status} ${res.text}`);
  return { id: res.body.id, slug: res.body.slug };
}

const INVITATION_SUBJECT = /^Join /;

/**
 * Invites `user` into `org` with `role` (as `inviter`) and accepts as `user`. An app with SMTP_URL set
 * mails the invitation's token instead of answering with it: pass its test mail server as `mail`.
 */
export async function addMember(
  api: HttpClient,
  org: TestOrg,
  inviter: TestUser,
  user: TestUser,
  role: Role,
  { mail }: { mail?: TestMailServer } = {},
): Promise<void> {
  const mailedBefore = mail?.to(user.email).filter((m) => INVITATION_SUBJECT.test(m.subject)).length ?? 0;
  const invited = await api.post(`/v1/members/${org.id}/invite`, { email: user.email, role }, { session: inviter.session });
  if (invited.status !== 201) throw new Error(`invite failed: ${invited.status} ${invited.text}`);
  const token =
    (invited.body.token as string | undefined) ?? (mail && tokenOf((await mail.next(user.email, INVITATION_SUBJECT, { skip: mailedBefore })).links[0]));
  if (!token) throw new Error('invite answered without a token (the app mails it: SMTP_URL is set): pass its test mail server as addMember(…, { mail })');
  const accepted = await api.post(`/v1/members/invite/${token}/accept`, undefined, { session: user.session });
  if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${accepted.text}`);
}

export async function createToken(
  api: HttpClient,
  user: TestUser,
  scope: { access: 'read' | 'read_write'; orgId?: string; kind?: 'api' | 'cli' },
): Promise<{ id: string; token: string }> {
  const res = await api.post('/v1/auth/token', { name: 'test token', ...scope }, { session: user.session });
  if (res.status !== 201) throw new Error(`token failed: ${res.status} ${res.text}`);
  return { id: res.body.id, token: res.body.token };
}

/** An org with one member of every role, plus outsiders, as the role-matrix and scope tests need. */
export interface OrgWithTeam {
  org: TestOrg;
  owner: TestUser;
  admin: TestUser;
  developer: TestUser;
  viewer: TestUser;
}

export async function createTeam(api: HttpClient, users?: Partial<Omit<OrgWithTeam, 'org'>>): Promise<OrgWithTeam> {
  const owner = users?.owner ?? (await registerUser(api, 'owner'));
  const admin = users?.admin ?? (await registerUser(api, 'admin'));
  const developer = users?.developer ?? (await registerUser(api, 'developer'));
  const viewer = users?.viewer ?? (await registerUser(api, 'viewer'));
  const org = await createOrg(api, owner, 'Team');
  await addMember(api, org, owner, admin, 'admin');
  await addMember(api, org, owner, developer, 'developer');
  await addMember(api, org, owner, viewer, 'viewer');
  return { org, owner, admin, developer, viewer };
}
