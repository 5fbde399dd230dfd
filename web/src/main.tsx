import '@mantine/core/styles.css';
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { ApiError } from './api/client';
import { App } from './app';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
    // A mutation's data and variables stay in the mutation cache for gcTime after its page unmounts
    // (5 minutes by default): revealed values, values being set, passwords, new tokens. Dropped at once.
    mutations: { gcTime: 0 },
  },
});

createRoot(document.getElementById('root')!).render(
  <MantineProvider defaultColorScheme="light">
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </MantineProvider>,
);
