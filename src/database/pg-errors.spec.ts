import { describe, expect, it } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './pg-errors.js';

/** Which errors the API answers with 503 service_unavailable (the database, not the request, is the problem). */
describe('isDatabaseUnavailable', () => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  const wrapped = (error: Error) => new QueryFailedError('SELECT 1', [], error);

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a connection exception (class 08)', pgError('08006')],
    ['an administrator shutdown / terminated backend (57P01)', wrapped(pgError('57P01', 'terminating connection due to administrator command'))],
    ['a crash shutdown (57P02) and a server starting up (57P03)', pgError('57P03')],
    ['statement_timeout (57014)', wrapped(pgError('57014', 'canceling statement due to statement timeout'))],
    ['lock_timeout (55P03)', wrapped(pgError('55P03'))],
    ["pg's client-side query time-out", wrapped(new Error('Query read timeout'))],
    ["pg-pool's acquire time-out", new Error('timeout exceeded when trying to connect')],
    ['a connection terminated', new Error('Connection terminated unexpectedly')],
    ['a connect time-out wrapping its cause', new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') })],
    ['every address refused', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])],
  ])('is true for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', wrapped(pgError('23505'))],
    ['a syntax error', wrapped(pgError('42601'))],
    ['a plain bug', new TypeError('x is not a function')],
    ['not an error', 'oops'],
    ['null', null],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
