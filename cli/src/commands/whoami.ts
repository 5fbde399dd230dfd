import { BaseCommand, type Me } from '../base-command.js';
import { renderTable } from '../lib/table.js';

export interface WhoamiResult {
  user: Me['user'];
  orgs: Me['orgs'];
  apiUrl: string;
  /** `env` = SECR_TOKEN, `oidc` = exchanged for the CI's OIDC token (SECR_OIDC), `file` = the login stored by `secr login`. */
  tokenSource: 'env' | 'oidc' | 'file';
}

export default class Whoami extends BaseCommand<typeof Whoami, WhoamiResult> {
  static override summary = 'Show who the current token belongs to, and their orgs';
  static override examples = ['<%= config.bin %> whoami', 'SECR_TOKEN=secr_tok_… <%= config.bin %> whoami --json'];

  async run(): Promise<WhoamiResult> {
    const { source } = await this.resolveToken();
    const me = await this.whoAmI();
    const apiUrl = await this.apiUrl();
    this.log(
      `${me.user.email} (${me.user.name}) on ${apiUrl}${source === 'env' ? ', token from SECR_TOKEN' : source === 'oidc' ? ', token from the OIDC exchange of SECR_OIDC' : ''}`,
    );
    if (me.orgs.length > 0) {
      this.log('');
      this.log(
        renderTable(
          ['ORG', 'NAME', 'ROLE'],
          me.orgs.map((o) => [o.slug, o.name, o.role]),
        ),
      );
    }
    return { user: me.user, orgs: me.orgs, apiUrl, tokenSource: source };
  }
}
