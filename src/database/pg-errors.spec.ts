import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './pg-errors.js';

function databaseError(code: string, message = 'failure'): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['57P01 admin_shutdown', databaseError('57P01')],
    ['57P02 crash_shutdown', databaseError('57P02')],
    ['57P03 cannot_connect_now', databaseError('57P03')],
    ['08006 connection_failure', databaseError('08006')],
    ['08001 unable to connect', databaseError('08001')],
    ['57014 statement timeout', databaseError('57014', 'canceling statement due to statement timeout')],
    ['55P03 lock timeout', databaseError('55P03', 'canceling statement due to lock timeout')],
    ['53300 too_many_connections', databaseError('53300')],
    ['ECONNREFUSED', systemError('ECONNREFUSED')],
    ['ECONNRESET', systemError('ECONNRESET')],
    ['pg-pool acquire time-out', new Error('timeout exceeded when trying to connect')],
    ['a connection that ended', new Error('Connection terminated unexpectedly')],
    ['a connect time-out', new Error('Connection terminated due to connection timeout')],
    ['a client query time-out', new Error('Query read timeout')],
    ['one wrapped by TypeORM', new QueryFailedError('SELECT 1', [], databaseError('57P01'))],
    ['one of an AggregateError (every address refused)', Object.assign(new AggregateError([systemError('ECONNREFUSED')], 'connect failed'), {})],
    ['a cause', new Error('outer', { cause: databaseError('08003') })],
    ['57P04/57P05 (database dropped, idle session time-out)', databaseError('57P05')],
    ['pg: connect time-out', new Error('timeout expired')],
    ['TypeORM: the transaction lost its connection', new Error('Query runner already released. Cannot run queries anymore.')],
  ])('is true for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['23505 unique_violation', databaseError('23505')],
    ['22P02 invalid input', databaseError('22P02')],
    ['P0001 raise_exception', databaseError('P0001')],
    ['40P01 deadlock', databaseError('40P01')],
    ['42P01 undefined table', new QueryFailedError('SELECT 1', [], databaseError('42P01'))],
    ['a TypeError', new TypeError('x is undefined')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
