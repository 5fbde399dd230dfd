import type { components } from '@secr/sdk';
import { BaseCommand, projectFlags, yesFlag } from '../base-command.js';

export type RotateKeyResult = components['schemas']['RotateKeyResultDto'] & { org: string; project: string };

export default class RotateKey extends BaseCommand<typeof RotateKey, RotateKeyResult> {
  static override summary = 'Rotate the project’s encryption key and re-encrypt every stored value';
  static override description = `Creates a new version of the project key, re-encrypts every value (current and history) under it, and destroys the old key material. Reads keep working meanwhile; an interrupted rotation is finished by running it again. Owner or admin only.`;
  static override examples = ['<%= config.bin %> rotate-key', '<%= config.bin %> rotate-key --project billing-api --yes'];
  static override flags = { ...projectFlags, ...yesFlag };

  async run(): Promise<RotateKeyResult> {
    const { project } = await this.target();
    const org = await this.targetOrg();
    await this.confirmOrAbort(`Rotate the encryption key of ${org.slug}/${project} and re-encrypt all its values?`, this.flags.yes);
    const api = await this.api();
    const result = this.unwrap(await api.POST('/v1/projects/{orgId}/{slug}/rotate-key', { params: { path: { orgId: org.id, slug: project } } }));
    this.log(
      `${result.resumed ? 'Finished an interrupted rotation' : 'Rotated the key'} of ${org.slug}/${project}: now v${result.keyVersion}, ${result.reencrypted} values re-encrypted` +
        (result.destroyedVersions.length ? `, destroyed v${result.destroyedVersions.join(', v')}` : ''),
    );
    return { org: org.slug, project, ...result };
  }
}
