import { describe, expect, it } from '@jest/globals';
import { decryptFallback, encryptFallback, formatAge, parseDuration } from './fallback.js';

const target = { org: 'acme', project: 'api', env: 'production' };
const token = 'secr_tok_0123456789abcdefghijklmnopqrstuvwxyzABCDEF';

describe('fallback copy', () => {
  it('opens only with the token and the target that wrote it, and holds no value in its text', async () => {
    const savedAt = new Date('2026-12-01T10:00:00.000Z');
    const text = await encryptFallback({ DATABASE_URL: 'postgres://u:hunter2@db/app' }, token, target, savedAt);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('DATABASE_URL');
    expect(await decryptFallback(text, token, target)).toEqual({ savedAt: savedAt.toISOString(), secrets: { DATABASE_URL: 'postgres://u:hunter2@db/app' } });
    expect(await decryptFallback(text, `${token}x`, target)).toBeNull();
    expect(await decryptFallback(text, token, { ...target, env: 'staging' })).toBeNull();
    expect(await decryptFallback('not json', token, target)).toBeNull();
  });

  it('uses a fresh salt and IV on every write', async () => {
    const a = JSON.parse(await encryptFallback({}, token, target, new Date()));
    const b = JSON.parse(await encryptFallback({}, token, target, new Date()));
    expect(a.salt).not.toBe(b.salt);
    expect(a.iv).not.toBe(b.iv);
  });

  it('reads durations with a unit and prints ages in two units', () => {
    expect(parseDuration('24h', '--x')).toBe(86_400_000);
    expect(parseDuration('1.5m', '--x')).toBe(90_000);
    for (const bad of ['24', '0h', '-1h', 'h', '1w']) expect(() => parseDuration(bad, '--x')).toThrow('--x must be a duration');
    expect(formatAge(35_000)).toBe('35s');
    expect(formatAge(3_725_000)).toBe('1h 2m');
    expect(formatAge(2 * 86_400_000 + 5_000)).toBe('2d 0h');
  });
});
