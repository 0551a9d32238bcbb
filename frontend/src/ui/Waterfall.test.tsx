// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runTree } from "../runs";
import type { Run, Workflow } from "../types";
import { layoutWaterfall } from "../waterfall";
import { Waterfall, type BarSelection } from "./Waterfall";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const now = Date.UTC(2026, 11, 7, 13, 3, 12);
const t0 = now - 10_000;
const workflow: Workflow = { actions: [{ id: "charge", kind: "charge" }, { id: "note", kind: "note" }], edges: [] };
const run: Run = {
  id: "01RUN",
  tenant: "t",
  workflow_id: "w",
  version: 1,
  version_id: "v",
  status: "cancelled",
  event: { name: "order.placed", data: {} },
  created_at: t0,
  started_at: t0,
  ended_at: now,
  actions: [
    {
      id: "charge",
      status: "completed",
      started_at: t0,
      ended_at: t0 + 500,
      attempts: [{ started_at: t0 + 400, ended_at: t0 + 500 }],
      steps: [
        { key: "reserve", kind: "run", status: "completed", attempts: [{ started_at: t0, ended_at: t0 + 200 }] },
        { key: "pay", kind: "run", status: "completed", attempts: [{ started_at: t0 + 200, ended_at: t0 + 400 }] },
      ],
    },
    { id: "note", status: "pending" },
  ],
};
const titles: Record<string, string> = { charge: "Charge the card", note: "Write a note" };

let host: HTMLDivElement;
let root: Root;
beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
});
afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe("the waterfall on screen", () => {
  it("has a button per bar, named by its step, status and words; sub-steps on demand", () => {
    const picked: BarSelection[] = [];
    const layout = layoutWaterfall(run, runTree(run.actions ?? [], workflow), (id) => titles[id], { timeZone: "UTC", now });
    act(() => root.render(<Waterfall layout={layout} selected={null} onSelect={(s) => picked.push(s)} clock={{ timeZone: "UTC", now }} />));
    const names = () => [...host.querySelectorAll("button.wk-wf-row")].map((b) => b.getAttribute("aria-label"));
    expect(names()).toEqual(["Charge the card: completed, 500 ms, started Today 13:03:02", "Write a note: Not run"]);

    const toggle = host.querySelector('button[aria-label="Show the 2 sub-steps of Charge the card"]') as HTMLButtonElement;
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    act(() => toggle.click());
    expect(names()).toEqual([
      "Charge the card: completed, 500 ms, started Today 13:03:02",
      "Reserve: completed, 200 ms, started Today 13:03:02",
      "Pay: completed, 200 ms, started Today 13:03:02",
      "Write a note: Not run",
    ]);
    act(() => (host.querySelectorAll("button.wk-wf-row")[2] as HTMLButtonElement).click());
    expect(picked).toEqual([{ record: "charge", step: 1 }]);
  });
});
