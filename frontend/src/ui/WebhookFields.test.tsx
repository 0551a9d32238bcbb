// @vitest-environment jsdom
import { act, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "../api";
import { switchKind, triggerKind, triggerLabel } from "../cron";
import { newTrigger, triggerPhrase } from "../triggers";
import type { Hook, HookSettings, Trigger } from "../types";
import { requestWords, WebhookFields } from "./WebhookFields";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLDivElement;
let root: Root;
let calls: string[];
let triggers: Trigger[];

const HOOK: Hook = {
  id: "h".repeat(32),
  url: `http://127.0.0.1:8000/hooks/${"h".repeat(32)}`,
  workflow_id: "w1",
  verification: { style: "none", algorithm: "sha256", encoding: "hex", prefix: "", tolerance: 300, header: null },
  has_secret: true,
  transform: null,
  rate_limit: 60,
  event: null,
  created_at: 0,
  updated_at: 0,
};

function fakeApi(): Api {
  let hook = HOOK;
  return {
    createHook: async (workflowId: string) => {
      calls.push(`create ${workflowId}`);
      return { hook, secret: "s3cret-shown-once" };
    },
    hook: async () => hook,
    hookRequests: async () => [{ id: "r1", received_at: 0, outcome: "refused", status: 401, why: "no GitHub signature (X-Hub-Signature-256 header): the request is not signed", event_id: null }],
    configureHook: async (_id: string, settings: HookSettings) => {
      calls.push(`configure ${settings.verification?.style ?? "none"}`);
      hook = { ...hook, verification: settings.verification ?? hook.verification };
      return hook;
    },
    testHook: async () => {
      calls.push("test");
      return { status: 202, event_id: "e1", why: "" };
    },
  } as unknown as Api;
}

function Harness({ initial }: { initial: Trigger }) {
  const [trigger, setTrigger] = useState(initial);
  const [api] = useState(fakeApi);
  return (
    <WebhookFields
      api={api}
      workflowId="w1"
      trigger={trigger}
      idBase="t"
      onChange={(next) => {
        triggers.push(next);
        setTrigger(next);
      }}
    />
  );
}

async function settle() {
  for (let i = 0; i < 5; i++) await act(async () => await Promise.resolve());
}

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  calls = [];
  triggers = [];
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

function control(id: string): HTMLInputElement | HTMLSelectElement {
  const found = host.ownerDocument.getElementById(id);
  if (!found) throw new Error(`no control ${id}`);
  return found as HTMLInputElement;
}

describe("a webhook trigger's card", () => {
  it("makes the webhook at once, shows its URL, and its secret once a check needs one", async () => {
    act(() => root.render(<Harness initial={{ type: "webhook", event: "webhook/received" }} />));
    await settle();
    expect(calls).toEqual(["create w1"]);
    expect(triggers.at(-1)).toEqual({ type: "webhook", event: "webhook/received", hook: HOOK.id });
    expect((control("t-url") as HTMLInputElement).value).toBe(HOOK.url);
    expect(host.textContent).toContain("Save the workflow: the URL takes requests once this trigger is saved.");
    expect(host.querySelector("#t-secret")).toBeNull(); // no check: no secret to show
    const style = control("t-style") as HTMLSelectElement;
    expect([...style.options].map((o) => o.text)).toEqual(["No check", "GitHub signature", "Stripe signature", "Shared secret in a header", "Another service's signature (HMAC)"]);
    await act(async () => {
      style.value = "github";
      style.dispatchEvent(new Event("change", { bubbles: true }));
    });
    await settle();
    expect(calls).toContain("configure github");
    expect((control("t-secret") as HTMLInputElement).value).toBe("s3cret-shown-once");
    expect(host.textContent).toContain("it is not shown again");
  });

  it("lists the last requests in words and sends a test request", async () => {
    act(() => root.render(<Harness initial={{ type: "webhook", event: "github/push", hook: HOOK.id }} />));
    await settle();
    expect(calls).toEqual([]); // it has its webhook: none made
    expect(host.querySelector('[aria-label="Last requests"]')?.textContent).toContain("Refused: no GitHub signature (X-Hub-Signature-256 header)");
    const send = [...host.querySelectorAll("button")].find((b) => b.textContent === "Send a test request");
    await act(async () => send?.click());
    await settle();
    expect(calls).toEqual(["test"]);
    expect(host.querySelector('[role="status"]')?.textContent).toContain("Accepted");
  });
});

describe("webhook triggers in words", () => {
  it("is a kind of its own, said as a request that comes", () => {
    const hook: Trigger = { type: "webhook", event: "github/push", hook: "abc" };
    expect(triggerKind(hook)).toBe("webhook");
    expect(triggerLabel(hook)).toBe("a webhook request (github/push)");
    expect(triggerPhrase(hook)).toBe("when a webhook request (github/push) comes");
    expect(newTrigger("webhook")).toEqual({ type: "webhook", event: "webhook/received" });
    expect(switchKind({ event: "app/*" }, "webhook")).toEqual({ type: "webhook", event: "webhook/received" });
    expect(switchKind({ event: "app/x" }, "webhook", hook)).toEqual({ type: "webhook", event: "github/push", hook: "abc" });
    expect(switchKind(hook, "event", { event: "app/x" })).toEqual({ event: "app/x" });
    expect(requestWords({ outcome: "accepted", why: "", status: 202 })).toBe("Accepted");
    expect(requestWords({ outcome: "refused", why: "", status: 413 })).toBe("Refused: status 413");
  });
});
