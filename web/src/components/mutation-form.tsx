import { Button, Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorAlert } from './error-alert';

interface Submittable {
  mutate: () => void;
  error: unknown;
  isPending: boolean;
}

/** A form whose submit runs one mutation: the mutation's error above the fields, its button busy while it runs. */
export function MutationForm({ mutation, submit, children }: { mutation: Submittable; submit: ReactNode; children: ReactNode }) {
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        mutation.mutate();
      }}
    >
      <Stack>
        <ErrorAlert error={mutation.error} />
        {children}
        <Button type="submit" loading={mutation.isPending}>
          {submit}
        </Button>
      </Stack>
    </form>
  );
}
