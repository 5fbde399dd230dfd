import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TIERS, type components, type Tier } from '@secr/sdk';
import { BaseCommand, projectFlags } from '../../base-command.js';

export type EnvCreateResult = components['schemas']['EnvironmentDto'];

export default class EnvsCreate extends BaseCommand<typeof EnvsCreate, EnvCreateResult> {
  static override summary = 'Create a custom environment';
  static override description =
    'The tier decides who may read its secrets: viewers read development, developers development and staging, admins and owners all.';
  static override examples = [
    '<%= config.bin %> envs create qa --tier staging',
    '<%= config.bin %> envs create preview --name "PR previews" --tier development',
  ];
  static override args = { slug: Args.string({ description: 'Environment slug (a-z, 0-9, -)', required: true }) };
  static override flags = {
    ...projectFlags,
    name: Flags.string({ description: 'Display name (default: the slug)' }),
    tier: Flags.string({ description: 'Access tier', options: [...TIERS], default: 'production' }),
  };

  async run(): Promise<EnvCreateResult> {
    const { project } = await this.target();
    const org = await this.targetOrg();
    const api = await this.api();
    const tier = this.flags.tier as Tier;
    const env = this.unwrap(
      await api.POST('/v1/projects/{orgId}/{slug}/environments', {
        params: { path: { orgId: org.id, slug: project } },
        body: { slug: this.args.slug, tier, ...(this.flags.name ? { name: this.flags.name } : {}) },
      }),
    );
    this.log(`Created environment ${env.slug} (${env.tier} tier) in ${org.slug}/${project}`);
    return env;
  }
}
