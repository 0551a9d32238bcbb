import { describe, expect, it } from "vitest";
import { chartColumns, statsSummary } from "./charts";

const stats = {
  range: "24h" as const,
  bucket_ms: 3600_000,
  buckets: [
    { start: 3600_000, runs: 4, failed: 1 },
    { start: 7200_000, runs: 0, failed: 0 },
    { start: 10_800_000, runs: 3, failed: 2 },
  ],
  runs: 7,
  failed: 3,
  failure_rate: 3 / 7,
};

describe("the workflow page's charts", () => {
  it("turns slices of time into columns, with no rate where nothing ran", () => {
    expect(chartColumns(stats)).toEqual({
      times: [5400, 9000, 12_600], // each bar over the middle of its hour
      span: [3600, 14_400], // to the end of the last hour: the hour going on now is drawn whole
      runs: [4, 0, 3],
      failureRate: [25, null, 66.7],
    });
  });

  it("sums the range up in words", () => {
    expect(statsSummary(stats)).toBe("7 runs, 42.9% failed.");
    expect(statsSummary({ ...stats, runs: 0, failed: 0, failure_rate: 0 })).toBe("No runs in this period.");
  });
});
