import { useCallback, useEffect, useRef, useState } from "react";

/** A page of a list the API pages by cursor. */
export interface CursorPage<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface CursorPages<T> {
  /** What is shown: the first page and every page loaded after it (null until the first arrives). */
  items: T[] | null;
  /** Whether the API has more after what is shown ("Load more"). */
  hasMore: boolean;
  /** Load the next page and add it below. */
  more: () => Promise<void>;
  /** Load the first page again (after a change, or when `fetchPage` changes: a new filter). */
  reload: () => Promise<void>;
}

/** A list paged by cursor, the Runs and Events views' "Load more". `fetchPage` (memoized by the caller)
 * answers a page after `cursor`, or the first page without one; when it changes, the first page is
 * loaded again, and an answer to a request made for an earlier `fetchPage` is dropped, so a page of the
 * old filter never lands under the new one. Errors go to `onError` (null once a load succeeds), which
 * should be stable, such as a state setter. */
export function useCursorPages<T>(
  fetchPage: (cursor?: string) => Promise<CursorPage<T>>,
  onError: (message: string | null) => void,
): CursorPages<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    return fetchPage().then(
      (page) => {
        if (mine !== generation.current) return;
        setItems(page.items);
        setCursor(page.next_cursor ?? null);
        onError(null);
      },
      (e: Error) => {
        if (mine === generation.current) onError(e.message);
      },
    );
  }, [fetchPage, onError]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const more = useCallback(async () => {
    if (!cursor) return;
    const mine = generation.current;
    try {
      const page = await fetchPage(cursor);
      if (mine !== generation.current) return;
      setItems((shown) => [...(shown ?? []), ...page.items]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      if (mine === generation.current) onError((e as Error).message);
    }
  }, [cursor, fetchPage, onError]);

  return { items, hasMore: cursor !== null, more, reload };
}
