// The workflow page's small charts: the API's slices of time as the columns a chart draws.

import type { RunStats } from "./history";

export interface ChartColumns {
  /** The middle of each slice, in seconds (what uPlot's time axis takes): a bar stands over its slice. */
  times: number[];
  /** The time axis, in seconds: from the first slice's start to the last slice's end, so the last
   * slice (the one going on now) is drawn whole, not cut in half at the edge. */
  span: [number, number];
  runs: number[];
  /** Failed runs as a percentage of the slice's runs; null where a slice had no run (nothing to rate). */
  failureRate: Array<number | null>;
}

export function chartColumns(stats: RunStats): ChartColumns {
  const slice = stats.bucket_ms / 1000;
  const starts = stats.buckets.map((b) => b.start / 1000);
  return {
    times: starts.map((start) => start + slice / 2),
    span: starts.length ? [starts[0], starts[starts.length - 1] + slice] : [0, slice],
    runs: stats.buckets.map((b) => b.runs),
    failureRate: stats.buckets.map((b) => (b.runs ? Math.round((1000 * b.failed) / b.runs) / 10 : null)),
  };
}

/** "12 runs, 25% failed" over the whole range; "No runs" without any. */
export function statsSummary(stats: RunStats): string {
  if (!stats.runs) return "No runs in this period.";
  const rate = Math.round(stats.failure_rate * 1000) / 10;
  return `${stats.runs} run${stats.runs === 1 ? "" : "s"}, ${rate}% failed.`;
}
