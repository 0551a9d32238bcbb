// The workflow page's small charts: the API's slices of time as the columns a chart draws.

import type { RunStats } from "./history";

export interface ChartColumns {
  /** The start of each slice, in seconds (what uPlot's time axis takes). */
  times: number[];
  runs: number[];
  /** Failed runs as a percentage of the slice's runs; null where a slice had no run (nothing to rate). */
  failureRate: Array<number | null>;
}

export function chartColumns(stats: RunStats): ChartColumns {
  return {
    times: stats.buckets.map((b) => b.start / 1000),
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
