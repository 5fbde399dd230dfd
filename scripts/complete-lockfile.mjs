#!/usr/bin/env node
/**
 * Records in package-lock.json every platform-specific optional dependency that npm left out.
 *
 * Why: the registry this project is built against serves only some platforms' native packages
 * (@swc/core-darwin-arm64 answers 404, for instance). npm then writes a lockfile without those
 * optional packages, and `npm ci` refuses that same lockfile ("Missing: @swc/core-darwin-arm64@ from
 * lock file"). An entry with the version and the platform constraints is enough for `npm ci`; npm
 * skips it on other platforms and fetches it by version on its own platform.
 *
 * Runs as the root `postinstall`, so every `npm install` leaves a lockfile `npm ci` accepts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
if (!existsSync(LOCK)) process.exit(0);

const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages ?? {};
let added = 0;

for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path}/node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[nested] || packages[hoisted]) continue;
    packages[hoisted] = {
      version: String(version).replace(/^[\^~]/, ''),
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platformOf(name),
    };
    added++;
  }
}

if (added > 0) {
  lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
  process.stdout.write(`complete-lockfile: recorded ${added} optional platform package(s) the registry did not serve\n`);
}

/** os/cpu constraints read off the conventional package name (`…-darwin-arm64`, `…-linux-x64-gnu`). */
function platformOf(name) {
  const os = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openbsd', 'sunos', 'aix'].find((o) => name.includes(`-${o}`));
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'wasm32'].find((c) => new RegExp(`-${c}(-|$)`).test(name));
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}) };
}
