// @vitest-environment jsdom
import { act, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import schema from "../settings-schema.fixture.json";
import { pruneSettings } from "../settingsForm";
import type { JsonObject, Problem } from "../types";
import { SettingsPanel } from "./SettingsPanel";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLDivElement;
let root: Root;
let changes: JsonObject[];

function Harness({ initial, problems }: { initial: JsonObject; problems: Problem[] }) {
  const [value, setValue] = useState(initial);
  return (
    <SettingsPanel
      schema={schema as unknown as JsonObject}
      value={value}
      problems={problems}
      onChange={(next) => {
        changes.push(next);
        setValue(next);
      }}
    />
  );
}

function render(initial: JsonObject, problems: Problem[] = []) {
  act(() => root.render(<Harness initial={initial} problems={problems} />));
}

function group(name: string): HTMLFieldSetElement {
  const found = [...host.querySelectorAll("fieldset")].find((f) => f.querySelector(":scope > legend")?.textContent === name);
  if (!found) throw new Error(`no group ${name}`);
  return found;
}

function button(name: string, within: ParentNode = host): HTMLButtonElement {
  const found = [...within.querySelectorAll("button")].find((b) => (b.getAttribute("aria-label") ?? b.textContent) === name);
  if (!found) throw new Error(`no button ${name}`);
  return found;
}

function field(label: string, within: ParentNode = host): HTMLInputElement | HTMLSelectElement {
  const found = [...within.querySelectorAll("label")].find((l) => l.textContent?.replace(" *", "") === label);
  const control = found && host.ownerDocument.getElementById(found.htmlFor);
  if (!control) throw new Error(`no field ${label}`);
  return control as HTMLInputElement;
}

/** Type into a controlled input the way React notices. */
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

describe("the settings panel", () => {
  it("shows every section, none switched on, and reports nothing until an edit", () => {
    render({});
    for (const name of ["Concurrency limits", "Throttle", "Rate limit", "Debounce", "Batch events", "Cancel on events", "Timeouts", "Singleton"]) {
      expect(group(name)).toBeTruthy();
    }
    expect(button("Add throttle")).toBeTruthy();
    expect(group("Throttle").querySelector("input")).toBeNull();
    expect(changes).toEqual([]);
  });

  it("adds a section with its defaults, and removes it again", () => {
    render({});
    act(() => button("Add throttle").click());
    expect(last()).toEqual({ throttle: { burst: 1 } });
    type(field("Limit", group("Throttle")), "5");
    type(field("Period", group("Throttle")), "30s");
    expect(last()).toEqual({ throttle: { burst: 1, limit: 5, period: "30s" } });
    act(() => button("Remove throttle").click());
    expect(pruneSettings(last())).toEqual({});
  });

  it("keeps a section without defaults open once added, and leaves it out of the JSON while it is empty", () => {
    render({});
    act(() => button("Add timeouts").click());
    act(() => button("Add priority").click());
    expect(button("Remove timeouts")).toBeTruthy();
    expect(field("Run", group("Priority"))).toBeTruthy();
    expect(pruneSettings(last())).toEqual({});
    type(field("Finish", group("Timeouts")), "1h");
    expect(pruneSettings(last())).toEqual({ timeouts: { finish: "1h" } });
  });

  it("adds and removes concurrency limits and cancellation events, at most as many as allowed", () => {
    render({});
    act(() => button("Add concurrency limit").click());
    type(field("Limit", group("Concurrency limit 1")), "3");
    type(field("Key", group("Concurrency limit 1")), "event.data.user_id");
    act(() => button("Add concurrency limit").click());
    expect(() => button("Add concurrency limit")).toThrow();  // two is the most
    act(() => button("Remove concurrency limit 2").click());
    act(() => button("Add cancel on event").click());
    type(field("Event", group("Cancel on event 1")), "app/user.deleted");
    expect(pruneSettings(last())).toEqual({
      concurrency: [{ limit: 3, key: "event.data.user_id", scope: "workflow" }],
      cancel_on: [{ event: "app/user.deleted" }],
    });
  });

  it("shows stored settings, durations in milliseconds as text", () => {
    render({ debounce: { period: 1500 }, singleton: {} });
    expect(field("Period", group("Debounce")).value).toBe("1500ms");
    expect((field("Mode", group("Singleton")) as HTMLSelectElement).selectedOptions[0]?.textContent).toBe("skip");
    expect(button("Remove singleton")).toBeTruthy();
  });

  it("puts the server's problems next to their fields, and lists those without one", () => {
    render({ throttle: { limit: 1, period: "1y" } }, [
      { code: "invalid_settings", path: "settings.throttle.period", message: "invalid duration '1y'" },
      { code: "invalid_settings", path: "settings.concurrency[4].key", message: "elsewhere" },
    ]);
    const period = field("Period", group("Throttle"));
    const problems = host.ownerDocument.getElementById(`${period.id}__error`);
    expect(problems?.textContent).toContain("invalid duration '1y'");
    expect(period.getAttribute("aria-describedby")).toContain(`${period.id}__error`);
    expect(host.querySelector('[aria-label="Problems with the settings"]')?.textContent).toContain("settings.concurrency[4].key: elsewhere");
  });

  it("labels every control", () => {
    render({ throttle: { limit: 1, period: "1m" }, concurrency: [{ limit: 1 }], cancel_on: [{ event: "x" }] });
    for (const control of host.querySelectorAll("input, select, textarea")) {
      const label = host.querySelector(`label[for="${control.id}"]`);
      expect(label?.textContent, control.id).toBeTruthy();
    }
    for (const b of host.querySelectorAll("button")) expect((b.getAttribute("aria-label") ?? b.textContent)?.trim()).toBeTruthy();
  });
});
