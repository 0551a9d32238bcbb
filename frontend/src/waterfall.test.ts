import { describe, expect, it } from "vitest";
import { runTree } from "./runs";
import type { ActionRecord, Run, Workflow } from "./types";
import { barLabel, layoutWaterfall, stepTitle, type Bar } from "./waterfall";

const now = Date.UTC(2026, 11, 7, 13, 3, 12); // 14:03:12 in Paris
const t0 = now - 100_000;
const clock = { timeZone: "Europe/Paris", now };
const deadline = Date.UTC(2026, 11, 8, 8, 0); // tomorrow 09:00 in Paris

const workflow: Workflow = {
  actions: [
    { id: "fetch", kind: "fetch" },
    { id: "nap", kind: "builtin:sleep" },
    { id: "charge", kind: "charge" },
    { id: "approval", kind: "builtin:wait_for_event" },
    { id: "publish", kind: "publish" },
  ],
  edges: [],
};

const actions: ActionRecord[] = [
  {
    id: "fetch",
    status: "completed",
    started_at: t0,
    ended_at: t0 + 1200,
    attempts: [
      { started_at: t0, ended_at: t0 + 100, error: { name: "Error", message: "boom" } },
      { started_at: t0 + 1100, ended_at: t0 + 1200 },
    ],
  },
  {
    id: "nap",
    status: "completed",
    started_at: t0 + 1200,
    ended_at: t0 + 61_300,
    attempts: [{ started_at: t0 + 61_200, ended_at: t0 + 61_300 }],
    steps: [{ key: "sleep", kind: "sleep", status: "completed" }],
  },
  {
    id: "charge",
    status: "completed",
    started_at: t0 + 61_300,
    ended_at: t0 + 61_900,
    attempts: [{ started_at: t0 + 61_800, ended_at: t0 + 61_900 }],
    steps: [
      { key: "reserve", kind: "run", status: "completed", attempts: [{ started_at: t0 + 61_300, ended_at: t0 + 61_500 }] },
      {
        key: "pay:1",
        kind: "run",
        status: "completed",
        attempts: [
          { started_at: t0 + 61_500, ended_at: t0 + 61_600, error: { name: "Error", message: "declined" } },
          { started_at: t0 + 61_700, ended_at: t0 + 61_800 },
        ],
      },
    ],
  },
  {
    id: "approval",
    status: "waiting",
    started_at: t0 + 62_000,
    steps: [{ key: "wait", kind: "wait_for_event", status: "waiting", wake_at: deadline, wait: { event: "blog-post.approved", registered_at: t0 + 62_000 } }],
  },
  { id: "publish", status: "pending" },
];

const run = (status: Run["status"], extra: Partial<Run> = {}): Run => ({
  id: "01RUN",
  tenant: "t",
  workflow_id: "w",
  version: 3,
  version_id: "v",
  status,
  event: { name: "blog-post.published", data: {} },
  created_at: t0,
  started_at: t0,
  actions,
  ...extra,
});

const titles: Record<string, string> = { fetch: "Fetch the post", nap: "Sleep", charge: "Charge", approval: "Wait for approval", publish: "Publish" };
const layout = (r: Run) => layoutWaterfall(r, runTree(r.actions ?? [], workflow), (id) => titles[id], clock);
const byTitle = (bars: Bar[], title: string) => bars.find((b) => b.title === title) as Bar;

describe("the waterfall of a run", () => {
  it("puts every step on one axis, from the run's start to now while it goes on", () => {
    const w = layout(run("waiting"));
    expect(w.start).toBe(t0);
    expect(w.end).toBe(now);
    expect(w.bars.map((b) => b.title)).toEqual(["Fetch the post", "Sleep", "Charge", "Wait for approval", "Publish"]);
    expect(w.ticks.map((t) => t.words)).toEqual(["0", "+25 s", "+50 s", "+1 min 15 s", "+1 min 40 s"]);
    expect(w.ticks.map((t) => t.left)).toEqual([0, 25, 50, 75, 100]);
  });

  it("draws attempts with the backoff between a failed one and the next", () => {
    const fetch = byTitle(layout(run("waiting")).bars, "Fetch the post");
    expect(fetch.segments.map((s) => s.kind)).toEqual(["failed", "backoff", "attempt"]);
    expect(fetch.segments.map((s) => [s.left, s.width].map((n) => Math.round(n * 100) / 100))).toEqual([
      [0, 0.1],
      [0.1, 1],
      [1.1, 0.1],
    ]);
    expect(fetch.segments.map((s) => s.words)).toEqual(["attempt 1: failed after 100 ms", "waited 1 s before retrying", "attempt 2: 100 ms"]);
    expect(fetch.words).toBe("1.2 s · 2 attempts");
    expect(fetch.left).toBe(0);
    expect(fetch.width).toBeCloseTo(1.2);
  });

  it("draws a sleep that is over from where the step went to sleep to when it went on", () => {
    const nap = byTitle(layout(run("waiting")).bars, "Sleep");
    expect(nap.steps).toEqual([]); // its one sub-step is drawn on its own bar
    expect(nap.segments.map((s) => [s.kind, s.start - t0, s.end - t0])).toEqual([
      ["sleep", 1200, 61_200],
      ["attempt", 61_200, 61_300],
    ]);
    expect(nap.words).toBe("slept 1 min");
  });

  it("gives a handler's sub-steps bars of their own, under its bar", () => {
    const charge = byTitle(layout(run("waiting")).bars, "Charge");
    expect(charge.steps.map((s) => [s.title, s.key, s.step])).toEqual([
      ["Reserve", "charge#0", 0],
      ["Pay (2)", "charge#1", 1],
    ]);
    expect(charge.steps[1].segments.map((s) => s.kind)).toEqual(["failed", "backoff", "attempt"]);
    expect(charge.steps[1].words).toBe("300 ms · 2 attempts");
    expect(charge.steps.every((s) => s.record === "charge")).toBe(true);
  });

  it("says what a waiting step waits for, and until when, and draws it up to now", () => {
    const approval = byTitle(layout(run("waiting")).bars, "Wait for approval");
    expect(approval.words).toBe("waiting for blog-post.approved until tomorrow 09:00");
    expect(approval.segments).toHaveLength(1);
    expect(approval.segments[0]).toMatchObject({ kind: "wait", open: true, start: t0 + 62_000, end: now });
    expect(approval.segments[0].left).toBeCloseTo(62);
    expect(approval.segments[0].width).toBeCloseTo(38);
    expect(barLabel(approval)).toBe("Wait for approval: waiting, waiting for blog-post.approved until tomorrow 09:00");
  });

  it("says sleeping until when", () => {
    const sleeping: ActionRecord = { id: "nap", status: "sleeping", started_at: t0 + 1200, steps: [{ key: "sleep", kind: "sleep", status: "sleeping", wake_at: now + 2 * 60_000 - 12_000 }] };
    const w = layout(run("sleeping", { actions: [actions[0], sleeping, { id: "publish", status: "pending" }] }));
    expect(byTitle(w.bars, "Sleep").words).toBe("sleeping until 14:05");
    expect(byTitle(w.bars, "Sleep").segments[0]).toMatchObject({ kind: "sleep", open: true });
  });

  it("on a run that ended, a step it never reached is Not run and one cut short Stopped", () => {
    const w = layout(run("cancelled", { ended_at: now }));
    const publish = byTitle(w.bars, "Publish");
    expect([publish.status, publish.tone, publish.words, publish.width, publish.start]).toEqual(["Not run", "notrun", "Not run", 0, null]);
    const approval = byTitle(w.bars, "Wait for approval");
    expect(approval.status).toBe("Stopped");
    expect(approval.words).toBe("stopped while waiting for blog-post.approved until tomorrow 09:00");
    expect(approval.segments[0].open).toBe(false);
    expect(barLabel(publish)).toBe("Publish: Not run");
  });

  it("groups a loop's iterations under its bar", () => {
    const loop: Workflow = { actions: [{ id: "each", kind: "builtin:for_each", body: { actions: [{ id: "x", kind: "echo" }], edges: [] } }], edges: [] };
    const records: ActionRecord[] = [
      { id: "each", status: "completed", started_at: t0, ended_at: t0 + 300 },
      { id: "each[0]/x", status: "completed", started_at: t0, ended_at: t0 + 100, attempts: [{ started_at: t0, ended_at: t0 + 100 }] },
      { id: "each[1]/x", status: "completed", started_at: t0 + 100, ended_at: t0 + 300, attempts: [{ started_at: t0 + 100, ended_at: t0 + 300 }] },
    ];
    const r = run("completed", { actions: records, ended_at: t0 + 300 });
    const w = layoutWaterfall(r, runTree(records, loop), (id) => (id === "each" ? "Repeat for each item" : "Echo"), clock);
    expect(w.bars).toHaveLength(1);
    expect(w.bars[0].iterations.map((i) => [i.label, i.bars.map((b) => [b.key, Math.round(b.left), Math.round(b.width)])])).toEqual([
      ["Item 1", [["each[0]/x", 0, 33]]],
      ["Item 2", [["each[1]/x", 33, 67]]],
    ]);
  });

  it("names sub-steps in words", () => {
    expect(stepTitle({ key: "send-welcome_email", kind: "run", status: "completed" })).toBe("Send welcome email");
    expect(stepTitle({ key: "send:2", kind: "run", status: "completed" })).toBe("Send (3)");
  });
});
