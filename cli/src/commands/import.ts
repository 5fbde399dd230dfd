import { readFile } from 'node:fs/promises';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags } from '../base-command.js';
import { DotenvParseError, parseDotenv } from '../lib/dotenv.js';
import { CliFailure, ExitCode, usageError } from '../lib/errors.js';
import { readStdin } from '../lib/prompt.js';
import { unchangedNote } from './set.js';

export interface ImportResult {
  org: string;
  project: string;
  env: string;
  file: string;
  keys: string[];
  created: number;
  updated: number;
  /** Keys that already had the value: not written. */
  unchanged: number;
  total: number;
  /** The environment's version after the import (for `--if-env-version` next time). */
  environmentVersion?: number;
  dryRun: boolean;
}

export default class Import extends BaseCommand<typeof Import, ImportResult> {
  static override summary = 'Import a .env file into an environment (one atomic bulk write)';
  static override description = `Understands export prefixes, comments, 'single', "double" (with \\n, \\", \\\\ escapes) and multi-line quoted values; a line it cannot read stops the import with its line number. Values are taken literally: $OTHER is not expanded. Use - to read stdin.`;
  static override examples = [
    '<%= config.bin %> import .env',
    '<%= config.bin %> import .env.production --env production',
    'cat .env | <%= config.bin %> import - --dry-run',
    '<%= config.bin %> import .env --if-env-version 42   # refused if any of its keys changed after version 42',
  ];
  static override args = { file: Args.string({ description: 'The .env file, or - for stdin', default: '.env' }) };
  static override flags = {
    ...envFlags,
    'dry-run': Flags.boolean({ description: 'Parse and list the keys; write nothing' }),
    'if-env-version': Flags.integer({
      min: 0,
      description:
        'Refuse (exit code 6, naming the keys) if any key of the file was written or deleted after this environment version (`secr ls --json` shows it)',
    }),
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
      return { ...target, file, keys, created: 0, updated: 0, unchanged: 0, total: keys.length, dryRun: true };
    }
    const api = await this.api();
    const result = this.unwrap(
      await api.POST('/v1/secrets/{orgSlug}/{project}/{env}/bulk', {
        params: { path: { orgSlug: target.org, project: target.project, env: target.env } },
        body: {
          secrets: entries.map(({ key, value }) => ({ key, value })),
          ...(this.flags['if-env-version'] !== undefined ? { ifEnvironmentVersion: this.flags['if-env-version'] } : {}),
        },
      }),
    );
    this.log(
      `Imported ${result.total} secrets from ${file} into ${where}: ${result.created} created, ${result.updated} updated${unchangedNote(result.unchanged)}`,
    );
    return { ...target, file, keys, ...result, dryRun: false };
  }
}
