import { SecrApiError } from '@secr/sdk';

/**
 * The CLI's exit codes (documented in the README, "CLI → Exit codes"). `secr run` exits with its
 * child's code instead once the child has started.
 */
export const ExitCode = {
  Ok: 0,
  /** Unexpected failure, a server error, or a check that failed (`secr template validate`). */
  Failure: 1,
  /** Bad usage: unknown flag, missing argument, no project link, input the API rejected (400). */
  Usage: 2,
  /** Not logged in, or the token was rejected (401). */
  Unauthenticated: 3,
  /** The role or the token's scope does not allow it (403). */
  Forbidden: 4,
  /** The org, project, environment or key does not exist (404). */
  NotFound: 5,
  /** Conflict with the current state (409), e.g. a slug already taken. */
  Conflict: 6,
  /** The API could not be reached or did not answer in time. */
  Unreachable: 7,
  /** Rate limited (429) or a plan limit reached. */
  Limited: 8,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI itself detects, with the same fields as an API error. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

export const usageError = (message: string) => new CliFailure(message, 'usage', ExitCode.Usage);

/**
 * The API could not answer: no connection, no answer in time, or a 5xx (what `secr run --fallback`
 * runs through). A 4xx is an answer: 401, 403 and 404 are not outages.
 */
export function isOutage(error: unknown): error is SecrApiError {
  return error instanceof SecrApiError && (error.statusCode === 0 || error.statusCode >= 500);
}

/** What is printed for any failure: on stderr as a line, or as `{ "error": … }` with `--json`. */
export interface FailureReport {
  message: string;
  code: string;
  exitCode: number;
  /** HTTP status of an API error (0 when the API was not reached). */
  statusCode?: number;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
}

const EXIT_BY_API_CODE: Record<string, ExitCode> = {
  bad_request: ExitCode.Usage,
  validation_failed: ExitCode.Usage,
  payload_too_large: ExitCode.Usage,
  unsupported_media_type: ExitCode.Usage,
  unauthorized: ExitCode.Unauthenticated,
  forbidden: ExitCode.Forbidden,
  not_found: ExitCode.NotFound,
  conflict: ExitCode.Conflict,
  network_error: ExitCode.Unreachable,
  timeout: ExitCode.Unreachable,
  service_unavailable: ExitCode.Unreachable,
  rate_limited: ExitCode.Limited,
  plan_limit_exceeded: ExitCode.Limited,
};

export function exitCodeForApiCode(code: string, statusCode?: number): ExitCode {
  const byCode = EXIT_BY_API_CODE[code];
  if (byCode !== undefined) return byCode;
  if (statusCode === 401) return ExitCode.Unauthenticated;
  if (statusCode === 403) return ExitCode.Forbidden;
  if (statusCode === 404) return ExitCode.NotFound;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) return ExitCode.Usage;
  return ExitCode.Failure;
}

interface OclifLikeError extends Error {
  oclif?: { exit?: number | false };
  code?: string;
}

export function reportFor(error: unknown): FailureReport {
  if (error instanceof SecrApiError) {
    const report: FailureReport = {
      message: error.message,
      code: error.code,
      statusCode: error.statusCode,
      exitCode: exitCodeForApiCode(error.code, error.statusCode),
    };
    if (error.requestId) report.requestId = error.requestId;
    if (error.errors?.length) report.errors = error.errors;
    return report;
  }
  if (error instanceof CliFailure) return { message: error.message, code: error.code, exitCode: error.exitCode };
  const err = error instanceof Error ? (error as OclifLikeError) : new Error(String(error));
  // oclif's parse errors (unknown flag, missing argument) carry exit 2.
  const oclifExit = (err as OclifLikeError).oclif?.exit;
  if (typeof oclifExit === 'number') return { message: err.message, code: oclifExit === 2 ? 'usage' : 'error', exitCode: oclifExit };
  return { message: err.message || String(error), code: 'internal_error', exitCode: ExitCode.Failure };
}

/** The one-line (or few-line) human form of a failure, for stderr. */
export function formatReport(report: FailureReport): string {
  const known = report.code !== 'usage' && report.code !== 'error' && report.code !== 'internal_error';
  const lines = [`Error: ${report.message}${known ? ` (${report.code})` : ''}`];
  for (const fieldError of report.errors ?? []) lines.push(`  ${fieldError.field}: ${fieldError.message}`);
  if (report.exitCode === ExitCode.Unauthenticated) lines.push('  Run `secr login`, or set SECR_TOKEN to a valid token.');
  return lines.join('\n');
}
