import { describe, expect, it } from '@jest/globals';
import { postgresLogLine } from './postgres-log.js';

describe('postgresLogLine', () => {
  it.each([
    ['2026-12-02 06:00:00.000 UTC [42] ERROR:  invalid input syntax for type uuid: "s3cr3t"', 'ERROR'],
    ['2026-12-02 06:00:00.000 UTC [42] DETAIL:  Failing row contains (s3cr3t, $argon2id$…)', 'DETAIL'],
    ['2026-12-02 06:00:00.000 UTC [42] DETAIL:  Key (email)=(s3cr3t@example.com) already exists.', 'DETAIL'],
    ["2026-12-02 06:00:00.000 UTC [42] STATEMENT:  INSERT INTO users VALUES ('s3cr3t')", 'STATEMENT'],
    ['2026-12-02 06:00:00.000 UTC [42] CONTEXT:  PL/pgSQL function f() line 3 at RAISE s3cr3t', 'CONTEXT'],
  ])('withholds the text of %s', (line, severity) => {
    const logged = postgresLogLine(line);
    expect(logged).toBe(`${severity}: (text withheld: PostgreSQL's reports may quote values)`);
    expect(logged).not.toContain('s3cr3t');
  });

  it('withholds an indented continuation line arriving on its own', () => {
    expect(postgresLogLine('\tsecond line of a RAISE message: s3cr3t')).not.toContain('s3cr3t');
  });

  it('passes start-up and shutdown lines as they are', () => {
    for (const line of ['2026-12-02 06:00:00.000 UTC [42] LOG:  database system is ready to accept connections', 'initdb: creating directory']) {
      expect(postgresLogLine(line)).toBe(line);
    }
  });
});
