import { jest } from '@jest/globals';
import { Config } from '@oclif/core/config';
import path from 'node:path';
import { format } from 'node:util';
import type { CliResult } from './cli.js';

let config: Promise<Config> | undefined;

/** A concrete command class, e.g. the default export of cli/src/commands/ls.ts. */
export interface CommandClass {
  run(argv?: string[], config?: Config): Promise<unknown>;
}

export interface InProcessOptions {
  /** Set for the run and restored after; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Runs a `secr` command class (from cli/src) inside the test process: the same parse, BaseCommand,
 * API client and error mapping as the binary, without a process start per call. stdin is never a
 * terminal here. For what only a real process shows (the built binary, the manifest, stdin, signals,
 * exit codes set by the runtime) the suites spawn `cli/bin/run.cjs` instead.
 */
export async function runCommand(command: CommandClass, argv: string[], options: InProcessOptions = {}): Promise<CliResult> {
  config ??= Config.load(path.resolve('cli'));
  const loaded = await config;
  const stdout: string[] = [];
  const stderr: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0) as never),
    jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0) as never),
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void stdout.push(`${format(...args)}\n`)),
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void stderr.push(`${format(...args)}\n`)),
    jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void stderr.push(`${format(...args)}\n`)),
  ];
  const savedEnv = new Map(Object.keys(options.env ?? {}).map((name) => [name, process.env[name]]));
  const setEnv = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  for (const [name, value] of Object.entries(options.env ?? {})) setEnv(name, value);
  const savedCwd = process.cwd();
  if (options.cwd) process.chdir(options.cwd);
  const savedTty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
  Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });
  const savedExitCode = process.exitCode;
  process.exitCode = undefined;

  let code: number;
  try {
    await command.run(argv, loaded);
    code = Number(process.exitCode ?? 0);
  } catch (error) {
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
    if (typeof exit !== 'number') throw error;
    code = exit;
  } finally {
    process.exitCode = savedExitCode;
    if (savedTty) Object.defineProperty(process.stdin, 'isTTY', savedTty);
    else delete (process.stdin as { isTTY?: boolean }).isTTY;
    process.chdir(savedCwd);
    for (const [name, value] of savedEnv) setEnv(name, value);
    for (const spy of spies) spy.mockRestore();
  }
  const out = stdout.join('');
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    json = undefined;
  }
  return { code, signal: null, stdout: out, stderr: stderr.join(''), json };
}
