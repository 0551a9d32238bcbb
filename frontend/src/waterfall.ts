// The run view's waterfall, laid out from a run: one bar per step (and per sub-step of a handler's
// `ctx.step` calls, and per loop iteration under its loop) on one time axis shared by all, each bar made of
// segments: the attempts (a failed one marked), the backoff between a failed attempt and the next, sleeps
// and waits, and what is still going on. Positions are percentages of the axis; every bar and segment
// carries its words ("sleeping until 14:05", "waiting for blog-post.approved until tomorrow 09:00").
//
// The engine records a sub-step's attempts, and a sleep's or a wait's end only while it lasts (`wake_at`;
// a wait also its start, `wait.registered_at`): a sleep that is over is drawn from the end of the step
// before it to the start of the next (or the end of its action), which is when the handler went on.

import { humanize } from "./forms";
import { ended, NOT_RUN, statusTone, statusWords, STOPPED, type StepEntry } from "./runs";
import { durationWords, momentWords, type Clock } from "./time";
import type { ActionRecord, Attempt, Run, StepRecord } from "./types";

export type SegmentKind = "attempt" | "failed" | "backoff" | "sleep" | "wait" | "running";

export interface Segment {
  kind: SegmentKind;
  start: number;
  /** Where it is drawn to: the end, or the axis' end when it goes on past it. */
  end: number;
  /** Still going on past the end of the axis (or not over yet). */
  open: boolean;
  /** Percent of the axis. */
  left: number;
  width: number;
  words: string;
}

export interface Bar {
  /** Unique in the waterfall: the record id, with `#N` for its N-th sub-step. */
  key: string;
  /** The record it belongs to (what selecting it selects). */
  record: string;
  /** The sub-step's index in its record, for a sub-step's bar. */
  step: number | null;
  title: string;
  /** The status in words ("completed", "Failed — handled", "Not run") and its pill's class. */
  status: string;
  tone: string;
  start: number | null;
  end: number | null;
  left: number;
  width: number;
  segments: Segment[];
  /** What happened, in a few words: "1.2 s", "sleeping until 14:05", "failed after 3 attempts". */
  words: string;
  /** A handler's sub-steps (a builtin's one sleep or wait is drawn on the step's own bar instead). */
  steps: Bar[];
  /** A loop's iterations, each with its steps' bars. */
  iterations: Array<{ index: number; label: string; bars: Bar[] }>;
}

export interface Tick {
  left: number;
  words: string;
}

export interface Waterfall {
  start: number;
  end: number;
  ticks: Tick[];
  bars: Bar[];
}

/** What the words need: the time zone and the present (`now` is required: a running run grows with it). */
export type Now = Clock & { now: number };

/** The kinds of sub-step that pause the handler (drawn as sleeps or waits). */
const PAUSES = ["sleep", "sleep_until", "wait_for_event", "invoke"];

interface Axis {
  start: number;
  end: number;
}

const percent = (axis: Axis, t: number) => Math.min(100, Math.max(0, ((t - axis.start) / (axis.end - axis.start)) * 100));

function segment(axis: Axis, kind: SegmentKind, start: number, end: number, words: string, open = false): Segment {
  const drawnEnd = Math.min(end, axis.end);
  const left = percent(axis, start);
  return { kind, start, end: Math.max(start, drawnEnd), open: open || end > axis.end, left, width: Math.max(0, percent(axis, drawnEnd) - left), words };
}

/** A sub-step's title: its id as words, the N-th repeat of an id numbered ("Charge card (2)"). */
export function stepTitle(step: StepRecord): string {
  const [id, repeat] = step.key.split(/:(?=\d+$)/);
  return repeat ? `${humanize(id)} (${Number(repeat) + 1})` : humanize(id);
}

/** The attempts as segments, each failed one followed by its backoff up to the next attempt (or, while
 * retrying, up to when the next one may start). */
function attemptSegments(axis: Axis, attempts: Attempt[], retryAt: number | null, now: Now): Segment[] {
  const out: Segment[] = [];
  attempts.forEach((attempt, i) => {
    const took = durationWords(attempt.ended_at - attempt.started_at);
    const failed = !!attempt.error;
    out.push(segment(axis, failed ? "failed" : "attempt", attempt.started_at, attempt.ended_at, `attempt ${i + 1}: ${failed ? `failed after ${took}` : took}`));
    const next = attempts[i + 1];
    if (failed && next) out.push(segment(axis, "backoff", attempt.ended_at, next.started_at, `waited ${durationWords(next.started_at - attempt.ended_at)} before retrying`));
  });
  const last = attempts[attempts.length - 1];
  if (retryAt !== null && last) out.push(segment(axis, "backoff", last.ended_at, Math.max(last.ended_at, retryAt), `retrying at ${momentWords(retryAt, now)}`, retryAt > now.now));
  return out;
}

/** "sleeping until 14:05", "waiting for blog-post.approved until tomorrow 09:00": a sub-step that is
 * suspended, in words; null for one that is not. */
export function suspendedWords(step: StepRecord, now: Now): string | null {
  const until = step.wake_at ? ` until ${momentWords(step.wake_at, now)}` : "";
  if (step.status === "sleeping") return `sleeping${until}`;
  if (step.status === "waiting" && step.wait) return `waiting for ${step.wait.event}${until}`;
  if (step.status === "waiting" && step.invoke) return `waiting for the workflow it started${until}`;
  if (step.status === "waiting") return `waiting${until}`;
  if (step.status === "retrying" && step.wake_at) return `retrying at ${momentWords(step.wake_at, now)}`;
  return null;
}

/** A sub-step's bar: `from` is when the handler got to it (the end of the step before), `next` when it went
 * on after it (the start of the step after, or the end of the action), when known. */
function stepBar(axis: Axis, record: ActionRecord, index: number, from: number, next: number | null, runEnded: boolean, now: Now): Bar {
  const step = record.steps?.[index] as StepRecord;
  const attempts = step.attempts ?? [];
  const segments: Segment[] = [];
  let start = attempts[0]?.started_at ?? from;
  let end: number | null = attempts.length ? attempts[attempts.length - 1].ended_at : null;
  let words = suspendedWords(step, now);
  const still = !runEnded && (step.status === "sleeping" || step.status === "waiting");
  if (PAUSES.includes(step.kind)) {
    const waits = step.kind === "wait_for_event" || step.kind === "invoke";
    if (step.wait?.registered_at) start = step.wait.registered_at;
    end = still ? null : step.status === "completed" ? (next ?? start) : null;
    const drawnTo = end ?? (runEnded ? (next ?? axis.end) : now.now);
    if (words === null) {
      const took = durationWords(drawnTo - start);
      if (step.status === "failed") words = step.kind === "invoke" ? "the workflow it started did not finish in time" : "failed";
      else if (step.kind === "wait_for_event") words = step.output === null || step.output === undefined ? `timed out waiting for ${step.wait?.event ?? "an event"}` : `received ${step.wait?.event ?? "the event"} after ${took}`;
      else if (step.kind === "invoke") words = `ran another workflow (${took})`;
      else words = `slept ${took}`;
    }
    if (runEnded && (step.status === "sleeping" || step.status === "waiting")) words = `stopped while ${words}`;
    segments.push(segment(axis, waits ? "wait" : "sleep", start, drawnTo, words, still));
  } else {
    segments.push(...attemptSegments(axis, attempts, step.status === "retrying" ? (step.wake_at ?? null) : null, now));
    if (step.status === "running" && !runEnded) {
      const since = end ?? start;
      segments.push(segment(axis, "running", since, now.now, `running for ${durationWords(now.now - since)}`, true));
    }
    if (words === null) {
      const took = end !== null ? durationWords(end - start) : "";
      words = step.status === "failed" ? `failed after ${attempts.length} ${attempts.length === 1 ? "attempt" : "attempts"}` : attempts.length > 1 ? `${took} · ${attempts.length} attempts` : took || step.status;
    }
  }
  const drawnEnd = end ?? Math.max(start, ...segments.map((s) => s.end));
  const left = percent(axis, start);
  const status = runEnded && (step.status === "sleeping" || step.status === "waiting" || step.status === "running" || step.status === "retrying") ? STOPPED : step.status;
  return {
    key: `${record.id}#${index}`,
    record: record.id,
    step: index,
    title: stepTitle(step),
    status,
    tone: status === STOPPED ? "stopped" : step.status,
    start,
    end,
    left,
    width: Math.max(0, percent(axis, drawnEnd) - left),
    segments,
    words,
    steps: [],
    iterations: [],
  };
}

/** When a record started: its own start, or its first attempt's (null: it never started). */
function recordStart(record: ActionRecord): number | null {
  return record.started_at ?? record.attempts?.[0]?.started_at ?? null;
}

/** The bars of a record's sub-steps, in call order, each from the end of the one before. */
function stepBars(axis: Axis, record: ActionRecord, runEnded: boolean, now: Now): Bar[] {
  const steps = record.steps ?? [];
  const bars: Bar[] = [];
  let cursor = recordStart(record) ?? axis.start;
  steps.forEach((_step, index) => {
    const following = steps[index + 1];
    const nextStart = following?.attempts?.[0]?.started_at ?? following?.wait?.registered_at ?? null;
    // after the last sub-step, the handler went on in its last attempt (it ran again after a sleep)
    const lastAttempt = record.attempts?.[record.attempts.length - 1]?.started_at ?? null;
    const next = following ? nextStart : lastAttempt !== null && lastAttempt >= cursor ? lastAttempt : (record.ended_at ?? null);
    const bar = stepBar(axis, record, index, cursor, next, runEnded, now);
    bars.push(bar);
    cursor = bar.end ?? cursor;
  });
  return bars;
}

/** A step's bar, with its sub-steps (or its only sub-step's segments on its own bar). */
function actionBar(axis: Axis, entry: StepEntry, title: string, runStatus: Run["status"], now: Now): Bar {
  const record = entry.record;
  const runEnded = ended(runStatus);
  const steps = stepBars(axis, record, runEnded, now);
  const attempts = record.attempts ?? [];
  const start = recordStart(record) ?? steps[0]?.start ?? null;
  const finished = record.status === "completed" || record.status === "failed" || record.status === "skipped";
  const end = finished ? (record.ended_at ?? attempts[attempts.length - 1]?.ended_at ?? start) : null;
  const segments: Segment[] = attemptSegments(axis, attempts, record.status === "retrying" && (record.steps ?? []).every((s) => s.status !== "retrying") ? (record.wake_at ?? null) : null, now);
  // a builtin that only sleeps or waits (one sub-step doing it): drawn on its own bar
  const single = steps.length === 1 && PAUSES.includes(record.steps?.[0]?.kind ?? "") ? steps[0] : null;
  const drawn = single ? [...single.segments, ...segments] : segments;
  if (start !== null && record.status === "running" && !runEnded && !drawn.some((s) => s.open)) {
    const since = Math.max(start, ...drawn.map((s) => s.end));
    drawn.push(segment(axis, "running", since, now.now, `running for ${durationWords(now.now - since)}`, true));
  }
  const status = statusWords(record, runStatus);
  const words = actionWords(record, status, start, end, steps, now);
  const drawnEnd = end ?? (start === null ? null : Math.max(start, ...drawn.map((s) => s.end), runEnded ? start : Math.min(now.now, axis.end)));
  const left = start === null ? 0 : percent(axis, start);
  return {
    key: record.id,
    record: record.id,
    step: null,
    title,
    status,
    tone: statusTone(record, runStatus),
    start,
    end,
    left,
    width: start === null || drawnEnd === null ? 0 : Math.max(0, percent(axis, drawnEnd) - left),
    segments: drawn.sort((a, b) => a.start - b.start),
    words,
    steps: single ? [] : steps,
    iterations: [],
  };
}

/** A step's bar in words: what it is doing, or how long it took. */
function actionWords(record: ActionRecord, status: string, start: number | null, end: number | null, steps: Bar[], now: Now): string {
  const attempts = record.attempts ?? [];
  const suspended = (record.steps ?? []).map((s) => suspendedWords(s, now)).find((w) => w !== null);
  if (status === NOT_RUN) return NOT_RUN;
  if (status === STOPPED) return suspended ? `stopped while ${suspended}` : STOPPED;
  if (suspended) return suspended;
  if (record.status === "retrying" && record.wake_at) return `attempt ${attempts.length} failed · retrying at ${momentWords(record.wake_at, now)}`;
  if (record.status === "running" && start !== null) return `running for ${durationWords(now.now - start)}`;
  if (record.status === "skipped") return "skipped";
  if (record.status === "pending") return "not started yet";
  const took = start !== null && end !== null ? durationWords(end - start) : "";
  const single = steps.length === 1 && PAUSES.includes(record.steps?.[0]?.kind ?? "") ? steps[0].words : "";
  if (record.status === "failed") return attempts.length > 1 ? `failed after ${attempts.length} attempts (${took})` : took ? `failed after ${took}` : "failed";
  return [single, attempts.length > 1 ? `${took} · ${attempts.length} attempts` : single ? "" : took].filter(Boolean).join(" · ");
}

/** Every time a run's records mention: for the axis. */
function times(records: ActionRecord[]): number[] {
  const found: number[] = [];
  for (const record of records) {
    for (const t of [record.started_at, record.ended_at]) if (t) found.push(t);
    for (const a of record.attempts ?? []) found.push(a.started_at, a.ended_at);
    for (const step of record.steps ?? []) {
      for (const a of step.attempts ?? []) found.push(a.started_at, a.ended_at);
      if (step.wait?.registered_at) found.push(step.wait.registered_at);
    }
  }
  return found;
}

/** Evenly spaced marks on the axis, as offsets from its start ("+1.5 s"; the start itself "0"). */
function ticks(axis: Axis, count = 5): Tick[] {
  return Array.from({ length: count }, (_, i) => {
    const offset = ((axis.end - axis.start) * i) / (count - 1);
    return { left: (i / (count - 1)) * 100, words: i === 0 ? "0" : `+${durationWords(offset)}` };
  });
}

/** The waterfall of a run: `tree` is its records as `runTree` groups them, `titleOf` a step's name (by
 * its action id). The axis goes from the run's start to its end (a run still going: to now). */
export function layoutWaterfall(run: Run, tree: StepEntry[], titleOf: (action: string) => string, now: Now): Waterfall {
  const known = times(run.actions ?? []);
  const start = Math.min(run.started_at ?? run.created_at, run.created_at, ...known);
  const last = ended(run.status) ? Math.max(run.ended_at ?? start, ...known) : Math.max(now.now, ...known);
  const axis: Axis = { start, end: Math.max(last, start + 1) };
  const bars = (entries: StepEntry[]): Bar[] =>
    entries.map((entry) => {
      const bar = actionBar(axis, entry, titleOf(entry.action), run.status, now);
      bar.iterations = (entry.iterations ?? []).map((it) => ({ index: it.index, label: it.label, bars: bars(it.steps) }));
      return bar;
    });
  return { start: axis.start, end: axis.end, ticks: ticks(axis), bars: bars(tree) };
}

/** What a bar says to a screen reader: "Send email: completed, 1.2 s". */
export function barLabel(bar: Bar): string {
  const words = bar.words && bar.words !== bar.status ? `, ${bar.words}` : "";
  return `${bar.title}: ${bar.status}${words}`;
}
