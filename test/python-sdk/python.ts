import { spawn, spawnSync } from 'node:child_process';

/** Debian's packages the Python SDK's tests use (`.ci/run` installs them with apt-get). */
export const DEBIAN_PACKAGES = 'python3-httpx python3-pytest python3-venv python3-pip python3-setuptools python3-wheel python3-build mypy';

/**
 * The first interpreter that has httpx and pytest: `$SECR_PYTHON`, Debian's `/usr/bin/python3`, then
 * `python3` on PATH (which may be a pyenv or a virtualenv without them). Throws a message that says what to install.
 */
export function findPython(): string {
  const candidates = [process.env.SECR_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import httpx, pytest'], { stdio: 'ignore', timeout: 30_000 });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    `No Python 3 with httpx and pytest found (tried ${candidates.join(', ')}). ` +
      `On Debian: apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES} (as .ci/run does), or set SECR_PYTHON.`,
  );
}

export interface RunResult {
  code: number | null;
  output: string;
  stdout: string;
}

/** Runs a command to its end (killed after `timeoutMs`), with stdout and stderr collected. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stdout });
    });
  });
}

/**
 * The environment for a Python child: without the SDK's own variables (tests set them) and without the
 * machine's proxies. Every https:// request goes to a closed loopback port instead: a client that lost
 * its URL and fell back on the default (https://api.secr.dev) fails there, and never leaves the machine.
 */
export function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  for (const name of Object.keys(env)) {
    if (/^(SECR_TOKEN|SECR_API_URL|(https?|all|no)_proxy)$/i.test(name)) delete env[name];
  }
  return { ...env, HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', ...extra };
}
