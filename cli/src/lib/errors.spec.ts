import { describe, expect, it } from '@jest/globals';
import { SecrApiError } from '@secr/sdk';
import { CliFailure, ExitCode, exitCodeForApiCode, formatReport, reportFor } from './errors.js';

describe('exit codes', () => {
  it.each([
    ['validation_failed', 400, ExitCode.Usage],
    ['bad_request', 400, ExitCode.Usage],
    ['unauthorized', 401, ExitCode.Unauthenticated],
    ['forbidden', 403, ExitCode.Forbidden],
    ['not_found', 404, ExitCode.NotFound],
    ['conflict', 409, ExitCode.Conflict],
    ['network_error', 0, ExitCode.Unreachable],
    ['timeout', 0, ExitCode.Unreachable],
    ['service_unavailable', 503, ExitCode.Unreachable],
    ['rate_limited', 429, ExitCode.Limited],
    ['plan_limit_exceeded', 402, ExitCode.Limited],
    ['internal_error', 500, ExitCode.Failure],
    ['some_new_code', 422, ExitCode.Usage],
    ['some_new_code', 500, ExitCode.Failure],
  ])('maps %s (HTTP %i) to exit %i', (code, status, exit) => {
    expect(exitCodeForApiCode(code, status)).toBe(exit);
  });

  it('reports an API error with its message, code, status and field errors', () => {
    const error = new SecrApiError('Validation failed', 400, 'validation_failed', { requestId: 'r1', errors: [{ field: 'key', message: 'bad key' }] });
    const report = reportFor(error);
    expect(report).toEqual({
      message: 'Validation failed',
      code: 'validation_failed',
      statusCode: 400,
      exitCode: 2,
      requestId: 'r1',
      errors: [{ field: 'key', message: 'bad key' }],
    });
    expect(formatReport(report)).toBe('Error: Validation failed (validation_failed)\n  key: bad key');
  });

  it('tells how to log in when credentials are missing or rejected', () => {
    const report = reportFor(new CliFailure('Not logged in', 'not_logged_in', ExitCode.Unauthenticated));
    expect(formatReport(report)).toBe('Error: Not logged in (not_logged_in)\n  Run `secr login`, or set SECR_TOKEN to a valid token.');
  });

  it('keeps the exit code of oclif parse errors, and prints no stack for unexpected errors', () => {
    const parseError = Object.assign(new Error('Nonexistent flag: --nope'), { oclif: { exit: 2 } });
    expect(reportFor(parseError)).toEqual({ message: 'Nonexistent flag: --nope', code: 'usage', exitCode: 2 });
    expect(formatReport(reportFor(new TypeError('x is undefined')))).toBe('Error: x is undefined');
  });
});
