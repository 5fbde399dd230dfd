import { useCallback, useEffect, useState } from 'react';

/**
 * Revealed secret values live here only: in the state of the page that shows them — never in the query
 * cache, a URL or web storage (the mutations that fetch them have gcTime 0: TanStack drops them, data
 * and all, once the page that ran them unmounts). They are dropped when the page unmounts (another page, another
 * environment), when the browser leaves or hides the page, and when `clear` is called.
 */
export function useRevealedValues() {
  const [values, setValues] = useState<ReadonlyMap<string, string>>(new Map());
  const clear = useCallback(() => setValues(new Map()), []);
  useEffect(() => {
    const onLeave = () => clear();
    window.addEventListener('pagehide', onLeave);
    return () => {
      window.removeEventListener('pagehide', onLeave);
      clear();
    };
  }, [clear]);
  const add = useCallback((entries: Array<{ key: string; value: string }>) => {
    setValues((old) => {
      const next = new Map(old);
      for (const { key, value } of entries) next.set(key, value);
      return next;
    });
  }, []);
  const hide = useCallback((key: string) => {
    setValues((old) => {
      const next = new Map(old);
      next.delete(key);
      return next;
    });
  }, []);
  return { values, add, hide, clear };
}
