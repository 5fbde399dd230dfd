import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCredentials, writeCredentials } from './config.js';

describe('the stored login (credentials.json)', () => {
  const dirs: string[] = [];
  const sandbox = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secr-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const login = { apiUrl: 'http://127.0.0.1:1', token: 'secr_cli_stored', createdAt: '2026-12-03T00:00:00.000Z' };

  it('replaces a credentials.json that is a symlink instead of writing the token through it', async () => {
    const root = sandbox();
    const config = path.join(root, 'secr');
    mkdirSync(config, { mode: 0o700 });
    const elsewhere = path.join(root, 'world-readable.txt');
    writeFileSync(elsewhere, 'untouched\n', { mode: 0o644 });
    symlinkSync(elsewhere, path.join(config, 'credentials.json'));

    const file = await writeCredentials(login, { SECR_CONFIG_DIR: config });
    expect(readFileSync(elsewhere, 'utf8')).toBe('untouched\n');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect((await readCredentials({ SECR_CONFIG_DIR: config }))?.token).toBe('secr_cli_stored');
    expect(readdirSync(config)).toEqual(['credentials.json']); // no temp file left behind
  });

  it('tightens an existing config directory to 0700 and replaces a looser file with a 0600 one', async () => {
    const config = path.join(sandbox(), 'secr');
    mkdirSync(config);
    chmodSync(config, 0o755);
    writeFileSync(path.join(config, 'credentials.json'), '{}', { mode: 0o644 });
    const file = await writeCredentials(login, { SECR_CONFIG_DIR: config });
    expect(statSync(config).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
