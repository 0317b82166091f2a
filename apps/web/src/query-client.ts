import { QueryClient } from '@tanstack/react-query';

/** Live data arrives by subscription, so queries need no refetch on focus; errors show where they happen. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { refetchOnWindowFocus: false, retry: false, staleTime: 30_000 },
      mutations: { retry: false },
    },
  });
}
