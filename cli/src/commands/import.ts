import { readFile } from 'node:fs/promises';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags } from '../base-command.js';
import { DotenvParseError, parseDotenv } from '../lib/dotenv.js';
import { CliFailure, ExitCode, usageError } from '../lib/errors.js';
import { readStdin } from '../lib/prompt.js';

export interface ImportResult {
  org: string;
  project: string;
  env: string;
  file: string;
  keys: string[];
  created: number;
  updated: number;
  total: number;
  dryRun: boolean;
}

export default class Import extends BaseCommand<typeof Import, ImportResult> {
  static override summary = 'Import a .env file into an environment (one atomic bulk write)';
  static override description = `Understands export prefixes, comments, 'single', "double" (with \\n, \\", \\\\ escapes) and multi-line quoted values; a line it cannot read stops the import with its line number. Values are taken literally: $OTHER is not expanded. Use - to read stdin.`;
  static override examples = [
    '<%= config.bin %> import .env',
    '<%= config.bin %> import .env.production --env production',
    'cat .env | <%= config.bin %> import - --dry-run',
  ];
  static override args = { file: Args.string({ description: 'The .env file, or - for stdin', default: '.env' }) };
  static override flags = {
    ...envFlags,
    'dry-run': Flags.boolean({ description: 'Parse and list the keys; write nothing' }),
  };

  async run(): Promise<ImportResult> {
    const file = this.args.file;
    const text =
      file === '-'
        ? await readStdin()
        : await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
            throw new CliFailure(`Cannot read ${file}: ${error.code ?? error.message}`, 'file_not_readable', ExitCode.Usage);
          });
    let entries;
    try {
      entries = parseDotenv(text);
    } catch (error) {
      if (error instanceof DotenvParseError) throw usageError(`${file}, ${error.message}`);
      throw error;
    }
    if (entries.length === 0) throw usageError(`${file} has no KEY=VALUE lines`);
    const target = await this.target();
    const keys = entries.map((e) => e.key);
    const where = `${target.project}/${target.env}`;

    if (this.flags['dry-run']) {
      this.log(`Would import ${keys.length} secrets into ${where}: ${keys.join(', ')}`);
      return { ...target, file, keys, created: 0, updated: 0, total: keys.length, dryRun: true };
    }
    const api = await this.api();
    const result = this.unwrap(
      await api.POST('/v1/secrets/{orgSlug}/{project}/{env}/bulk', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env } },
        body: { secrets: entries.map(({ key, value }) => ({ key, value })) },
      }),
    );
    this.log(`Imported ${result.total} secrets from ${file} into ${where}: ${result.created} created, ${result.updated} updated`);
    return { ...target, file, keys, ...result, dryRun: false };
  }
}
