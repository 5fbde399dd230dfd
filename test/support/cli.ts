import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { createOrg, createToken, registerUser, type TestOrg, type TestUser } from '../factories/accounts.js';
import { createProject, type TestProject } from '../factories/vault.js';
import type { HttpClient } from './http.js';
import { NODE_COMPILE_CACHE_DIR } from './node-compile-cache.js';

/** The built `secr` binary (`npm run build:cli`), run on this Node (the pinned 24) like `secr` would be. */
export const CLI_BIN = path.resolve('cli/bin/run.cjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json` runs); undefined when it is not JSON. */
  json: any;
}

export interface CliOptions {
  cwd?: string;
  /** Replaces the sandbox's variables of the same name; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is never a TTY here). */
  input?: string;
  timeoutMs?: number;
}

/**
 * A home for the CLI that touches nothing of the machine's: its own HOME, XDG config dir and
 * SECR_CONFIG_DIR, and an API URL; no SECR_TOKEN inherited from the outside.
 */
export interface CliSandbox {
  home: string;
  configDir: string;
  /** A fresh working directory (where `secr init` writes `.secr.json`). */
  workDir: string;
  env: Record<string, string | undefined>;
  run(args: string[], options?: CliOptions): Promise<CliResult>;
  spawn(args: string[], options?: CliOptions): ChildProcess;
  /** On a pseudo-terminal, for prompts. */
  spawnOnTerminal(args: string[], options?: CliOptions): ChildProcess;
}

const sandboxDirs = new Set<string>();
/** The secr processes this test file started that have not exited yet. */
const running = new Set<ChildProcess>();

/** SIGKILL to the child's process group (a detached child leads one), or to the child alone if it leads none. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('close', () => running.delete(child));
  return child;
}

/**
 * Kills the secr processes still running, with whatever they started (left by a test that failed while
 * it waited for one), then deletes every sandbox this test file created. Call it in afterAll.
 * Each is killed as a process group (they are spawned detached, each its own group): killing only the
 * process left its children orphaned (`secr` under `script`, the command under `secr run`), and such
 * an orphan kept jest's worker from exiting ("A worker process has failed to exit gracefully").
 */
export async function removeCliSandboxes(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      killGroup(child);
      return closed;
    }),
  );
  await Promise.all([...sandboxDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  sandboxDirs.clear();
}

export async function createCliSandbox(apiUrl: string): Promise<CliSandbox> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'secr-cli-home-'));
  const configDir = path.join(home, 'config', 'secr');
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'secr-cli-work-'));
  sandboxDirs.add(home).add(workDir);
  const env: Record<string, string | undefined> = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CACHE_HOME: path.join(home, 'cache'),
    SECR_CONFIG_DIR: configDir,
    SECR_API_URL: apiUrl,
    SECR_TOKEN: undefined,
    NODE_OPTIONS: undefined,
    NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR,
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
  const sandbox: CliSandbox = {
    home,
    configDir,
    workDir,
    env,
    spawn: (args, options = {}) => spawnCli(args, { ...options, cwd: options.cwd ?? workDir, env: { ...env, ...options.env } }),
    spawnOnTerminal: (args, options = {}) => spawnOnTerminal(args, { ...options, cwd: options.cwd ?? workDir, env: { ...env, ...options.env } }),
    run: (args, options = {}) => runCli(args, { ...options, cwd: options.cwd ?? workDir, env: { ...env, ...options.env } }),
  };
  return sandbox;
}

export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = track(spawn(process.execPath, [CLI_BIN, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true }));
  // A command that exits before reading its stdin (`secr run` of a missing command exits 127 at once)
  // closes the pipe first: that EPIPE is not the test's failure (its exit code and output are checked).
  child.stdin!.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  child.stdin!.end(options.input ?? '');
  return child;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  return collect(child, options.timeoutMs ?? 20_000);
}

export function collect(child: ChildProcess, timeoutMs = 20_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`secr did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** Resolves once `text` has appeared on the child's stdout. */
export function waitForOutput(child: ChildProcess, text: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer | string) => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      child.stdout!.off('data', onData);
      reject(new Error(`no '${text}' on stdout within ${timeoutMs} ms (got: ${seen})`));
    }, timeoutMs);
    child.stdout!.on('data', onData);
  });
}

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs secr on a pseudo-terminal (util-linux `script`), for prompts: stdin and stdout are a TTY.
 * Write answers with `answer()` once their prompt has appeared on stdout.
 */
export function spawnOnTerminal(args: string[], options: CliOptions = {}): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR, TERM: 'dumb' };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const command = [process.execPath, CLI_BIN, ...args].map(shellQuote).join(' ');
  return track(spawn('script', ['-qec', command, '/dev/null'], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true }));
}

/** Waits for `prompt` on the terminal, then types `text` and Enter. */
export async function answer(child: ChildProcess, prompt: string, text: string): Promise<void> {
  await waitForOutput(child, prompt);
  child.stdin!.write(`${text}\r`);
}

export interface LinkedCli {
  owner: TestUser;
  org: TestOrg;
  project: TestProject;
  /** A read-write token of the owner (not put in the sandbox's environment). */
  token: string;
  /** A sandbox whose work dir is linked (`.secr.json`) to the project's development environment. */
  cli: CliSandbox;
}

/** A user with an org, a project and a read-write token, and a CLI sandbox linked to the project. */
export async function createLinkedCli(api: HttpClient, userName: string, orgName: string): Promise<LinkedCli> {
  const owner = await registerUser(api, userName);
  const org = await createOrg(api, owner, orgName);
  const project = await createProject(api, owner, org);
  const token = (await createToken(api, owner, { access: 'read_write' })).token;
  const cli = await createCliSandbox(api.baseUrl);
  writeFileSync(path.join(cli.workDir, '.secr.json'), JSON.stringify({ org: org.slug, project: project.slug, environment: 'development' }));
  return { owner, org, project, token, cli };
}
