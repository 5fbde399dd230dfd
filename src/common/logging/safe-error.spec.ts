import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { safeError, statementName } from './safe-error.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

function databaseError(message: string, code: string, detail?: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  error.detail = detail;
  return error;
}

describe('safeError', () => {
  it('keeps the class, the statement (verb and table), the SQLSTATE and the frames of a failed query, and nothing of its values', () => {
    const driver = databaseError(`new row violates check constraint: ${HASH}`, '23514', `Failing row contains (${HASH})`);
    const error = new QueryFailedError('INSERT INTO "users"("email", "password_hash") VALUES ($1, $2)', ['a@example.com', HASH], driver);
    const logged = safeError(error);
    expect(logged).toMatchObject({ type: 'QueryFailedError', statement: 'INSERT users', sqlstate: '23514' });
    expect(Object.keys(logged).sort()).toEqual(['sqlstate', 'stack', 'statement', 'type']);
    expect(logged.stack).toMatch(/^at /);
    expect(JSON.stringify(logged)).not.toContain('argon2');
    expect(JSON.stringify(logged)).not.toContain('a@example.com');
  });

  it('names a prepared statement by its name', () => {
    const error = Object.assign(databaseError('canceling statement due to statement timeout', '57014'), { statement: 'token-verify-account' });
    expect(safeError(error)).toMatchObject({ type: 'DatabaseError', statement: 'token-verify-account', sqlstate: '57014' });
  });

  it('keeps a system error code but not the message around it', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432 secret-ish'), { code: 'ECONNREFUSED' });
    const logged = safeError(error);
    expect(logged).toMatchObject({ type: 'Error', code: 'ECONNREFUSED' });
    expect(JSON.stringify(logged)).not.toContain('secret-ish');
  });

  it('drops the frames when the message was changed after the stack was taken (its end in the stack is unknown)', () => {
    const error = new Error('first');
    void error.stack; // V8 formats the stack on first read
    error.message = 'value: s3cr3t\n    at fake (frame.js:1:1)';
    expect(safeError(error)).toEqual({ type: 'Error' });
  });

  it('drops a message that spans lines looking like frames', () => {
    const error = new Error('value:\n    at s3cr3t (x.js:1:1)');
    expect(safeError(error).stack).not.toContain('s3cr3t');
  });

  it('describes the cause the same way', () => {
    const error = new Error('outer s3cr3t', { cause: databaseError('inner s3cr3t', '08006') });
    const logged = safeError(error);
    expect(logged.cause).toMatchObject({ type: 'DatabaseError', sqlstate: '08006' });
    expect(JSON.stringify(logged)).not.toContain('s3cr3t');
  });

  it('turns anything that is not an object into its type only', () => {
    expect(safeError('password=hunter2')).toEqual({ type: 'string' });
    expect(safeError(null)).toEqual({ type: 'null' });
  });
});

describe('statementName', () => {
  it.each([
    ['INSERT INTO "users"("id") VALUES ($1)', 'INSERT users'],
    ['UPDATE "api_tokens" SET "revoked_at" = now() WHERE "id" = $1', 'UPDATE api_tokens'],
    ['SELECT "u"."id" FROM "users" "u" WHERE "u"."email" = $1', 'SELECT users'],
    ['DELETE FROM request_metrics WHERE minute < $1', 'DELETE request_metrics'],
    ['WITH x AS (SELECT 1) INSERT INTO pgboss.job (data) SELECT * FROM x', 'WITH pgboss.job'],
    ['SELECT 1', 'SELECT'],
    ["SELECT 'from secret_value' AS x", 'SELECT'],
    ['SELECT $tag$ from hunter2 $tag$', 'SELECT'],
    ['hunter2 FROM users', 'SQL users'],
  ])('%s → %s', (sql, name) => {
    expect(statementName(sql)).toBe(name);
  });
});
