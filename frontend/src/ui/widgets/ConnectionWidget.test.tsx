// @vitest-environment jsdom
import { act, useEffect, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Api } from "../../api";
import { SOURCE, type ActionDef, type ConnectionRecord, type JsonObject, type Workflow } from "../../types";
import { updateAction } from "../../workflowOps";
import { ActionPanel } from "../ActionPanel";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const send: ActionDef = {
  kind: "send",
  name: "Send an email",
  description: "",
  icon: null,
  inputs: {
    type: "object",
    properties: { mailer: { type: "string", minLength: 1, "x-connection-type": "mailer" }, to: { type: "string" } },
    required: ["mailer", "to"],
  },
  outputs: {},
  edges: { allow_add: true, edges: [] },
};

const record = (id: string, name: string, status = "ok"): ConnectionRecord => ({
  id, name, status, type: "mailer", expires_at: null, created_at: 0, updated_at: 0,
});  // prettier-ignore

let host: HTMLDivElement;
let root: Root;
let connections: ConnectionRecord[];
const created: Array<{ name: string; fields: JsonObject }> = [];
const probe: { workflow: Workflow | null } = { workflow: null };

const api = {
  connections: vi.fn(async () => connections),
  connectionTypes: vi.fn(async () => [
    {
      type: "mailer",
      name: "Mailer",
      kind: "api_key",
      description: "",
      schema: { type: "object", properties: { api_key: { type: "string", "x-secret": true } }, required: ["api_key"] },
    },
  ]),
  createConnection: vi.fn(async (_type: string, name: string, fields: JsonObject) => {
    created.push({ name, fields });
    const made = record("c-new", name);
    connections = [...connections, made];
    return made;
  }),
  reconnect: vi.fn(async () => "https://provider.test/authorize"),
} as unknown as Api;

function Harness() {
  const [workflow, setWorkflow] = useState<Workflow>({ actions: [{ id: "mail", kind: "send", inputs: { mailer: "c-broken" } }], edges: [{ from: SOURCE, to: "mail" }] });
  useEffect(() => {
    probe.workflow = workflow;
  });
  const action = workflow.actions[0];
  return (
    <ActionPanel
      api={api}
      workflow={workflow}
      catalog={new Map([["send", send]])}
      action={action}
      definition={send}
      problems={[]}
      groups={[]}
      onChange={(change) => setWorkflow(updateAction(workflow, action.id, change))}
      onConnectFrom={() => undefined}
      onDisconnect={() => undefined}
      onDelete={() => undefined}
      onAddAfter={() => undefined}
    />
  );
}

const buttons = () => [...host.querySelectorAll("button")];
const button = (text: string) => buttons().find((b) => b.textContent?.trim() === text)!;
const settle = () => act(async () => await new Promise((resolve) => setTimeout(resolve, 0)));

beforeEach(async () => {
  connections = [record("c-1", "Newsletter"), record("c-broken", "Old mailer", "broken")];
  created.length = 0;
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  act(() => root.render(<Harness />));
  await settle();
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe("a connection input", () => {
  it("is a picker of the tenant's accounts of its type, with no data from earlier steps", () => {
    const select = host.querySelector<HTMLSelectElement>("select")!;
    expect([...select.options].map((o) => o.textContent)).toEqual(["Choose a Mailer account…", "Newsletter", "Old mailer (stopped working)"]);
    const field = host.querySelector('[data-field="mailer"]')!;
    expect(field.querySelector('[role="radiogroup"]')).toBeNull(); // no "Fixed / Data" choice
    act(() => {
      select.value = "c-1";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    expect((probe.workflow!.actions[0].inputs as JsonObject).mailer).toBe("c-1");
  });

  it("says when the chosen account stopped working, and offers to reconnect it", () => {
    expect(host.textContent).toContain("Old mailer stopped working");
    expect(button("Reconnect")).toBeTruthy();
  });

  it("connects a new API-key account in a dialog, its key in a password box, and chooses it", async () => {
    act(() => button("Connect a new account").click());
    const dialog = host.querySelector('[role="dialog"]')!;
    expect(dialog.getAttribute("aria-label")).toBe("Connect a Mailer account");
    const key = dialog.querySelector<HTMLInputElement>('input[type="password"]')!;
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set?.call(key, "mk-123456");
      key.dispatchEvent(new Event("input", { bubbles: true }));
    });
    act(() => button("Connect").click());
    await settle();
    expect(created).toEqual([{ name: "Mailer account", fields: { api_key: "mk-123456" } }]);
    expect((probe.workflow!.actions[0].inputs as JsonObject).mailer).toBe("c-new");
    expect(host.querySelector('[role="dialog"]')).toBeNull();
  });
});
