import * as Args from '@oclif/core/args';
import { BaseCommand, orgFlags, yesFlag } from '../../base-command.js';

export interface OidcRemoveResult {
  id: string;
  deleted: boolean;
}

export default class OidcRm extends BaseCommand<typeof OidcRm, OidcRemoveResult> {
  static override summary = 'Delete a trust relationship; the tokens it minted stop working (owner/admin)';
  static override examples = ['<%= config.bin %> oidc rm 3f0c2a4e-… --yes'];
  static override args = { id: Args.string({ description: 'Relationship id (see `secr oidc ls`)', required: true }) };
  static override flags = { ...orgFlags, ...yesFlag };

  async run(): Promise<OidcRemoveResult> {
    const org = await this.targetOrg();
    await this.confirmOrAbort(`Delete trust relationship ${this.args.id} of ${org.slug}? Pipelines using it lose access.`, this.flags.yes);
    const api = await this.api();
    this.unwrap(await api.DELETE('/v1/orgs/{orgId}/oidc-trusts/{trustId}', { params: { path: { orgId: org.id, trustId: this.args.id } } }));
    this.log(`Deleted trust relationship ${this.args.id}`);
    return { id: this.args.id, deleted: true };
  }
}
