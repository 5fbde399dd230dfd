/**
 * `secr run --watch` (issue 18): runs the command, follows the environment's change stream
 * (`GET /v1/secrets/…/events`, Server-Sent Events), and on a change pulls again and restarts the
 * command with the new environment: the watch signal (SIGTERM), a grace period, SIGKILL, start again.
 * A burst of changes restarts once (debounce); a pull that returns the same values restarts nothing.
 * The stream reconnects with back-off and Last-Event-ID, so a change made while it was down is not
 * missed. Signals to secr are forwarded to the command as without --watch; when the command exits on
 * its own (not restarted by us), secr stops watching and exits with its exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage } from 'node:http';
import { constants } from 'node:os';
import { isRedirect, redirectError } from '@secr/sdk';
import { CliFailure, usageError } from './errors.js';
import { pullSecrets, type PullRequest } from './pull.js';
import { FORWARDED_SIGNALS, type ChildOutcome } from './run-child.js';

export interface WatchOptions {
  pull: PullRequest;
  command: string;
  args: string[];
  /** The command's environment for the pulled secrets, and the names it injects (run-options.ts: --only/--exclude, reserved names, --preserve-env). */
  environment: (secrets: Array<{ key: string; value: string }>) => { env: NodeJS.ProcessEnv; injected: string[] };
  /** Sent to the command to stop it before a restart. */
  signal: NodeJS.Signals;
  /** How long the command may take to stop before SIGKILL. */
  graceMs: number;
  /** Changes within this quiet period restart the command once. */
  debounceMs: number;
  /** Where secr says what it does (stderr). */
  log?: (line: string) => void;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
/** No byte (not even a heartbeat) for this long: the connection is presumed dead and reopened. */
const IDLE_MS = 60_000;

/** `500ms`, `10s`, `2m`, or a number of seconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw usageError(`${flag} must be a duration such as 500ms, 10s or 2m`);
  const n = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1_000);
  if (n > 3_600_000) throw usageError(`${flag} must be at most an hour`);
  return Math.round(n);
}

export function parseSignal(value: string): NodeJS.Signals {
  const name = (value.toUpperCase().startsWith('SIG') ? value.toUpperCase() : `SIG${value.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals) || name === 'SIGKILL' || name === 'SIGSTOP')
    throw usageError(`--watch-signal: not a signal secr can send to stop the command: ${value}`);
  return name;
}

const sameSecrets = (a: Array<{ key: string; value: string }>, b: Array<{ key: string; value: string }>) =>
  a.length === b.length && a.every((s, i) => s.key === b[i].key && s.value === b[i].value);

/** Runs the command under watch; resolves with its outcome when it exits on its own or after a signal to secr. */
export async function runWatching(options: WatchOptions): Promise<ChildOutcome & { restarts: number; injected: string[] }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`secr: ${line}\n`));
  let secrets = await pullSecrets(options.pull);
  let environment = options.environment(secrets);
  let child = start(options.command, options.args, environment.env);
  let restarts = 0;
  /** secr got a signal: the command's next exit is final. */
  let stopping = false;
  let restarting = false;
  /** A change arrived during a restart: one more restart after it. */
  let changedMeanwhile = false;
  /** The command ended for good (or secr failed): nothing more to restart. */
  let finished = false;
  let debounce: NodeJS.Timeout | null = null;
  /** Commands stopped by a restart: their exit is not the end. */
  const replaced = new WeakSet<ChildProcess>();

  return new Promise((resolve, reject) => {
    const forward = (signal: NodeJS.Signals) => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

    const changed = () => {
      if (restarting) {
        changedMeanwhile = true;
        return;
      }
      if (debounce) clearTimeout(debounce);
      debounce = setTimeout(() => {
        debounce = null;
        void restart();
      }, options.debounceMs);
    };
    const stream = followChanges(options.pull, {
      onChange: changed,
      onStop: (reason) => log(`no longer watching for changes: ${reason}; the command keeps running`),
      log,
    });

    const cleanUp = () => {
      finished = true;
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      if (debounce) clearTimeout(debounce);
      stream.stop();
    };
    const finish = (c: ChildProcess) => {
      cleanUp();
      const signal = c.signalCode;
      resolve({ exitCode: c.exitCode ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0), signal, restarts, injected: environment.injected });
    };
    const watchExit = (c: ChildProcess) => {
      c.once('error', (error: NodeJS.ErrnoException) => {
        if (c !== child) return;
        cleanUp();
        if (error.code === 'ENOENT') reject(new CliFailure(`Command not found: ${options.command}`, 'command_not_found', 127));
        else if (error.code === 'EACCES') reject(new CliFailure(`Permission denied: ${options.command}`, 'command_not_executable', 126));
        else reject(error);
      });
      c.once('exit', () => {
        if (c === child && !replaced.has(c)) finish(c);
      });
    };
    watchExit(child);

    const restart = async (): Promise<void> => {
      if (stopping || finished) return;
      restarting = true;
      try {
        let fresh: typeof secrets;
        try {
          fresh = await pullSecrets(options.pull);
        } catch (error) {
          log(`the environment changed, but pulling it failed (${(error as Error).message}); the command keeps running`);
          return;
        }
        if (sameSecrets(fresh, secrets) || stopping || finished) return;
        secrets = fresh;
        log(`the environment changed: restarting ${options.command}`);
        const old = child;
        replaced.add(old);
        await stop(old, options.signal, options.graceMs);
        if (stopping) return finish(old); // secr was signalled meanwhile: that exit is the end
        environment = options.environment(secrets);
        child = start(options.command, options.args, environment.env);
        restarts++;
        watchExit(child);
      } finally {
        restarting = false;
        if (changedMeanwhile && !stopping && !finished) {
          changedMeanwhile = false;
          changed();
        }
      }
    };
  });
}

/** Starts the command (no shell, stdio inherited): values only in its environment block. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(command, args, { stdio: 'inherit', env });
}

/** `signal`, then SIGKILL after `graceMs`; resolves once the command has exited. */
function stop(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

interface StreamHandlers {
  onChange: () => void;
  /** The stream cannot go on (credential revoked, no access): said once, then nothing more. */
  onStop: (reason: string) => void;
  log: (line: string) => void;
}

/** The change stream, reopened with back-off and Last-Event-ID until stopped. */
export function followChanges(pull: PullRequest, handlers: StreamHandlers): { stop: () => void } {
  let lastEventId: string | undefined;
  let stopped = false;
  let delay = RECONNECT_MIN_MS;
  let current: http.ClientRequest | null = null;
  let timer: NodeJS.Timeout | null = null;

  const path = [pull.org, pull.project, pull.env].map(encodeURIComponent).join('/');
  const url = new URL(`${pull.apiUrl.replace(/\/+$/, '')}/v1/secrets/${path}/events`);

  const again = () => {
    if (stopped) return;
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };
  const giveUp = (reason: string) => {
    if (stopped) return;
    stopped = true;
    handlers.onStop(reason);
  };

  const connect = async () => {
    timer = null;
    if (stopped) return;
    const send = url.protocol === 'https:' ? (await import('node:https')).request : http.request;
    const headers: Record<string, string> = { authorization: `Bearer ${pull.token}`, accept: 'text/event-stream', 'user-agent': pull.userAgent };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const req = send(url, { headers });
    current = req;
    req.setTimeout(IDLE_MS, () => req.destroy(new Error('idle')));
    req.once('error', () => {
      if (current === req) again();
    });
    req.once('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403 || status === 404) giveUp(`the server answered ${status}`);
        else if (isRedirect(status)) giveUp(redirectError(status, res.headers.location ?? null, url).message);
        else again();
        return;
      }
      delay = RECONNECT_MIN_MS;
      const reconnecting = lastEventId !== undefined;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let id: string | undefined;
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (id !== undefined) lastEventId = id;
          if (event === 'change' || event === 'resync') handlers.onChange();
          else if (event === 'closed') {
            let reason = 'the server closed the stream';
            try {
              reason = `the server closed the stream (${(JSON.parse(data) as { reason: string }).reason})`;
            } catch {
              // keep the generic reason
            }
            giveUp(reason);
          }
        }
      });
      res.once('close', () => {
        if (current === req) again();
      });
      if (reconnecting) handlers.log('change stream reconnected');
    });
    req.end();
  };

  void connect();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.destroy();
      current = null;
    },
  };
}
