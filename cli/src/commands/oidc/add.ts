import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { usageError } from '../../lib/errors.js';

export type OidcTrustResult = components['schemas']['OidcTrustDto'];

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** `claim=pattern` → a condition; `*` and `?` in the pattern are globs. */
function parseCondition(text: string): { claim: string; pattern: string } {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) throw usageError(`--claim '${text}' must look like claim=pattern, e.g. repository=acme/api`);
  return { claim: text.slice(0, at).trim(), pattern: text.slice(at + 1).trim() };
}

export default class OidcAdd extends BaseCommand<typeof OidcAdd, OidcTrustResult> {
  static override summary = 'Trust a CI provider’s OIDC tokens: matching pipelines get short-lived tokens with no stored secret (owner/admin)';
  static override description =
    'Set SECR_OIDC to the printed id in the pipeline: every secr command then exchanges the job’s OIDC token for a token of this scope. ' +
    'The token carries your role ∩ this scope, lives --ttl seconds at most (and never past the CI token’s own expiry).';
  static override examples = [
    '<%= config.bin %> oidc add github-deploy --project billing-api --env production --claim repository=acme/billing-api --claim "ref=refs/heads/main"',
    '<%= config.bin %> oidc add gitlab --issuer https://gitlab.com --audience https://api.secr.dev --project billing-api --claim "project_path=acme/*" --access read_write',
  ];
  static override args = { name: Args.string({ description: 'A name, unique in the org (slug-like)', required: true }) };
  static override flags = {
    ...orgFlags,
    project: Flags.string({ char: 'p', description: 'The project the tokens reach (slug)', required: true }),
    env: Flags.string({ char: 'e', description: 'Only these environments (repeatable; default: all of the project)', multiple: true }),
    issuer: Flags.string({ description: 'The issuer (`iss`) of the CI’s tokens', default: GITHUB_ISSUER }),
    audience: Flags.string({ description: 'The audience (`aud`) the CI asks for [default: the API URL, which the CLI asks GitHub for]' }),
    claim: Flags.string({ description: 'A condition claim=pattern (`*`, `?` globs); repeatable, all must hold', multiple: true, required: true }),
    access: Flags.string({ description: 'read: pull and list only; read_write: also change', options: ['read', 'read_write'], default: 'read' }),
    ttl: Flags.integer({ description: 'Seconds a minted token lives (60–3600)', min: 60, max: 3600, default: 900 }),
  };

  async run(): Promise<OidcTrustResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const body = {
      name: this.args.name,
      issuer: this.flags.issuer,
      audience: this.flags.audience ?? (await this.apiUrl()).replace(/\/+$/, ''),
      conditions: this.flags.claim.map(parseCondition),
      project: this.flags.project,
      ...(this.flags.env?.length ? { environments: this.flags.env } : {}),
      access: this.flags.access as 'read' | 'read_write',
      ttlSeconds: this.flags.ttl,
    };
    const trust = this.unwrap(await api.POST('/v1/orgs/{orgId}/oidc-trusts', { params: { path: { orgId: org.id } }, body }));
    this.log(`Trusting ${trust.issuer} for ${org.slug}/${trust.projectSlug} (${trust.access}) as "${trust.name}".`);
    this.log(`In the pipeline, set SECR_OIDC=${trust.id}`);
    return trust;
  }
}
