import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface ChildOutcome {
  /** What `secr run` exits with: the child's code, or 128 + the signal number. */
  exitCode: number;
  /** The signal that ended the child, if one did. */
  signal: NodeJS.Signals | null;
}

/**
 * Runs `command` with `env` (no shell, stdio inherited), forwarding SIGINT, SIGTERM and SIGHUP to it
 * while it runs. Values travel only in the environment block: never in argv, never on disk.
 */
export function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const cleanUp = () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanUp();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      cleanUp();
      resolve({ exitCode: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0), signal });
    });
  });
}
