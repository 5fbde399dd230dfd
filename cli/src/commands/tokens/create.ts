import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand } from '../../base-command.js';
import { formatTime } from '../../lib/table.js';

export type TokenCreateResult = components['schemas']['CreatedTokenDto'];

export default class TokensCreate extends BaseCommand<typeof TokensCreate, TokenCreateResult> {
  static override summary = 'Create an API token (shown once), e.g. SECR_TOKEN for CI';
  static override description =
    'A token can do at most what you can; narrow it with --org, --project, --env and --access read. The flags here set the token’s scope and are never taken from .secr.json.';
  static override examples = [
    '<%= config.bin %> tokens create "GitHub Actions deploy" --access read --org acme --project billing-api --env production',
    '<%= config.bin %> tokens create "local scripts" --expires-in-days 30',
  ];
  static override args = { name: Args.string({ description: 'A name to recognise the token by', required: true }) };
  static override flags = {
    access: Flags.string({ description: 'read: pull and list only; read_write: also change', options: ['read', 'read_write'], default: 'read_write' }),
    org: Flags.string({ description: 'Only this org (slug or id)' }),
    project: Flags.string({ description: 'Only this project of --org (slug)', dependsOn: ['org'] }),
    env: Flags.string({ description: 'Only these environments (repeatable)', multiple: true }),
    'expires-in-days': Flags.integer({ description: 'Days until it expires (1–365; default 90)', min: 1, max: 365 }),
  };

  async run(): Promise<TokenCreateResult> {
    const api = await this.api();
    const org = this.flags.org ? await this.resolveOrg(this.flags.org) : undefined;
    const projectId =
      org && this.flags.project
        ? this.unwrap(await api.GET('/v1/projects/{orgId}/{slug}', { params: { path: { orgId: org.id, slug: this.flags.project } } })).id
        : undefined;
    const body = {
      name: this.args.name,
      access: this.flags.access as 'read' | 'read_write',
      kind: 'api' as const,
      ...(org ? { orgId: org.id } : {}),
      ...(projectId ? { projectId } : {}),
      ...(this.flags.env?.length ? { environments: this.flags.env } : {}),
      ...(this.flags['expires-in-days'] ? { expiresInDays: this.flags['expires-in-days'] } : {}),
    };
    const created = this.unwrap(await api.POST('/v1/auth/token', { body }));
    this.log(`Created token "${created.name}" (${created.access}), expires ${formatTime(created.expiresAt)}. Store it now; it is not shown again:`);
    this.log(created.token);
    return created;
  }
}
