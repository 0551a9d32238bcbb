// @vitest-environment jsdom
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CursorPage, useCursorPages } from "./useCursorPages";

afterEach(cleanup);

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("useCursorPages", () => {
  it("loads the first page, then each next page below it, until there is no cursor", async () => {
    const pages: Record<string, CursorPage<number>> = { first: { items: [1, 2], next_cursor: "c2" }, c2: { items: [3], next_cursor: null } };
    const fetchPage = vi.fn((cursor?: string) => Promise.resolve(pages[cursor ?? "first"]));
    const onError = vi.fn();
    const { result } = renderHook(() => useCursorPages(fetchPage, onError));
    await waitFor(() => expect(result.current.items).toEqual([1, 2]));
    expect(result.current.hasMore).toBe(true);
    await act(() => result.current.more());
    expect(result.current.items).toEqual([1, 2, 3]);
    expect(result.current.hasMore).toBe(false);
    expect(fetchPage).toHaveBeenLastCalledWith("c2");
    expect(onError).toHaveBeenLastCalledWith(null);
  });

  it("drops a page asked for under the previous filter", async () => {
    const late = deferred<CursorPage<string>>();
    const old = vi.fn((cursor?: string) => (cursor ? late.promise : Promise.resolve({ items: ["old-1"], next_cursor: "o2" })));
    const fresh = vi.fn(() => Promise.resolve({ items: ["new-1"], next_cursor: null }));
    const onError = vi.fn();
    const { result, rerender } = renderHook(({ fetchPage }) => useCursorPages(fetchPage, onError), { initialProps: { fetchPage: old } });
    await waitFor(() => expect(result.current.items).toEqual(["old-1"]));
    let loading: Promise<void> = Promise.resolve();
    act(() => {
      loading = result.current.more(); // "Load more" under the old filter...
    });
    rerender({ fetchPage: fresh }); // ...then the filter changes before its answer
    await waitFor(() => expect(result.current.items).toEqual(["new-1"]));
    late.resolve({ items: ["old-2"], next_cursor: null });
    await act(() => loading);
    expect(result.current.items).toEqual(["new-1"]);
  });

  it("reports an error and keeps what is shown", async () => {
    const fetchPage = vi.fn((cursor?: string) =>
      cursor ? Promise.reject(new Error("The server could not be reached.")) : Promise.resolve({ items: [1], next_cursor: "c" }),
    );
    const onError = vi.fn();
    const { result } = renderHook(() => useCursorPages(fetchPage, onError));
    await waitFor(() => expect(result.current.items).toEqual([1]));
    await act(() => result.current.more());
    expect(onError).toHaveBeenLastCalledWith("The server could not be reached.");
    expect(result.current.items).toEqual([1]);
    expect(result.current.hasMore).toBe(true);
  });
});
