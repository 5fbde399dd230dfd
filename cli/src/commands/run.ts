import * as Flags from '@oclif/core/flags';
import { BaseCommand, envFlags, rawFlag, rawQuery } from '../base-command.js';
import { usageError } from '../lib/errors.js';
import { splitRunArgv, type FlagShapes } from '../lib/run-argv.js';
import { expandFallbackFlag, runWithSecrets, secretsForRun, watchedEnvironment } from '../lib/run-options.js';
import { parseDuration, parseSignal, runWatching } from '../lib/watch.js';

export interface RunResult {
  org: string;
  project: string;
  env: string;
  command: string[];
  /** Names of the variables injected (never their values). */
  injected: string[];
  exitCode: number;
  signal: string | null;
  /** With --watch: how many times the command was restarted. */
  restarts?: number;
}

export default class Run extends BaseCommand<typeof Run, RunResult> {
  static override summary = 'Run a command with the environment’s secrets in its environment variables';
  static override description = `secr's own flags end at -- or at the first word that is not one of them. Fetches the secrets, then starts the command (no shell) with them added to its environment: nothing is written to disk (unless --fallback or --mount asks for it) and no value appears in any command line. Secrets win over variables already set, unless --preserve-env; reserved variables (PATH, HOME, …) are never set by a secret unless --allow-reserved. secr's own credentials (SECR_TOKEN, SECR_ID_TOKEN, SECR_OIDC) are removed from the command's environment unless --pass-token: with them it could read every secret the token can, not only those injected. SIGINT, SIGTERM and SIGHUP are forwarded to the command, and secr exits with its exit code (128 + n when a signal ended it). With --watch, secr follows the environment's changes and, when the values change, stops the command (--watch-signal, then SIGKILL after --watch-grace) and starts it again with the new values; a burst of changes restarts it once. The command exiting on its own ends secr run --watch with its exit code.`;
  static override examples = [
    '<%= config.bin %> run -- npm start',
    '<%= config.bin %> run node -e "console.log(process.env.API_KEY)"',
    '<%= config.bin %> run --env production -- node server.js --port 8080',
    `<%= config.bin %> run -- sh -c 'echo "$DATABASE_URL" | wc -c'`,
    '<%= config.bin %> run --watch --watch-signal SIGINT -- node server.js',
  ];
  static override strict = false;
  static override usage =
    'run [--env <env>] [--preserve-env] [--pass-token] [--only K,K | --exclude K,K] [--fallback[=<path>]] [--mount <path>] [--watch [--watch-signal SIGTERM] [--watch-grace 10s]] [--] COMMAND [ARGS...]';
  static override flags = {
    ...envFlags,
    'preserve-env': Flags.boolean({ description: 'Variables already set in your environment win over secrets of the same name' }),
    'pass-token': Flags.boolean({
      description:
        'Leave secr’s own credentials (SECR_TOKEN, SECR_ID_TOKEN, SECR_OIDC) in the command’s environment; by default they are removed, so the command reads only the secrets injected',
      helpGroup: 'INJECT',
    }),
    only: Flags.string({ description: 'Inject only these keys (KEY,KEY); a key the environment lacks is an error', helpGroup: 'INJECT' }),
    exclude: Flags.string({ description: 'Inject every key but these (KEY,KEY)', helpGroup: 'INJECT' }),
    'allow-reserved': Flags.boolean({
      description:
        'Let secrets set reserved variables (PATH, HOME, SHELL, PWD, USER, TERM, TMPDIR, LANG, LC_*, LD_*, NODE_OPTIONS, …), which are otherwise left as they are, with a warning',
      helpGroup: 'INJECT',
    }),
    mount: Flags.string({
      description:
        'Also write the secrets to this new file (mode 0600), deleted when the command ends: the one way values touch disk, for tools that read only files',
      helpGroup: 'INJECT',
    }),
    'mount-fifo': Flags.boolean({ description: 'Make the --mount path a named pipe instead of a file: the values never reach the disk', helpGroup: 'INJECT' }),
    format: Flags.string({ description: 'Format of the --mount file', options: ['dotenv', 'json', 'yaml'], helpGroup: 'INJECT' }),
    fallback: Flags.boolean({
      description:
        '--fallback[=<path>]: keep an encrypted copy (under a key derived from your token) of each good pull, and run from it when the API cannot be reached (network error, time-out, 5xx) [default path: <config dir>/fallback/<org>/<project>/<env>.json]',
      helpGroup: 'FALLBACK',
    }),
    'fallback-file': Flags.string({ hidden: true }),
    'fallback-max-age': Flags.string({ description: 'Oldest fallback copy to run from: 30m, 24h, 7d [default: 24h]', helpGroup: 'FALLBACK' }),
    'fallback-only': Flags.boolean({ description: 'Do not call the API: run from the fallback copy (tests, drills)', helpGroup: 'FALLBACK' }),
    watch: Flags.boolean({ description: 'Restart the command with the new values when the environment changes (see --watch-signal, --watch-grace)' }),
    'watch-signal': Flags.string({ description: 'With --watch: the signal that stops the command before a restart', default: 'SIGTERM' }),
    'watch-grace': Flags.string({ description: 'With --watch: how long the command may take to stop before SIGKILL (e.g. 10s)', default: '10s' }),
    raw: rawFlag,
    'watch-debounce': Flags.string({ description: 'With --watch: changes within this quiet period restart once (e.g. 500ms)', default: '500ms' }),
  };

  private childArgv: string[] | undefined;

  /**
   * secr's own flags end at `--` or at the first word that is not a flag (nor a flag's value): the
   * rest is the child's command line, untouched (`secr run node -e "…"` passes `-e` to node).
   */
  protected override argvToParse(): string[] {
    const split = splitRunArgv(this.argv, (this.ctor.flags ?? {}) as FlagShapes, (this.ctor.baseFlags ?? {}) as FlagShapes);
    this.childArgv = split.child;
    return expandFallbackFlag(split.own);
  }

  async run(): Promise<RunResult> {
    const [command, ...args] = this.childArgv ?? this.extraArgv;
    if (!command) throw usageError('No command to run: secr run -- COMMAND [ARGS...]');
    const target = await this.target();
    if (this.flags.watch) return this.runWatching(target, command, args);
    const api = await this.api();
    const pull = async () => {
      const { secrets } = this.unwrap(
        await api.GET('/v1/secrets/{orgSlug}/{project}/{env}', {
          params: { path: { orgSlug: target.org, project: target.project, env: target.env }, query: rawQuery(this.flags.raw) },
        }),
      );
      return Object.fromEntries(secrets.map((s) => [s.key, s.value]));
    };
    const secrets = await secretsForRun(this.flags, target, (await this.resolveToken()).token, pull);
    const { injected, ...outcome } = await runWithSecrets(command, args, secrets, this.flags);
    process.exitCode = outcome.exitCode;
    return { ...target, command: [command, ...args], injected, ...outcome };
  }

  /** `--watch`: lib/watch.ts runs, follows and restarts the command. */
  private async runWatching(target: { org: string; project: string; env: string }, command: string, args: string[]): Promise<RunResult> {
    const options = {
      signal: parseSignal(this.flags['watch-signal']),
      graceMs: parseDuration(this.flags['watch-grace'], '--watch-grace'),
      debounceMs: parseDuration(this.flags['watch-debounce'], '--watch-debounce'),
    };
    const { token } = await this.resolveToken();
    const pull = { apiUrl: await this.apiUrl(), token, ...target, timeoutMs: this.timeoutMs(), userAgent: this.config.userAgent, raw: this.flags.raw };
    const { restarts, injected, ...outcome } = await runWatching({ pull, command, args, environment: watchedEnvironment(this.flags), ...options });
    process.exitCode = outcome.exitCode;
    return { ...target, command: [command, ...args], injected, ...outcome, restarts };
  }
}
