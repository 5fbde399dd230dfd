/**
 * Every command, by id (oclif's explicit command discovery): the bundle (build.mjs) has them all in one
 * file, so oclif neither globs dist/commands nor imports a module per command. A new command file must
 * be added here (commands.spec.ts checks).
 */
import AuditExportCommand from './commands/audit/export.js';
import AuditCommand from './commands/audit/index.js';
import AuditVerifyCommand from './commands/audit/verify.js';
import DiffCommand from './commands/diff.js';
import EnvsCreateCommand from './commands/envs/create.js';
import EnvsCommand from './commands/envs/index.js';
import ExportCommand from './commands/export.js';
import GetCommand from './commands/get.js';
import HistoryCommand from './commands/history.js';
import ImportCommand from './commands/import.js';
import InitCommand from './commands/init.js';
import LoginCommand from './commands/login.js';
import LogoutCommand from './commands/logout.js';
import LsCommand from './commands/ls.js';
import MembersAcceptCommand from './commands/members/accept.js';
import MembersCommand from './commands/members/index.js';
import MembersInviteCommand from './commands/members/invite.js';
import MembersRemoveCommand from './commands/members/remove.js';
import MembersRoleCommand from './commands/members/role.js';
import OidcAddCommand from './commands/oidc/add.js';
import OidcLsCommand from './commands/oidc/ls.js';
import OidcRmCommand from './commands/oidc/rm.js';
import OrgsCreateCommand from './commands/orgs/create.js';
import OrgsDeleteCommand from './commands/orgs/delete.js';
import OrgsCommand from './commands/orgs/index.js';
import ProjectsCreateCommand from './commands/projects/create.js';
import ProjectsDeleteCommand from './commands/projects/delete.js';
import ProjectsCommand from './commands/projects/index.js';
import PromoteCommand from './commands/promote.js';
import RestoreCommand from './commands/restore.js';
import RmCommand from './commands/rm.js';
import RollbackCommand from './commands/rollback.js';
import RotateKeyCommand from './commands/rotate-key.js';
import RunCommand from './commands/run.js';
import SetCommand from './commands/set.js';
import SignupCommand from './commands/signup.js';
import TemplateAddCommand from './commands/template/add.js';
import TemplateListCommand from './commands/template/list.js';
import TemplateRemoveCommand from './commands/template/remove.js';
import TemplateValidateCommand from './commands/template/validate.js';
import TokensCreateCommand from './commands/tokens/create.js';
import TokensCommand from './commands/tokens/index.js';
import TokensRevokeCommand from './commands/tokens/revoke.js';
import WhoamiCommand from './commands/whoami.js';

export const COMMANDS = {
  audit: AuditCommand,
  'audit:export': AuditExportCommand,
  'audit:verify': AuditVerifyCommand,
  diff: DiffCommand,
  'envs:create': EnvsCreateCommand,
  envs: EnvsCommand,
  export: ExportCommand,
  get: GetCommand,
  history: HistoryCommand,
  import: ImportCommand,
  init: InitCommand,
  login: LoginCommand,
  logout: LogoutCommand,
  ls: LsCommand,
  'members:accept': MembersAcceptCommand,
  members: MembersCommand,
  'members:invite': MembersInviteCommand,
  'members:remove': MembersRemoveCommand,
  'members:role': MembersRoleCommand,
  'oidc:add': OidcAddCommand,
  'oidc:ls': OidcLsCommand,
  'oidc:rm': OidcRmCommand,
  'orgs:create': OrgsCreateCommand,
  'orgs:delete': OrgsDeleteCommand,
  orgs: OrgsCommand,
  'projects:create': ProjectsCreateCommand,
  'projects:delete': ProjectsDeleteCommand,
  projects: ProjectsCommand,
  promote: PromoteCommand,
  restore: RestoreCommand,
  rm: RmCommand,
  rollback: RollbackCommand,
  'rotate-key': RotateKeyCommand,
  run: RunCommand,
  set: SetCommand,
  signup: SignupCommand,
  'template:add': TemplateAddCommand,
  'template:list': TemplateListCommand,
  'template:remove': TemplateRemoveCommand,
  'template:validate': TemplateValidateCommand,
  'tokens:create': TokensCreateCommand,
  tokens: TokensCommand,
  'tokens:revoke': TokensRevokeCommand,
  whoami: WhoamiCommand,
};
