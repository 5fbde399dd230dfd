#!/usr/bin/env node
/**
 * `node scripts/build-stale.mjs <target>...`: builds each named target only when its inputs changed
 * since its last build here (or its output is missing), in the order given.
 *
 * Why: `npm start` and `npm install` used to rebuild everything every time; a second `npm start` with
 * nothing changed should be up in seconds. A target's fingerprint is the path, size and mtime of every
 * file under its inputs (a checkout, an edit or a deleted file changes it), kept in
 * node_modules/.cache/secr-build/<target>.json once its build succeeded. Another build step (the
 * dashboard, say) joins by adding a row to TARGETS and its name to the npm script that needs it.
 *
 * A target whose inputs are absent (a Docker stage that copies only the server) is skipped; so is
 * one whose build tool is not installed (`npm install --omit=dev`). FORCE_BUILD=1 rebuilds anyway.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'secr-build');

/** name → what it reads, what it writes, how it is built, and what must be installed to build it. */
export const TARGETS = {
  server: {
    inputs: ['src', 'migrations', '.swcrc', 'package-lock.json'],
    output: 'dist/src/main.js',
    command: ['npm', 'run', '-s', 'build'],
    needs: '@swc/cli',
  },
  sdk: {
    inputs: ['sdk/src', 'sdk/package.json', 'sdk/tsconfig.json', 'package-lock.json'],
    output: 'sdk/dist/index.js',
    command: ['npm', 'run', '-s', 'build:sdk'],
    needs: 'typescript',
  },
  cli: {
    inputs: ['cli/src', 'cli/bin', 'cli/package.json', 'cli/tsconfig.json', 'cli/build.mjs', 'sdk/src', 'package-lock.json'],
    output: 'cli/dist/secr.js',
    command: ['npm', 'run', '-s', 'build:cli'],
    needs: 'esbuild',
  },
  web: {
    // The dashboard also reads the server's permissions, the generated API types and the CLI's .env parser.
    inputs: [
      'web/src',
      'web/index.html',
      'web/package.json',
      'web/tsconfig.json',
      'web/vite.config.ts',
      'web/scripts',
      'src/common/auth',
      'sdk/src/generated',
      'cli/src/lib',
      'package-lock.json',
    ],
    output: 'web/dist/index.html',
    command: ['npm', 'run', '-s', 'build:web'],
    needs: 'vite',
  },
};

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

function* files(entry) {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory()) {
    yield `${path.relative(ROOT, entry)}:${stat.size}:${stat.mtimeMs}`;
    return;
  }
  for (const name of readdirSync(entry).sort()) {
    if (!SKIP_DIRS.has(name)) yield* files(path.join(entry, name));
  }
}

function fingerprint(target) {
  const hash = createHash('sha256');
  for (const input of target.inputs) for (const line of files(path.join(ROOT, input))) hash.update(`${line}\n`);
  return hash.digest('hex');
}

function build(name) {
  const target = TARGETS[name];
  if (!target) {
    console.error(`build-stale: no target '${name}' (known: ${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
  if (!existsSync(path.join(ROOT, target.inputs[0]))) return; // not part of this checkout
  if (target.needs && !existsSync(path.join(ROOT, 'node_modules', target.needs))) {
    console.error(`build-stale: ${name} not built (${target.needs} is not installed)`);
    return;
  }
  const stampFile = path.join(CACHE, `${name}.json`);
  const before = fingerprint(target);
  const stamp = existsSync(stampFile) ? JSON.parse(readFileSync(stampFile, 'utf8')) : null;
  if (!process.env.FORCE_BUILD && stamp?.fingerprint === before && existsSync(path.join(ROOT, target.output))) return;

  const [command, ...args] = target.command;
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  mkdirSync(CACHE, { recursive: true });
  // The fingerprint taken before the build: a file edited during the build is rebuilt next time.
  writeFileSync(stampFile, JSON.stringify({ fingerprint: before, builtAt: new Date().toISOString() }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const name of process.argv.slice(2)) build(name);
}
