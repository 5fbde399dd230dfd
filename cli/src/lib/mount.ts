/**
 * `secr run --mount <path>`: the one way `secr run` puts values on disk, for tools that read settings
 * only from a file. The file is created by secr (never an existing one: it is not overwritten), mode
 * 0600, and deleted when the command ends, also when secr is stopped by SIGINT, SIGTERM or SIGHUP
 * (forwarded to the command, then cleaned up). With `--mount-fifo` it is a named pipe instead: the
 * values never reach the disk, and each open of the pipe reads them once more until the command ends.
 * Only a SIGKILL of secr leaves the file behind.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { FORWARDED_SIGNALS } from './run-child.js';
import { CliFailure, ExitCode, usageError } from './errors.js';
import { formatSecrets, type SecretMap } from './formats.js';

export const MOUNT_FORMATS = ['dotenv', 'json', 'yaml'] as const;
export type MountFormat = (typeof MOUNT_FORMATS)[number];

export interface MountOptions {
  path: string;
  format: MountFormat;
  fifo: boolean;
}

export interface Mount {
  path: string;
  /** Stops serving the pipe and deletes the file; safe to call twice. */
  close(): Promise<void>;
}

export function checkMountFormat(format: string | undefined): MountFormat {
  const value = format ?? 'dotenv';
  if (!(MOUNT_FORMATS as readonly string[]).includes(value)) throw usageError(`--format must be one of ${MOUNT_FORMATS.join(', ')} (got '${value}')`);
  return value as MountFormat;
}

export async function mountSecrets(options: MountOptions, secrets: SecretMap): Promise<Mount> {
  const file = path.resolve(options.path);
  const content = formatSecrets(options.format, secrets);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    rmSync(file, { force: true });
    process.off('exit', remove);
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
  };
  // A signal while the command runs is forwarded to it (run-child.ts) and the file goes when it has
  // ended; one that comes while secr is alone (no other listener) removes the file, then ends secr as
  // the signal would have.
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    remove();
    process.kill(process.pid, signal);
  };

  if (options.fifo) {
    const made = spawnSync('mkfifo', ['-m', '600', file], { encoding: 'utf8' });
    if (made.error || made.status !== 0) throw mountFailure(file, made.error?.message ?? made.stderr.trim());
  } else {
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (error) {
      throw mountFailure(file, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
    }
    try {
      writeSync(fd, content);
    } catch (error) {
      rmSync(file, { force: true });
      throw mountFailure(file, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
    } finally {
      closeSync(fd);
    }
  }
  process.on('exit', remove);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);

  const served = options.fifo ? serveFifo(file, content, () => removed) : Promise.resolve();
  return {
    path: file,
    async close() {
      if (options.fifo && !removed) {
        // Releases a writer waiting for a reader: open our own end without blocking, then let it go.
        let reader: number | undefined;
        removed = true;
        try {
          reader = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
        } catch {
          reader = undefined;
        }
        await served;
        if (reader !== undefined) closeSync(reader);
        removed = false;
      }
      remove();
    },
  };
}

function mountFailure(file: string, reason: string): CliFailure {
  const exists = /EEXIST|exists/.test(reason);
  return new CliFailure(
    exists
      ? `--mount: ${file} already exists; secr creates the file itself and deletes it at the end, so it does not overwrite one`
      : `--mount: cannot create ${file} (${reason})`,
    exists ? 'usage' : 'mount_failed',
    exists ? ExitCode.Usage : ExitCode.Failure,
  );
}

/**
 * Writes the content to each reader that opens the pipe, until `stopped()`. Once one reader has it, a
 * fresh pipe is renamed over the path before the writer closes: the reader then sees end-of-file on
 * its own pipe, and the next reader opens a new one (reopening the same pipe could hand a slow reader
 * that has not yet seen the end a second copy).
 */
async function serveFifo(file: string, content: string, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    let handle;
    try {
      handle = await open(file, 'w'); // waits (in libuv's pool) for a reader
    } catch {
      return;
    }
    try {
      if (!stopped()) await handle.writeFile(content);
    } catch {
      // The reader went away before reading it all (EPIPE).
    }
    if (!stopped()) {
      const next = `${file}.${process.pid}.next`;
      const made = spawnSync('mkfifo', ['-m', '600', next]);
      try {
        if (made.status === 0) renameSync(next, file);
      } catch {
        rmSync(next, { force: true });
      }
    }
    await handle.close().catch(() => undefined);
  }
}
