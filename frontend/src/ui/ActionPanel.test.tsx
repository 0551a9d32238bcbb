import { act, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOURCE, type ActionDef, type JsonObject, type Workflow } from "../types";
import { connect, updateAction } from "../workflowOps";
import { ActionPanel, formContextOver } from "./ActionPanel";
import type { RefGroup } from "./RefPicker";

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

const groups: RefGroup[] = [
  {
    title: "Trigger event",
    targets: [
      { path: "$.event.data.email", label: "event.data.email", type: "string" },
      { path: "$.event.data.n", label: "event.data.n", type: "number" },
    ],
  },
];

let host: HTMLDivElement;
let root: Root;
let current: Workflow;
let connectElsewhere: () => void;

/** The panel as the editor uses it: each change applied to the workflow of the render it came from. */
function Harness() {
  const [workflow, setWorkflow] = useState<Workflow>({
    actions: [{ id: "mail", kind: "send_email", inputs: { subject: "Hello", body: "" } }, { id: "other", kind: "send_email", inputs: {} }],
    edges: [{ from: SOURCE, to: "mail" }],
  });
  current = workflow;
  connectElsewhere = () => setWorkflow(connect(workflow, SOURCE, "other"));
  const action = workflow.actions[0];
  return (
    <ActionPanel
      workflow={workflow}
      action={action}
      definition={email}
      problems={[]}
      refGroups={groups}
      onChange={(change) => setWorkflow(updateAction(workflow, action.id, change))}
      onConnectFrom={() => undefined}
      onDisconnect={() => undefined}
      onDelete={() => undefined}
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
  act(() => button(`Insert a reference into ${field}`).click());
  act(() => host.querySelector<HTMLButtonElement>(`[data-ref="${ref}"]`)!.click());
}

const inputs = () => current.actions[0].inputs as JsonObject;

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
    act(() => button("Remove the reference from To").click());
    expect(inputs().to).toBeUndefined();
    expect(inputs().body).toBe("!ref($.event.data.n)");
  });

  it("keeps the rest of the workflow changed since the panel opened (a connection drawn on the canvas)", () => {
    act(() => connectElsewhere());
    pickRef("To", "$.event.data.email");
    expect(current.edges).toContainEqual({ from: SOURCE, to: "other" });
    expect(inputs().to).toBe("!ref($.event.data.email)");
  });

  it("reads the newest ref groups and inputs through a context made once", () => {
    const seen: unknown[] = [];
    const holder = { current: { inputs: { a: 1 } as JsonObject, groups: [] as RefGroup[], onChange: (c: unknown) => seen.push(c) } };
    const context = formContextOver(holder);
    holder.current = { ...holder.current, inputs: { a: 2, b: 3 }, groups };
    context.set(["c"], "x");
    expect(seen).toEqual([{ inputs: { a: 2, b: 3, c: "x" } }]);
    expect(context.groups).toBe(groups);
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
