import { describe, expect, it } from "vitest";
import { bulkFilter, cancelWords, duration, progressText, runsQuery, statusWords, timeRange } from "./history";

describe("runs and events views", () => {
  it("asks for runs with every filter, several statuses and the cursor", () => {
    const query = new URLSearchParams(
      runsQuery({ workflowId: "w1", statuses: ["failed", "cancelled"], since: 10, until: 20, test: false }, "abc", 25),
    );
    expect(query.getAll("status")).toEqual(["failed", "cancelled"]);
    expect(Object.fromEntries([...query].filter(([k]) => k !== "status"))).toEqual({
      limit: "25",
      workflow_id: "w1",
      since: "10",
      until: "20",
      test: "false",
      cursor: "abc",
    });
    expect(runsQuery({})).toBe("limit=50");
  });

  it("turns the filter into a bulk action's body", () => {
    expect(bulkFilter({ workflowId: "w1", statuses: ["failed"], since: 5 })).toEqual({ workflow_id: "w1", status: ["failed"], since: 5 });
    expect(bulkFilter({ statuses: [] })).toEqual({});
  });

  it("says statuses, durations and progress in words", () => {
    expect(statusWords("queued")).toBe("Waiting to start");
    expect(statusWords("waiting")).toBe("Waiting for an event");
    expect(duration({ created_at: 0, started_at: 1000, ended_at: 1850 })).toBe("850 ms");
    expect(duration({ created_at: 0, started_at: 0, ended_at: 185_000 })).toBe("3 min 5 s");
    expect(duration({ created_at: 0, started_at: 0, ended_at: 2 * 3600_000 })).toBe("2 h");
    expect(duration({ created_at: 0, started_at: null, ended_at: null })).toBe("—");
    expect(duration({ created_at: 0, started_at: 0, ended_at: null }, 65_000)).toBe("1 min 5 s so far"); // still going
    const running = { id: "o", kind: "cancel", state: "running", matched: 10, done: 3, failed: 0, created_at: 0 } as const;
    expect(progressText(running)).toBe("Cancelling: 7 runs to go, 3 done.");
    expect(progressText({ ...running, state: "completed", done: 10 })).toBe("Cancelled 10 runs.");
    expect(progressText({ ...running, kind: "replay", state: "completed", done: 1, failed: 2 })).toBe("Replayed 1 run (2 could not be).");
    expect(progressText({ ...running, state: "completed", matched: 0, done: 0 })).toBe("No run matched: nothing to do.");
  });

  it("says what a cancel does to the runs it takes, before it is done", () => {
    const all = "all the runs that match the filters";
    expect(cancelWords("2 selected runs", false).text).toBe(
      "Cancel 2 selected runs? Runs that have not ended stop before their next step; failed runs are marked cancelled and keep their error; completed runs stay as they are.",
    );
    expect(cancelWords(all, true, ["failed"])).toEqual({
      text: `Cancel ${all}? Failed runs are marked cancelled and keep their error, so they no longer count as failed; you can still rerun them.`,
      possible: true,
    });
    expect(cancelWords(all, true, ["sleeping"]).text).toBe(`Cancel ${all}? Runs that have not ended stop before their next step.`);
    // no status filter: the API takes only the runs that have not ended, and the words say so
    expect(cancelWords(all, true).text).toContain("failed and completed runs stay as they are");
    expect(cancelWords(all, true, ["completed"]).possible).toBe(false);
    expect(cancelWords(all, true, ["cancelled"]).text).toBe("Completed and cancelled runs stay as they are: there is nothing to cancel.");
  });

  it("reads yesterday in the user's time zone", () => {
    const now = new Date(2026, 11, 7, 15, 30).getTime();
    const { since, until } = timeRange("yesterday", now);
    expect(new Date(since ?? 0).getDate()).toBe(6);
    expect(new Date(since ?? 0).getHours()).toBe(0);
    expect(until).toBe(new Date(2026, 11, 7).getTime());
    expect(timeRange("any", now)).toEqual({});
  });
});
