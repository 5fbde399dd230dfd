import { Alert } from '@mantine/core';
import { ApiError } from '../api/client';

/** Says what the API said; 403, 429 and lock-outs in words a person acts on. */
export function describeError(error: unknown): { title: string; message: string } {
  if (!(error instanceof ApiError)) return { title: 'Something went wrong', message: error instanceof Error ? error.message : String(error) };
  const wait = error.retryAfterSeconds ? ` Try again in ${formatWait(error.retryAfterSeconds)}.` : '';
  if (error.status === 403) return { title: 'Not allowed', message: `${error.message}. Your role does not allow this.` };
  if (error.status === 423 || (error.status === 429 && /locked/i.test(error.message))) return { title: 'Account locked', message: `${error.message}.${wait}` };
  if (error.status === 429) return { title: 'Too many attempts', message: `${error.message}.${wait}` };
  if (error.fieldErrors.length) return { title: 'Check the form', message: error.fieldErrors.map((e) => e.message).join('; ') };
  return { title: error.status >= 500 ? 'Server error' : 'Request refused', message: error.message };
}

function formatWait(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const { title, message } = describeError(error);
  return (
    <Alert color="red" title={title} role="alert" variant="light">
      {message}
    </Alert>
  );
}
