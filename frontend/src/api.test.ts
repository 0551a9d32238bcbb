// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { Api, ApiError, UNREACHABLE } from "./api";
import { unreachableMessage } from "./apiErrors";

type Answer = { status: number; body?: unknown } | { fails: unknown };

/** A fetch that answers from `answers` in order and records the token of each request. */
function mockFetch(...answers: Answer[]) {
  const tokens: string[] = [];
  const fetch = vi.fn(async (_url: string, init: RequestInit) => {
    tokens.push(String((init.headers as Record<string, string>).Authorization).replace("Bearer ", ""));
    const answer = answers.shift();
    if (!answer) throw new Error("no more answers");
    if ("fails" in answer) throw answer.fails;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status });
  });
  vi.stubGlobal("fetch", fetch);
  return { fetch, tokens };
}

const EXPIRED = { status: 401, body: { code: "unauthorized", message: "the token has expired" } };
const ACTIONS = { status: 200, body: [] };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the Api's token", () => {
  it("sends the token it was given, and a new one after setToken, without a new Api", async () => {
    const { tokens } = mockFetch(ACTIONS, ACTIONS);
    const api = new Api("http://api.test/", "first");
    await api.actions();
    api.setToken("second");
    await api.actions();
    expect(tokens).toEqual(["first", "second"]);
    expect(api.token).toBe("second");
  });

  it("asks the token provider after a 401 and retries the request once with the new token", async () => {
    const { tokens } = mockFetch(EXPIRED, ACTIONS);
    const tokenProvider = vi.fn(async () => "fresh");
    const api = new Api("http://api.test", "old", { tokenProvider });
    await expect(api.actions()).resolves.toEqual([]);
    expect(tokenProvider).toHaveBeenCalledTimes(1);
    expect(tokens).toEqual(["old", "fresh"]);
    expect(api.token).toBe("fresh");
  });

  it("asks the provider once for requests refused together", async () => {
    const { tokens } = mockFetch(EXPIRED, EXPIRED, ACTIONS, ACTIONS);
    let resolve: (token: string) => void = () => {};
    const tokenProvider = vi.fn(() => new Promise<string>((r) => (resolve = r)));
    const api = new Api("http://api.test", "old", { tokenProvider });
    const both = Promise.all([api.actions(), api.actions()]);
    await vi.waitFor(() => expect(tokenProvider).toHaveBeenCalled());
    await new Promise((r) => setTimeout(r, 0)); // the second 401 arrives while the first refresh runs
    resolve("fresh");
    await both;
    expect(tokenProvider).toHaveBeenCalledTimes(1);
    expect(tokens).toEqual(["old", "old", "fresh", "fresh"]);
  });

  it("retries only once: a refused new token is a session error, and the listener is told", async () => {
    mockFetch(EXPIRED, EXPIRED);
    const onTokenExpired = vi.fn();
    const api = new Api("http://api.test", "old", { tokenProvider: async () => "also-bad", onTokenExpired });
    const error = await api.actions().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).message).toMatch(/^Your editing session has expired or is not valid \(the token has expired\)\./);
    expect(onTokenExpired).toHaveBeenCalledTimes(1);
  });

  it("without a provider, a 401 tells the listener once per token and says the session expired", async () => {
    mockFetch(EXPIRED, EXPIRED, ACTIONS);
    const onTokenExpired = vi.fn();
    const api = new Api("http://api.test", "old", { onTokenExpired });
    await expect(api.actions()).rejects.toThrow("Your editing session has expired");
    await expect(api.actions()).rejects.toThrow("Your editing session has expired");
    expect(onTokenExpired).toHaveBeenCalledTimes(1);
    api.setToken("new"); // what a host does when told
    await expect(api.actions()).resolves.toEqual([]);
  });

  it("uses a token set while a request was out instead of asking the provider", async () => {
    const { tokens } = mockFetch(EXPIRED, ACTIONS);
    const tokenProvider = vi.fn(async () => "from-provider");
    const api = new Api("http://api.test", "old", { tokenProvider });
    const pending = api.actions();
    api.setToken("set-by-host");
    await pending;
    expect(tokens).toEqual(["old", "set-by-host"]);
    expect(tokenProvider).not.toHaveBeenCalled();
  });

  it("a provider that fails says so and tells the listener", async () => {
    mockFetch(EXPIRED);
    const onTokenExpired = vi.fn();
    const api = new Api("http://api.test", "old", {
      tokenProvider: async () => {
        throw new Error("signed out");
      },
      onTokenExpired,
    });
    await expect(api.actions()).rejects.toThrow("a new one could not be started: signed out. Reload the page");
    expect(onTokenExpired).toHaveBeenCalledTimes(1);
  });
});

describe("the Api's errors", () => {
  it("a network failure names the API and, for another origin, the --cors-origin to allow", async () => {
    mockFetch({ fails: new TypeError("Failed to fetch") });
    const api = new Api("http://api.test:8000", "t");
    const error = (await api.actions().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(UNREACHABLE);
    const page = globalThis.location.origin;
    expect(error.message).toBe(
      `The editor could not reach the API at http://api.test:8000. Check that the server is running. This page is on ` +
        `another origin (${page}), so the server must allow it: workflow-kit serve --cors-origin ${page} ` +
        `(or WORKFLOW_KIT_CORS_ORIGINS=${page}).`,
    );
  });

  it("on the API's own origin the message does not talk about CORS", () => {
    const same = unreachableMessage("", "https://app.example");
    expect(same).toBe("The editor could not reach the API at https://app.example: check that the server is running and that this computer is online.");
    expect(unreachableMessage("https://app.example/editor", "https://app.example")).not.toContain("cors");
  });

  it("other errors keep the API's code, message and problems", async () => {
    mockFetch({ status: 409, body: { code: "conflict", message: "stale", current_version: 4 } });
    const error = (await new Api("", "t").update("w1", { name: "x" }, 3).catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code, error.message, error.currentVersion]).toEqual([409, "conflict", "stale", 4]);
  });

  it("an error that is not the network's passes through", async () => {
    mockFetch({ fails: new DOMException("aborted", "AbortError") });
    await expect(new Api("", "t").actions()).rejects.toThrow("aborted");
  });
});

/** An EventSource that records the URLs it was opened with. */
class FakeEventSource {
  static opened: FakeEventSource[] = [];
  closed = false;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, (message: MessageEvent<string>) => void>();
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }
  addEventListener(name: string, listener: (message: MessageEvent<string>) => void): void {
    this.listeners.set(name, listener);
  }
  emit(name: string, data: string): void {
    this.listeners.get(name)?.({ data } as MessageEvent<string>);
  }
  close(): void {
    this.closed = true;
  }
}

describe("the Api's run stream", () => {
  it("asks for a ticket with the token in a header, and opens the stream with the ticket, never the token", async () => {
    const { fetch, tokens } = mockFetch({ status: 201, body: { ticket: "t1ck3t", expires_at: 1 } });
    FakeEventSource.opened = [];
    vi.stubGlobal("EventSource", FakeEventSource);
    const api = new Api("http://api.test", "secret-token");
    const runs: unknown[] = [];
    const ended = vi.fn();
    api.stream("r/1", (run) => runs.push(run), ended);
    await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(1));
    expect(fetch.mock.calls[0][0]).toBe("http://api.test/api/runs/r%2F1/stream-ticket");
    expect(tokens).toEqual(["secret-token"]);
    const [source] = FakeEventSource.opened;
    expect(source.url).toBe("http://api.test/api/runs/r%2F1/stream?ticket=t1ck3t");
    expect(source.url).not.toContain("secret-token");
    source.emit("run", '{"id": "r/1"}');
    source.emit("end", "completed");
    expect(runs).toEqual([{ id: "r/1" }]);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(source.closed).toBe(true);
  });

  it("opens nothing when stopped before the ticket arrives", async () => {
    const { fetch } = mockFetch({ status: 201, body: { ticket: "late", expires_at: 1 } });
    FakeEventSource.opened = [];
    vi.stubGlobal("EventSource", FakeEventSource);
    const stop = new Api("http://api.test", "tok").stream("r1", () => {});
    stop();
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    await new Promise((r) => setTimeout(r, 0));
    expect(FakeEventSource.opened).toHaveLength(0);
  });
});
