import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { COMMANDS } from './commands.js';
import { splitRunArgv } from './lib/run-argv.js';

const commandIds = (dir: string, prefix: string[] = []): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return commandIds(path.join(dir, entry.name), [...prefix, entry.name]);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) return [];
    const name = entry.name.slice(0, -3);
    return [[...prefix, ...(name === 'index' ? [] : [name])].join(':')];
  });

describe('the CLI bundle', () => {
  it('lists every command file in COMMANDS (explicit discovery finds no other)', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(commandIds(path.resolve('cli/src/commands')).sort());
  });
});

describe('splitRunArgv', () => {
  const flags = { env: { type: 'option', char: 'e' }, 'preserve-env': { type: 'boolean' } };

  it('ends secr’s flags at the first word that is not a flag or a flag’s value', () => {
    expect(splitRunArgv(['-e', 'prod', 'node', '-e', 'x'], flags)).toEqual({ own: ['-e', 'prod'], child: ['node', '-e', 'x'] });
    expect(splitRunArgv(['--env=prod', '--preserve-env', 'npm', 'start'], flags)).toEqual({ own: ['--env=prod', '--preserve-env'], child: ['npm', 'start'] });
  });

  it('ends them at --, and finds no command in flags alone', () => {
    expect(splitRunArgv(['--env', 'dev', '--', '--odd-command'], flags)).toEqual({ own: ['--env', 'dev'], child: ['--odd-command'] });
    expect(splitRunArgv(['--env', 'dev'], flags)).toEqual({ own: ['--env', 'dev'], child: undefined });
  });
});
