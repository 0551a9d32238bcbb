import { describe, expect, it, vi } from "vitest";
import { CONNECTION_MESSAGE, connectInPopup, connectionLabel, connectionTypeOf, formFields, usedConnections } from "./connections";
import type { Workflow } from "./types";

describe("connections", () => {
  it("finds an input's connection type in its schema", () => {
    expect(connectionTypeOf({ type: "string", "x-connection-type": "slack" })).toBe("slack");
    expect(connectionTypeOf({ type: "string" })).toBeNull();
  });

  it("reads an API-key form: labels, secret fields, required ones", () => {
    const fields = formFields({
      type: "object",
      properties: { api_key: { type: "string", "x-secret": true }, sender: { type: "string", title: "From address" } },
      required: ["api_key"],
    });
    expect(fields).toEqual([
      { name: "api_key", label: "API key", secret: true, required: true },
      { name: "sender", label: "From address", secret: false, required: false },
    ]);
  });

  it("says a broken connection stopped working", () => {
    expect(connectionLabel({ name: "Ann's CRM", status: "broken" })).toBe("Ann's CRM (stopped working)");
    expect(connectionLabel({ name: "Ann's CRM", status: "ok" })).toBe("Ann's CRM");
  });

  it("finds the connections a workflow uses, in loop bodies too", () => {
    const workflow = {
      actions: [
        { id: "a", kind: "send", inputs: { mailer: "c1", to: "x" } },
        { id: "loop", kind: "builtin:for_each", inputs: {}, body: { actions: [{ id: "b", kind: "crm", inputs: { crm: "c2" } }], edges: [] } },
      ],
    } as unknown as Workflow;
    expect([...usedConnections(workflow, new Set(["c2", "c9"]))]).toEqual(["c2"]);
  });

  it("opens the pop-up at once and settles with its message", async () => {
    const popup = { closed: false, close: vi.fn(), location: { href: "" } };
    const listeners: Array<(event: MessageEvent) => void> = [];
    const win = {
      open: vi.fn(() => popup),
      addEventListener: (_: string, listener: (event: MessageEvent) => void) => listeners.push(listener),
      removeEventListener: vi.fn(),
      setInterval: vi.fn(() => 1),
      clearInterval: vi.fn(),
    } as unknown as Window;
    const result = connectInPopup(() => Promise.resolve("https://provider.test/authorize?state=s"), win);
    expect(win.open).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    expect(popup.location.href).toBe("https://provider.test/authorize?state=s");
    listeners[0]({ source: {}, data: { type: CONNECTION_MESSAGE, status: "ok" } } as unknown as MessageEvent); // another window: ignored
    listeners[0]({ source: popup, data: { type: CONNECTION_MESSAGE, status: "ok", connection: { id: "c1", name: "CRM", type: "crm" } } } as unknown as MessageEvent);
    await expect(result).resolves.toMatchObject({ status: "ok", connection: { id: "c1" } });
  });
});
