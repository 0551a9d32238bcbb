// @vitest-environment jsdom
import { act, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "../api";
import type { DataGroup } from "../dataFields";
import type { Problem, Trigger } from "../types";
import { TriggerPanel } from "./TriggerPanel";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLDivElement;
let root: Root;
let changes: Trigger[][];

const GROUPS: DataGroup[] = [
  { title: "Trigger event", fields: [{ path: "$.event.data.total", cel: "event.data.total", label: "Total", type: "number", sample: 120 }] },
];

function Harness({ initial, problems }: { initial: Trigger[]; problems: Problem[] }) {
  const [triggers, setTriggers] = useState(initial);
  return (
    <TriggerPanel
      api={{} as Api}
      triggers={triggers}
      problems={problems}
      sample=""
      groups={GROUPS}
      onTriggers={(next) => {
        changes.push(next);
        setTriggers(next);
      }}
      onSample={() => undefined}
    />
  );
}

function render(initial: Trigger[], problems: Problem[] = []) {
  act(() => root.render(<Harness initial={initial} problems={problems} />));
}

function card(name: string): HTMLFieldSetElement {
  const found = [...host.querySelectorAll("fieldset.wk-trigger-card")].find((f) => f.getAttribute("aria-label") === name);
  if (!found) throw new Error(`no card ${name}`);
  return found as HTMLFieldSetElement;
}

function button(name: string, within: ParentNode = host): HTMLButtonElement {
  const found = [...within.querySelectorAll("button")].find((b) => (b.getAttribute("aria-label") ?? b.textContent?.trim()) === name);
  if (!found) throw new Error(`no button ${name}`);
  return found;
}

function field(label: string, within: ParentNode = host): HTMLInputElement | HTMLSelectElement {
  const found = [...within.querySelectorAll("label")].find((l) => l.textContent?.trim() === label);
  const control = found && host.ownerDocument.getElementById(found.htmlFor);
  if (!control) throw new Error(`no field ${label}`);
  return control as HTMLInputElement;
}

function type(input: HTMLInputElement | HTMLSelectElement, text: string) {
  const proto = input instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  act(() => {
    Object.getOwnPropertyDescriptor(proto, "value")?.set?.call(input, text);
    input.dispatchEvent(new Event(input instanceof HTMLSelectElement ? "change" : "input", { bubbles: true }));
  });
}

const last = () => changes[changes.length - 1];

beforeEach(() => {
  changes = [];
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe("the trigger panel", () => {
  it("shows one trigger as before: its fields, no numbering, nothing to remove", () => {
    render([{ event: "app/order.created" }]);
    expect(host.querySelector("h2")?.textContent).toBe("Trigger");
    expect((field("Event name") as HTMLInputElement).value).toBe("app/order.created");
    expect(host.querySelector("fieldset.wk-trigger-card")).toBeNull();
    expect(() => button("Remove trigger 1")).toThrow();
    type(field("Event name"), "app/order.paid");
    expect(last()).toEqual([{ event: "app/order.paid" }]);
  });

  it("adds a schedule beside an event, edits it and says both in plain words", () => {
    render([{ event: "app/order.created" }]);
    act(() => button("+ Add a schedule").click());
    expect(last()).toEqual([{ event: "app/order.created" }, { cron: "0 9 * * *" }]);
    expect(host.querySelector("h2")?.textContent).toBe("Triggers");
    expect(card("Trigger 1").querySelector(".wk-trigger-heading")?.textContent).toBe("Trigger 1When app/order.created");
    expect(card("Trigger 2").querySelector(".wk-trigger-heading")?.textContent).toBe("Trigger 2Every day at 09:00 (UTC)");
    type(field("Time zone", card("Trigger 2")), "Europe/Paris");
    expect(last()[1]).toEqual({ cron: "TZ=Europe/Paris 0 9 * * *" });
    type(field("Common schedules", card("Trigger 2")), "0 9 * * 1");
    expect(last()[1]).toEqual({ cron: "TZ=Europe/Paris 0 9 * * 1" });
    expect(card("Trigger 2").querySelector(".wk-trigger-heading")?.textContent).toContain("Every Monday at 09:00 (Europe/Paris)");
    // nothing about the list's internals reaches the page
    expect(host.textContent).not.toMatch(/triggers\[|\$source|cron:/);
  });

  it("adds an event with its own filter, built from rows, and removes a trigger", () => {
    render([{ cron: "0 9 * * *" }]);
    act(() => button("+ Add an event").click());
    expect(document.activeElement).toBe(field("Event name", card("Trigger 2"))); // the new trigger's first field
    type(field("Event name", card("Trigger 2")), "app/order.created");
    expect(last()).toEqual([{ cron: "0 9 * * *" }, { event: "app/order.created" }]);
    act(() => button("Add a condition", card("Trigger 2")).click());
    const labelled = (name: string) => card("Trigger 2").querySelector(`[aria-label='${name}']`) as HTMLInputElement;
    type(labelled("Field"), "event.data.total");
    type(labelled("Comparison operator"), "gt");
    type(labelled("Value"), "100");
    expect(last()[1]).toEqual({ event: "app/order.created", if: "event.data.total > 100" });
    expect(card("Trigger 2").querySelector(".wk-trigger-heading")?.textContent).toBe("Trigger 2When app/order.created, only when Total is greater than 100");
    expect(card("Trigger 1").querySelector("[aria-label='Field']")).toBeNull(); // a schedule has no filter
    act(() => button("Remove trigger 1").click());
    expect(last()).toEqual([expect.objectContaining({ event: "app/order.created" })]);
    expect(host.querySelector("fieldset.wk-trigger-card")).toBeNull(); // one left: shown as before
  });

  it("stops at ten triggers", () => {
    render(Array.from({ length: 9 }, (_, i) => ({ event: `app/e${i}` })));
    act(() => button("+ Add an event").click());
    expect(last()).toHaveLength(10);
    expect(button("+ Add an event").disabled).toBe(true);
    expect(button("+ Add a schedule").disabled).toBe(true);
    expect(host.textContent).toContain("A workflow can have up to 10 triggers.");
  });

  it("puts each problem on its trigger, and the list's above them", () => {
    render(
      [{ event: "app/a" }, { event: "app/a" }, { cron: "0 25 * * *" }],
      [
        { code: "duplicate_trigger", path: "triggers[1]", message: "the same as trigger 1" },
        { code: "invalid_trigger", path: "triggers[2].cron", message: "the hour field '25' is not valid" },
        { code: "too_many_triggers", path: "triggers", message: "at most 10 triggers" },
      ],
    );
    expect(card("Trigger 1").className).not.toContain("has-problems");
    expect(card("Trigger 2").textContent).toContain("the same as trigger 1");
    expect(card("Trigger 3").querySelector("[aria-label='Problems with the schedule']")?.textContent).toContain("hour field");
    expect(host.querySelector("[role=alert]")?.textContent).toBe("at most 10 triggers");
  });
});

describe("the sample event's examples", () => {
  it("lists the declared examples of the trigger's event, each usable as the sample", () => {
    const samples: string[] = [];
    const examples = [
      { name: "blog-post.published", data: { id: 2, status: "published" } },
      { name: "blog-post.published", data: { id: 1, status: "published" } },
    ];
    const inUse = JSON.stringify(examples[0], null, 2);
    act(() =>
      root.render(
        <TriggerPanel api={{} as Api} triggers={[{ event: "blog-post.published" }]} problems={[]} sample={inUse} groups={GROUPS} examples={examples} onTriggers={() => undefined} onSample={(s) => samples.push(s)} />,
      ),
    );
    const list = host.querySelector("[aria-label='Examples of this event']");
    expect(list?.textContent).toContain("Example 1 (in use)id 2, status published");
    act(() => button("Example 2id 1, status published").click());
    expect(samples.map((s) => JSON.parse(s) as unknown)).toEqual([examples[1]]);
  });

  it("lists none when nothing is declared", () => {
    act(() => root.render(<TriggerPanel api={{} as Api} triggers={[{ event: "app/x" }]} problems={[]} sample="" groups={GROUPS} onTriggers={() => undefined} onSample={() => undefined} />));
    expect(host.querySelector("[aria-label='Examples of this event']")).toBeNull();
  });
});
