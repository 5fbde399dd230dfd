#!/usr/bin/env node
/**
 * `npm test`: builds what the tests run, type-checks, and runs jest (arguments go to jest).
 *
 * Same steps as before, less waiting: the SDK builds first (the type-check and the CLI read its
 * declarations); then the type-check (tsc, ~20 s and one core) and the lint (`npm run lint`: ESLint and Prettier)
 * run beside the server, CLI and dashboard builds (themselves side by side) and jest, which need only
 * what they build. Their output is printed after jest's, and `npm test` fails if any step fails.
 */
import { spawn } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args, { env = process.env, quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (quiet) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const step = async (script) => {
  const { code } = await run(npm, ['run', script]);
  if (code !== 0) process.exit(code);
};

await step('build:sdk');
const typecheck = run(npm, ['run', '-s', 'typecheck'], { quiet: true });
const lint = run(npm, ['run', '-s', 'lint'], { quiet: true });
// The server, the CLI and the dashboard (which test apps serve at /, test/dashboard) build side by side:
// each reads only the SDK's build and writes its own dist.
await Promise.all([step('build'), step('build:cli'), step('build:web')]);
const jest = await run(process.execPath, ['node_modules/jest/bin/jest.js', ...process.argv.slice(2)], {
  env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
});
const checked = await typecheck;
process.stdout.write(`\n> typecheck (tsc -p tsconfig.json): ${checked.code === 0 ? 'no errors' : 'FAILED'}\n${checked.output}`);
const linted = await lint;
process.stdout.write(`\n> lint (eslint, prettier --check): ${linted.code === 0 ? 'no problems' : 'FAILED'}\n${linted.code === 0 ? '' : linted.output}`);
process.exit(jest.code || checked.code || linted.code);
