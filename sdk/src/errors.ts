/** Every failure of the SDK: an API error answer, a timeout, or a network failure. */
export class SecrApiError extends Error {
  /** HTTP status; 0 when no answer came (network error, timeout). */
  readonly statusCode: number;
  /** The API's error code (`unauthorized`, `not_found`, `validation_failed`, …), or `timeout` / `network_error`. */
  readonly code: string;
  /** The API's request id, when it answered. */
  readonly requestId?: string;
  /** Per-field problems of a `validation_failed` answer. */
  readonly errors?: Array<{ field: string; message: string }>;

  constructor(message: string, statusCode: number, code: string, details: { requestId?: string; errors?: Array<{ field: string; message: string }> } = {}) {
    super(message);
    this.name = 'SecrApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.requestId = details.requestId;
    this.errors = details.errors;
  }
}
