// The runs and events views: what they ask the API for, and how runs, times and progress read.

import { durationWords } from "./time";
import type { JsonObject, Run, RunStatus, StoredEvent } from "./types";

export interface RunFilter {
  workflowId?: string;
  statuses?: RunStatus[];
  /** Epoch milliseconds: created at or after `since`, before `until`. */
  since?: number;
  until?: number;
  /** Test runs only (true) or none of them (false). */
  test?: boolean;
  eventId?: string;
}

/** The body of a bulk cancel or replay (the API's field names). */
export interface BulkFilter {
  workflow_id?: string;
  status?: RunStatus[];
  since?: number;
  until?: number;
  test?: boolean;
  version?: "own" | "latest";
}

export interface RunPage {
  items: Run[];
  next_cursor?: string | null;
}

export interface RunLink {
  id: string;
  workflow_id: string;
  status: RunStatus;
  created_at: number;
  ended_at?: number | null;
  test?: boolean;
}

export type EventItem = StoredEvent & { runs?: RunLink[] };

export interface EventPage {
  items: EventItem[];
  next_cursor?: string | null;
}

export interface EventRuns {
  started?: RunLink[];
  resumed?: RunLink[];
}

export interface Operation {
  id: string;
  kind: "cancel" | "replay";
  state: "running" | "completed";
  matched: number;
  done: number;
  failed: number;
  created_at: number;
  ended_at?: number | null;
}

export interface RunStats {
  range: "24h" | "7d";
  bucket_ms: number;
  buckets: Array<{ start: number; runs: number; failed: number }>;
  runs: number;
  failed: number;
  failure_rate: number;
}

/** The query string of a page of runs. */
export function runsQuery(filter: RunFilter, cursor?: string | null, limit = 50): string {
  const query = new URLSearchParams({ limit: String(limit) });
  if (filter.workflowId) query.set("workflow_id", filter.workflowId);
  for (const status of filter.statuses ?? []) query.append("status", status);
  if (filter.since !== undefined) query.set("since", String(filter.since));
  if (filter.until !== undefined) query.set("until", String(filter.until));
  if (filter.test !== undefined) query.set("test", String(filter.test));
  if (filter.eventId) query.set("event_id", filter.eventId);
  if (cursor) query.set("cursor", cursor);
  return query.toString();
}

/** The same filter as a bulk action's body. */
export function bulkFilter(filter: RunFilter): BulkFilter {
  return {
    ...(filter.workflowId ? { workflow_id: filter.workflowId } : {}),
    ...(filter.statuses?.length ? { status: filter.statuses } : {}),
    ...(filter.since !== undefined ? { since: filter.since } : {}),
    ...(filter.until !== undefined ? { until: filter.until } : {}),
    ...(filter.test !== undefined ? { test: filter.test } : {}),
  };
}

const STATUS_WORDS: Record<RunStatus, string> = {
  queued: "Waiting to start",
  running: "Running",
  sleeping: "Sleeping",
  waiting: "Waiting for an event",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** A run's status in words. */
export function statusWords(status: RunStatus): string {
  return STATUS_WORDS[status] ?? status;
}

/** How long a run took (or has taken so far, by `now`): "850 ms", "12 s", "3 min 5 s", "2 h 10 min". */
export function duration(run: Pick<Run, "started_at" | "ended_at" | "created_at">, now: number = Date.now()): string {
  const start = run.started_at ?? null;
  if (start === null) return "—";
  const took = durationWords((run.ended_at ?? now) - start);
  return run.ended_at === null || run.ended_at === undefined ? `${took} so far` : took;
}

export type TimeRange = "any" | "hour" | "today" | "yesterday" | "day" | "week";

export const TIME_RANGES: Array<[TimeRange, string]> = [
  ["any", "Any time"],
  ["hour", "Last hour"],
  ["day", "Last 24 hours"],
  ["today", "Today"],
  ["yesterday", "Yesterday"],
  ["week", "Last 7 days"],
];

/** A range of time as [since, until) in epoch milliseconds, in the user's time zone ("today" starts at
 * their midnight); undefined ends for "any". */
export function timeRange(range: TimeRange, now: number = Date.now()): { since?: number; until?: number } {
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const today = midnight.getTime();
  switch (range) {
    case "hour":
      return { since: now - 3600_000 };
    case "day":
      return { since: now - 24 * 3600_000 };
    case "week":
      return { since: now - 7 * 24 * 3600_000 };
    case "today":
      return { since: today };
    case "yesterday": {
      const before = new Date(today);
      before.setDate(before.getDate() - 1);
      return { since: before.getTime(), until: today };
    }
    default:
      return {};
  }
}

const OPEN: RunStatus[] = ["queued", "running", "sleeping", "waiting"];

/** What cancelling the selection does, asked before it is done, and whether there is anything to do. One
 * run at a time (rows ticked) or a filter's runs with the status filtered on: a run that has not ended stops,
 * a failed one is marked cancelled (it keeps its error), a completed one stays. All that match without a
 * status filter: only the runs that have not ended (the API's rule, so old failures are cancelled only when
 * the user filters on Failed). `what` names the selection ("3 selected runs"). */
export function cancelWords(what: string, allMatching: boolean, statuses: RunStatus[] = []): { text: string; possible: boolean } {
  const stop = "Runs that have not ended stop before their next step";
  if (!allMatching) return { text: `Cancel ${what}? ${stop}; failed runs are marked cancelled and keep their error; completed runs stay as they are.`, possible: true };
  if (!statuses.length) {
    return { text: `Cancel ${what}? ${stop}; failed and completed runs stay as they are (to cancel failed runs, choose the status “Failed” first).`, possible: true };
  }
  const failed = statuses.includes("failed");
  const open = statuses.some((s) => OPEN.includes(s));
  if (!failed && !open) return { text: "Completed and cancelled runs stay as they are: there is nothing to cancel.", possible: false };
  const parts = [
    ...(open ? [stop] : []),
    ...(failed ? ["failed runs are marked cancelled and keep their error, so they no longer count as failed; you can still rerun them"] : []),
  ];
  const sentence = parts.join("; ");
  return { text: `Cancel ${what}? ${sentence[0].toUpperCase()}${sentence.slice(1)}.`, possible: true };
}

/** An operation's progress in words: "Cancelling runs: 3 of 10 done", "Replayed 10 runs (1 could not be)". */
export function progressText(operation: Operation): string {
  const noun = (n: number) => `${n} run${n === 1 ? "" : "s"}`;
  const failed = operation.failed ? ` (${operation.failed} could not be)` : "";
  if (operation.state === "completed") {
    const verb = operation.kind === "cancel" ? "Cancelled" : "Replayed";
    return operation.done || operation.failed ? `${verb} ${noun(operation.done)}${failed}.` : "No run matched: nothing to do.";
  }
  const verb = operation.kind === "cancel" ? "Cancelling" : "Replaying";
  const left = Math.max(0, operation.matched - operation.done - operation.failed);
  return `${verb}: ${noun(left)} to go, ${operation.done} done${failed}.`;
}

/** What an event carried, for reading: its data (the name and the time are shown apart, in words). */
export function payloadText(event: JsonObject): string {
  return JSON.stringify(event.data ?? {}, null, 2);
}

/** When an event says it was sent (its `ts`, epoch milliseconds), if it says so. */
export function sentAt(event: JsonObject): number | null {
  return typeof event.ts === "number" && Number.isFinite(event.ts) ? event.ts : null;
}
