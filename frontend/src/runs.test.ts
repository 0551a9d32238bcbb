import { describe, expect, it } from "vitest";
import { canvasStatuses, isHandled, parseRecordId, runTree, statusTone, statusWords } from "./runs";
import type { ActionRecord, Workflow } from "./types";

const workflow: Workflow = {
  actions: [
    {
      id: "each",
      kind: "builtin:for_each",
      body: {
        actions: [
          { id: "reserve", kind: "reserve" },
          { id: "notify", kind: "notify" },
          { id: "again", kind: "builtin:repeat_until", body: { actions: [{ id: "x", kind: "echo" }], edges: [] } },
        ],
        edges: [],
      },
    },
    { id: "done", kind: "echo" },
  ],
  edges: [],
};

const record = (id: string, status: ActionRecord["status"], output?: ActionRecord["output"]): ActionRecord => ({ id, status, ...(output !== undefined ? { output } : {}) });

const handled = { error: { name: "NonRetriableError", message: "GONE-7 is out of stock" } };
const records: ActionRecord[] = [
  record("each", "completed", [{}, handled, {}]),
  record("each[0]/reserve", "completed"),
  record("each[0]/notify", "skipped"),
  record("each[0]/again", "completed"),
  record("each[0]/again[0]/x", "completed"),
  record("each[0]/again[1]/x", "completed"),
  record("each[1]/reserve", "failed", handled),
  record("each[1]/notify", "completed"),
  record("each[2]/reserve", "completed"),
  record("done", "completed"),
];

describe("a run's records under their loops", () => {
  it("reads an iteration's id as its loops and its step", () => {
    const loops = new Set(["each", "again"]);
    expect(parseRecordId("each[1]/reserve", loops)).toEqual({ path: [{ loop: "each", index: 1 }], action: "reserve" });
    expect(parseRecordId("each[0]/again[12]/x", loops)).toEqual({ path: [{ loop: "each", index: 0 }, { loop: "again", index: 12 }], action: "x" });
    expect(parseRecordId("done", loops)).toEqual({ path: [], action: "done" });
  });

  it("groups iterations under their loop as Item n / Round n, in order", () => {
    const tree = runTree(records, workflow);
    expect(tree.map((e) => e.action)).toEqual(["each", "done"]);
    const each = tree[0];
    expect(each.iterations?.map((i) => i.label)).toEqual(["Item 1", "Item 2", "Item 3"]);
    expect(each.iterations?.[1].steps.map((s) => [s.action, statusWords(s.record)])).toEqual([
      ["reserve", "Failed — handled"],
      ["notify", "completed"],
    ]);
    const again = each.iterations?.[0].steps.find((s) => s.action === "again");
    expect(again?.iterations?.map((i) => [i.label, i.steps.map((s) => s.key)])).toEqual([
      ["Round 1", ["each[0]/again[0]/x"]],
      ["Round 2", ["each[0]/again[1]/x"]],
    ]);
  });

  it("tells a handled failure from a failure", () => {
    expect(isHandled(record("a", "failed", handled))).toBe(true);
    expect(isHandled(record("a", "failed"))).toBe(false);
    expect(isHandled(record("a", "completed", handled))).toBe(false);
  });

  it("puts one status per step on the canvas, in words for steps inside loops", () => {
    const { statuses, texts, handled: wasHandled } = canvasStatuses(records, workflow);
    expect(statuses).toMatchObject({ each: "completed", done: "completed", reserve: "failed", notify: "completed" });
    expect(texts.reserve).toBe("2 done, 1 failed — handled");
    expect(texts.notify).toBe("1 done, 1 skipped");
    expect(texts.each).toBe("completed, 3 items");
    expect(wasHandled.reserve).toBe(true);
    const failing = canvasStatuses([record("each", "failed"), record("each[0]/reserve", "failed")], workflow);
    expect(failing.statuses.reserve).toBe("failed");
    expect(failing.texts.reserve).toBe("1 failed");
    expect(failing.handled.reserve).toBeUndefined();
  });
});

describe("a step's status on a run that ended", () => {
  it("says Not run for a step the run never reached, Stopped for one cut short", () => {
    expect(statusWords(record("a", "pending"), "cancelled")).toBe("Not run");
    expect(statusWords(record("a", "pending"), "failed")).toBe("Not run");
    expect(statusWords(record("a", "sleeping"), "cancelled")).toBe("Stopped");
    expect(statusTone(record("a", "pending"), "completed")).toBe("notrun");
    // a run still going: they are what they are
    expect(statusWords(record("a", "pending"), "running")).toBe("pending");
    expect(statusWords(record("a", "sleeping"), "sleeping")).toBe("sleeping");
    expect(statusWords(record("a", "failed", handled), "failed")).toBe("Failed — handled");
    expect(statusWords(record("a", "completed"), "cancelled")).toBe("completed");
  });

  it("says it on the canvas too", () => {
    const cancelled = canvasStatuses([record("each", "completed"), record("done", "pending")], workflow, "cancelled");
    expect(cancelled.texts.done).toBe("Not run");
    expect(canvasStatuses([record("done", "pending")], workflow, "running").texts.done).toBeUndefined();
  });
});
