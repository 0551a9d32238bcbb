// @vitest-environment jsdom
import { act, useEffect, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOURCE, type ActionDef, type JsonObject, type Workflow } from "../types";
import { connect, updateAction } from "../workflowOps";
import type { DataGroup } from "../dataFields";
import { ActionPanel, formContextFor } from "./ActionPanel";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const email: ActionDef = {
  kind: "send_email",
  name: "Send email",
  description: "",
  icon: null,
  inputs: {
    type: "object",
    properties: {
      to: { type: "string" },
      subject: { type: "string", default: "Hello" },
      body: { type: "string", default: "" },
      tags: { type: "array", items: { type: "string" }, default: [] },
      address: { anyOf: [{ $ref: "#/$defs/Address" }, { type: "null" }], default: null },
      profile: { $ref: "#/$defs/Profile" },
    },
    required: ["to"],
    $defs: {
      Address: { title: "Address", type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      Profile: { title: "Profile", type: "object", properties: { bio: { type: "string", format: "textarea" } } },
    },
  },
  outputs: {},
  edges: { allow_add: true, edges: [] },
};

const groups: DataGroup[] = [
  {
    title: "Trigger event",
    fields: [
      { path: "$.event.data.email", cel: "event.data.email", label: "Email", type: "string" },
      { path: "$.event.data.n", cel: "event.data.n", label: "N", type: "number" },
    ],
  },
];

let host: HTMLDivElement;
let root: Root;
/** What the harness shows the tests: the newest workflow, and a way to change it from outside the panel. */
const probe: { workflow: Workflow | null; connectElsewhere: () => void } = { workflow: null, connectElsewhere: () => undefined };

/** The panel as the editor uses it: each change applied to the workflow of the render it came from. */
function Harness() {
  const [workflow, setWorkflow] = useState<Workflow>({
    actions: [{ id: "mail", kind: "send_email", inputs: { subject: "Hello", body: "" } }, { id: "other", kind: "send_email", inputs: {} }],
    edges: [{ from: SOURCE, to: "mail" }],
  });
  useEffect(() => {
    probe.workflow = workflow;
    probe.connectElsewhere = () => setWorkflow(connect(workflow, SOURCE, "other"));
  });
  const action = workflow.actions[0];
  return (
    <ActionPanel
      workflow={workflow}
      catalog={new Map([["send_email", email]])}
      action={action}
      definition={email}
      problems={[]}
      groups={groups}
      onChange={(change) => setWorkflow(updateAction(workflow, action.id, change))}
      onConnectFrom={() => undefined}
      onDisconnect={() => undefined}
      onDelete={() => undefined}
      onAddAfter={() => undefined}
    />
  );
}

function byLabel(name: string): HTMLElement {
  const label = [...host.querySelectorAll("label")].find((l) => l.textContent?.replace(" *", "") === name);
  const control = label && document.getElementById(label.htmlFor);
  if (!control) throw new Error(`no control labelled ${name}`);
  return control;
}

/** A button's accessible name, near enough: its aria-label, or its text without aria-hidden parts. */
function nameOf(b: HTMLButtonElement): string {
  const label = b.getAttribute("aria-label");
  if (label) return label;
  const copy = b.cloneNode(true) as HTMLElement;
  copy.querySelectorAll("[aria-hidden=true]").forEach((e) => e.remove());
  return copy.textContent?.trim() ?? "";
}

function button(name: string): HTMLButtonElement {
  const found = [...host.querySelectorAll("button")].find((b) => nameOf(b) === name);
  if (!found) throw new Error(`no button ${name}`);
  return found;
}

function type(input: HTMLElement, text: string) {
  const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  act(() => {
    Object.getOwnPropertyDescriptor(proto, "value")?.set?.call(input, text);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

function pickRef(field: string, ref: string) {
  const row = [...host.querySelectorAll<HTMLElement>("[data-field]")].find((f) => f.querySelector("label")?.textContent?.replace(" *", "") === field);
  act(() => row!.querySelector<HTMLButtonElement>('[role="radio"][aria-checked="false"]')!.click());
  act(() => host.querySelector<HTMLButtonElement>(`[data-path="${ref}"]`)!.click());
}

const inputs = () => probe.workflow!.actions[0].inputs as JsonObject;

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  act(() => root.render(<Harness />));
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe("the action panel's ref picker", () => {
  it("keeps the values typed before a ref is picked", () => {
    type(byLabel("Body"), "hello there");
    type(byLabel("Subject"), "Hi!");
    pickRef("To", "$.event.data.email");
    expect(inputs()).toMatchObject({ to: "!ref($.event.data.email)", subject: "Hi!", body: "hello there" });
  });

  it("keeps the first ref when a second one is picked, and removes only the chip's", () => {
    pickRef("To", "$.event.data.email");
    pickRef("Body", "$.event.data.n");
    expect(inputs()).toMatchObject({ to: "!ref($.event.data.email)", body: "!ref($.event.data.n)" });
    expect(host.textContent).toContain("Trigger event > Email");
    act(() => button("Stop using Trigger event > Email in To").click());
    expect(inputs().to).toBeUndefined();
    expect(inputs().body).toBe("!ref($.event.data.n)");
  });

  it("keeps the rest of the workflow changed since the panel opened (a connection drawn on the canvas)", () => {
    act(() => probe.connectElsewhere());
    pickRef("To", "$.event.data.email");
    expect(probe.workflow!.edges).toContainEqual({ from: SOURCE, to: "other" });
    expect(inputs().to).toBe("!ref($.event.data.email)");
  });

  it("carries the data its functions use, so the form library takes a new context when they change", () => {
    const seen: unknown[] = [];
    const make = (inputs: JsonObject) =>
      formContextFor({ groups, api: null, inputs, workflow: { actions: [], edges: [] }, catalog: new Map(), onChange: (c) => seen.push(c) });
    const first = make({ a: 1 });
    const second = make({ a: 2, b: 3 });
    expect(first).not.toEqual(second); // deep-unequal: the library replaces its registry
    second.set(["c"], "x");
    expect(seen).toEqual([{ inputs: { a: 2, b: 3, c: "x" } }]);
    expect(second.label("$.event.data.email")).toBe("Trigger event > Email");
  });
});

describe("the action form's controls", () => {
  it("names the optional object's select by its field, with named choices", () => {
    const select = byLabel("Address") as HTMLSelectElement;
    expect(select.tagName).toBe("SELECT");
    expect([...select.options].map((o) => o.textContent)).toEqual(["Address", "None"]);
  });

  it("gives a long-text string (format textarea) a text area, in a nested object too", () => {
    expect(byLabel("Bio").tagName).toBe("TEXTAREA");
    expect(byLabel("Body").tagName).toBe("INPUT");
  });

  it("gives the array's buttons visible text and names", () => {
    const add = button("Add item");
    expect(add.textContent).toContain("Add item");
    const items = () => [...host.querySelectorAll<HTMLInputElement>("[data-field='tags'] input, fieldset[id$='_tags'] input")];
    act(() => add.click());
    expect(inputs().tags).toEqual([null]); // kept while empty: the new item's box stays
    type(items()[0], "vip");
    act(() => button("Add item").click());
    type(items()[1], "new");
    expect(inputs().tags).toEqual(["vip", "new"]);
    const remove = button("Remove item 2");
    expect(remove.textContent).toBe("Remove");
    expect(button("Move item 1 down").textContent).toBe("↓");
    act(() => button("Move item 1 down").click());
    expect(inputs().tags).toEqual(["new", "vip"]);
    act(() => button("Remove item 2").click());
    expect(inputs().tags).toEqual(["new"]);
  });

  it("names the trigger in the connection list, not by its internal id", () => {
    const disconnect = button("Disconnect from the trigger");
    expect(disconnect.textContent).toBe("remove");
    expect(host.textContent).not.toContain(SOURCE);
  });
});
