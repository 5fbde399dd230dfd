import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags, rawFlag, rawQuery } from '../base-command.js';
import { EXPORT_FORMATS, formatSecrets, type SecretMap } from '../lib/formats.js';

/** Key → value, the same object `--format json` prints. */
export type ExportResult = SecretMap;

export default class Export extends BaseCommand<typeof Export, ExportResult> {
  static override summary = 'Print an environment’s secrets as dotenv, JSON, shell exports, YAML or a docker env file (to stdout)';
  static override description = `dotenv: KEY='value' (or "…" with escapes when the value holds ' or a line break), read back exactly by \`secr import\`. shell: export KEY='value' lines, safe for eval in sh, bash and zsh. json: one object. yaml: KEY: "value" mappings, every value double-quoted so that it stays a string. docker: KEY=value lines for \`docker run --env-file\` (no quotes: that format takes the rest of the line literally, so a value with a line break is refused, naming its key). Prefer \`secr run\`: it writes nothing anywhere.`;
  static override examples = [
    '<%= config.bin %> export --format dotenv > .env.local',
    'eval "$(<%= config.bin %> export --format shell --env staging)"',
    '<%= config.bin %> export --format json | jq .DATABASE_URL',
    '<%= config.bin %> export --format docker > app.env && docker run --env-file app.env my-image',
  ];
  static override flags = {
    ...envFlags,
    format: Flags.string({ char: 'f', description: 'Output format', options: [...EXPORT_FORMATS], default: 'dotenv' }),
    raw: rawFlag,
  };

  async run(): Promise<ExportResult> {
    const target = await this.target();
    const api = await this.api();
    const { secrets } = this.unwrap(
      await api.GET('/v1/secrets/{orgSlug}/{project}/{env}', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env }, query: rawQuery(this.flags.raw) },
      }),
    );
    const map: SecretMap = Object.fromEntries(secrets.map((s) => [s.key, s.value]));
    if (!this.jsonEnabled()) process.stdout.write(formatSecrets(this.flags.format as (typeof EXPORT_FORMATS)[number], map));
    return map;
  }
}
