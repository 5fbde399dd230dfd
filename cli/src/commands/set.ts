import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags } from '../base-command.js';
import { usageError } from '../lib/errors.js';
import { askHidden, isInteractive, readStdin, stripFinalNewline } from '../lib/prompt.js';

export interface SetResult {
  org: string;
  project: string;
  env: string;
  /** Each key written; a single write also tells its new version and whether it was created. */
  secrets: Array<{ key: string; version?: number; created?: boolean; unchanged?: boolean }>;
  created: number;
  updated: number;
  /** Keys that already had this value and description: nothing was written. */
  unchanged: number;
}

export default class SetSecrets extends BaseCommand<typeof SetSecrets, SetResult> {
  static override summary = 'Set one or more secrets';
  static override description = `One KEY=VALUE is a single write; several are one atomic bulk write. With only KEY, the value is read from stdin (piped; one final newline is dropped) or asked for without echo on a terminal, which keeps it out of your shell history.`;
  static override examples = [
    `<%= config.bin %> set 'DATABASE_URL=postgresql://user:pass@host:5432/db' --description 'Primary database'`,
    '<%= config.bin %> set API_KEY=sk-1 REDIS_URL=redis://cache:6379 --env staging',
    'cat cert.pem | <%= config.bin %> set TLS_CERT',
    '<%= config.bin %> set API_KEY=sk-2 --if-version 3   # only if API_KEY is still at version 3',
  ];
  static override strict = false;
  static override usage = 'set KEY=VALUE... [--description <text>]';
  static override flags = {
    ...envFlags,
    description: Flags.string({ char: 'd', description: 'Description stored with the secret(s)' }),
    'if-version': Flags.integer({
      min: 0,
      description: 'Check-and-set (one key): write only if the key is at this version (0: only if it is not set); otherwise fail with exit code 6',
    }),
  };

  async run(): Promise<SetResult> {
    const secrets = await this.readPairs();
    const target = await this.target();
    const api = await this.api();
    const path = { orgSlug: target.org, project: target.project, env: target.env };
    const description = this.flags.description;
    const where = `${target.project}/${target.env}`;
    const expectedVersion = this.flags['if-version'];
    if (expectedVersion !== undefined && secrets.length !== 1) throw usageError('--if-version applies to one key at a time');

    if (secrets.length === 1) {
      const [{ key, value }] = secrets;
      const result = this.unwrap(
        await api.PUT('/v1/secrets/{orgSlug}/{project}/{env}', {
          params: { path },
          body: { key, value, ...(description !== undefined ? { description } : {}), ...(expectedVersion !== undefined ? { expectedVersion } : {}) },
        }),
      );
      const verb = result.unchanged ? 'Unchanged' : result.created ? 'Created' : 'Updated';
      this.log(`${verb} ${key} in ${where} (version ${result.version})`);
      const counts = { created: result.created ? 1 : 0, updated: result.created || result.unchanged ? 0 : 1, unchanged: result.unchanged ? 1 : 0 };
      return { ...target, secrets: [result], ...counts };
    }
    const body = { secrets: secrets.map((s) => ({ ...s, ...(description !== undefined ? { description } : {}) })) };
    const result = this.unwrap(await api.POST('/v1/secrets/{orgSlug}/{project}/{env}/bulk', { params: { path }, body }));
    this.log(`Set ${result.total} secrets in ${where}: ${result.created} created, ${result.updated} updated${unchangedNote(result.unchanged)}`);
    return { ...target, secrets: secrets.map(({ key }) => ({ key })), created: result.created, updated: result.updated, unchanged: result.unchanged };
  }

  private async readPairs(): Promise<Array<{ key: string; value: string }>> {
    const words = this.extraArgv;
    if (words.length === 0) throw usageError('Nothing to set: pass KEY=VALUE (or KEY, with the value on stdin)');
    if (words.length === 1 && !words[0].includes('=')) {
      const key = words[0];
      const value = isInteractive() ? await askHidden(`Value for ${key}: `, key) : stripFinalNewline(await readStdin());
      return [{ key, value }];
    }
    const pairs = new Map<string, string>();
    for (const [i, word] of words.entries()) {
      const eq = word.indexOf('=');
      // The word is not echoed: it may be a value.
      if (eq <= 0) throw usageError(`Argument ${i + 1} is not KEY=VALUE (a bare KEY, read from stdin, must come alone)`);
      pairs.set(word.slice(0, eq), word.slice(eq + 1));
    }
    return [...pairs].map(([key, value]) => ({ key, value }));
  }
}

/** `, 3 unchanged` when some keys already had their value (nothing when none). */
export function unchangedNote(unchanged: number): string {
  return unchanged ? `, ${unchanged} unchanged` : '';
}
