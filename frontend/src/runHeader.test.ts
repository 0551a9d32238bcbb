import { describe, expect, it } from "vitest";
import { dismissedFailure, rerunChoices, statusSentence, triggerWords, versionWords } from "./runHeader";
import type { Run } from "./types";

const now = Date.UTC(2026, 11, 7, 13, 3, 12);
const clock = { timeZone: "Europe/Paris", now };
const run = (extra: Partial<Run>): Run => ({
  id: "01RUN",
  tenant: "t",
  workflow_id: "w",
  version: 2,
  version_id: "v",
  status: "completed",
  event: { name: "blog-post.published", data: {} },
  created_at: now - 2300,
  started_at: now - 2300,
  ended_at: now,
  trigger: { index: 0, event: "blog-post.*" },
  ...extra,
});
const names: Record<string, string> = { send: "Send email" };
const title = (id: string) => names[id] ?? id;

describe("the run's header in words", () => {
  it("names the version, or says it is a test run of the draft", () => {
    expect(versionWords(run({}))).toBe("Version 2");
    expect(versionWords(run({ version: null }))).toBe("Test run of the draft");
  });

  it("says the status as a sentence", () => {
    expect(statusSentence(run({}), title, clock)).toBe("Completed in 2.3 s");
    expect(statusSentence(run({ status: "failed", actions: [{ id: "send", status: "failed" }] }), title, clock)).toBe("Failed at “Send email” after 2.3 s");
    expect(statusSentence(run({ status: "cancelled" }), title, clock)).toBe("Cancelled after 2.3 s");
    expect(statusSentence(run({ status: "queued", ended_at: null }), title, clock)).toBe("Waiting to start");
    const waiting = run({
      status: "waiting",
      ended_at: null,
      actions: [{ id: "approve", status: "waiting", steps: [{ key: "wait", kind: "wait_for_event", status: "waiting", wake_at: Date.UTC(2026, 11, 8, 8), wait: { event: "blog-post.approved", registered_at: now } }] }],
    });
    expect(statusSentence(waiting, title, clock)).toBe("Waiting for blog-post.approved until tomorrow 09:00");
    expect(statusSentence(run({ status: "running", ended_at: null, actions: [{ id: "send", status: "running" }] }), title, clock)).toBe("Running “Send email”");
  });

  it("says what started the run: an event, a schedule, a test", () => {
    expect(triggerWords(run({}))).toBe("the event “blog-post.published”");
    expect(triggerWords(run({ trigger: { index: 1, cron: "0 9 * * *" } }))).toMatch(/^the schedule “.+\(UTC\)”$/);
    expect(triggerWords(run({ trigger: null, version: null }))).toBe("a test run with a sample “blog-post.published” event");
    expect(triggerWords(run({ trigger: null, parent_run_id: "01PARENT" }))).toBe("another workflow");
  });

  it("offers the reruns that match the status", () => {
    const labels = (status: Run["status"]) => rerunChoices(run({ status })).map((c) => [c.label, c.fromFailedStep]);
    expect(labels("failed")).toEqual([
      ["Rerun from the failed step", true],
      ["Run again from the start", false],
    ]);
    expect(labels("cancelled")).toEqual([["Run again from the start", false]]);
    expect(labels("completed")).toEqual([["Run again from the start", false]]);
    for (const status of ["queued", "running", "sleeping", "waiting"] as const) expect(labels(status)).toEqual([]);
  });

  it("says a run cancelled after it failed failed first, and still offers to resume it", () => {
    const boom = { name: "NonRetriableError", message: "action 'send': the mail server is down" };
    const dismissed = run({
      status: "cancelled",
      actions: [{ id: "send", status: "failed" }],
      error: { name: "Cancelled", message: `the run was cancelled after it failed: ${boom.message}`, cause: boom },
    });
    expect(dismissedFailure(dismissed)).toEqual(boom);
    expect(statusSentence(dismissed, title, clock)).toBe("Failed at “Send email” after 2.3 s, then cancelled");
    expect(statusSentence({ ...dismissed, actions: [] }, title, clock)).toBe("Failed after 2.3 s, then cancelled");
    expect(rerunChoices(dismissed).map((c) => c.label)).toEqual(["Rerun from the failed step", "Run again from the start"]);
    const cancelled = run({ status: "cancelled", error: { name: "Cancelled", message: "the run was cancelled" } });
    expect(dismissedFailure(cancelled)).toBeNull();
    expect(statusSentence(cancelled, title, clock)).toBe("Cancelled after 2.3 s");
    expect(dismissedFailure(run({ status: "failed", error: { ...boom, cause: boom } }))).toBeNull(); // not cancelled
  });
});
