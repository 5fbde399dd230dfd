import { useQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../api/client';
import { accountKeys } from '../api/keys';

/** The signed-in user and their orgs; `null` when signed out (401). */
export function useMe() {
  return useQuery({
    queryKey: accountKeys.me,
    queryFn: async () => {
      try {
        return await unwrap(api.GET('/v1/auth/me'));
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 30_000,
  });
}

export function useOrg(slug: string | undefined) {
  const me = useMe();
  return me.data?.orgs.find((o) => o.slug === slug);
}
