#!/usr/bin/env node
/**
 * The step of the GitHub Action (action.yml) that exports secrets: runs `secr export --format json`
 * (which exchanges the job's OIDC token, SECR_OIDC, in memory), masks every value in the job's log
 * (`::add-mask::`, line by line, so a multi-line value is masked too), then writes the chosen keys to
 * $GITHUB_ENV (the following steps' environment) and their names to the `keys` output (a composite
 * action declares its outputs by name, so values cannot be outputs of their own). Values never pass
 * through a shell or a command line. SECR_BIN names the CLI's bin script to run with this Node (tests); else
 * `secr` from PATH.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';

const env = process.env;
const wanted = (env.INPUT_SECRETS ?? '')
  .split(/[\s,]+/)
  .map((k) => k.trim())
  .filter(Boolean);
const flags = [
  ['--org', env.INPUT_ORG],
  ['--project', env.INPUT_PROJECT],
  ['--env', env.INPUT_ENVIRONMENT],
].flatMap(([flag, value]) => (value ? [flag, value] : []));
const [command, ...prefix] = env.SECR_BIN ? [process.execPath, env.SECR_BIN] : ['secr'];
const run = spawnSync(command, [...prefix, 'export', '--format', 'json', ...flags], {
  env,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 64 * 1024 * 1024,
});
if (run.status !== 0) {
  console.error(`::error::secr export failed (exit code ${run.status ?? run.signal})`);
  process.exit(run.status || 1);
}
const secrets = JSON.parse(run.stdout);
const missing = wanted.filter((key) => !(key in secrets));
// Mask everything pulled, not only what is exported: any of it may end up in a log.
const escapeCommand = (text) => text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
for (const value of Object.values(secrets)) {
  for (const line of String(value).split(/\r?\n/)) if (line.trim()) process.stdout.write(`::add-mask::${escapeCommand(line)}\n`);
}
if (missing.length) {
  console.error(`::error::Not in the environment: ${missing.join(', ')}`);
  process.exit(1);
}
const keys = wanted.length ? wanted : Object.keys(secrets);
const block = (key, value) => {
  const delimiter = `secr_${randomUUID()}`;
  return `${key}<<${delimiter}\n${value}\n${delimiter}\n`;
};
if (env.GITHUB_ENV) appendFileSync(env.GITHUB_ENV, keys.map((key) => block(key, secrets[key])).join(''));
if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `keys=${keys.join(',')}\n`);
console.log(`Exported ${keys.length} secret${keys.length === 1 ? '' : 's'}: ${keys.join(', ')}`);
