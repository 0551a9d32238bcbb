// A run's actions as the run view shows them. The engine records each iteration's steps as actions of
// the run named by the iteration (`each[1]/reserve`, nested `outer[0]/inner[2]/x`); here they are put
// back under their loop, as "Item 2" (for each) or "Round 3" (repeat until), and a failure the workflow
// handled (an "on failure" connection, or "Continue if this step fails") reads as such, not as a failure
// of the run. None of those ids is ever shown.

import { everyAction, isLoop } from "./scopes";
import { FOR_EACH, TERMINAL, type ActionRecord, type ActionStatus, type RunStatus, type Workflow } from "./types";

export interface StepEntry {
  /** The record's id (the key to select it). */
  key: string;
  /** The action's id in the workflow. */
  action: string;
  record: ActionRecord;
  /** A loop's iterations, in order. */
  iterations?: IterationEntry[];
}

export interface IterationEntry {
  /** 0-based. */
  index: number;
  /** "Item 2", "Round 3". */
  label: string;
  steps: StepEntry[];
}

/** A record id's loop iterations and action: `outer[0]/inner[2]/x` -> [[outer, 0], [inner, 2]], x. */
export function parseRecordId(id: string, loops: Set<string>): { path: Array<{ loop: string; index: number }>; action: string } {
  const path: Array<{ loop: string; index: number }> = [];
  let rest = id;
  const sorted = [...loops].sort((a, b) => b.length - a.length); // the longest loop id that prefixes it
  for (;;) {
    const loop = sorted.find((l) => rest.startsWith(`${l}[`));
    const found = loop ? /^\[(\d+)\]\//.exec(rest.slice(loop.length)) : null;
    if (!loop || !found) return { path, action: rest };
    path.push({ loop, index: Number(found[1]) });
    rest = rest.slice(loop.length + found[0].length);
  }
}

/** "Item 2" or "Round 2" (numbered from 1, as people count). */
export function iterationLabel(kind: string, index: number): string {
  return `${kind === FOR_EACH ? "Item" : "Round"} ${index + 1}`;
}

/** The run's records as a tree: the workflow's own steps, each loop with its iterations and their steps. */
export function runTree(records: ActionRecord[], workflow: Workflow): StepEntry[] {
  const kinds = new Map(everyAction(workflow).filter((f) => isLoop(f.action)).map((f) => [f.action.id, f.action.kind]));
  const loops = new Set(kinds.keys());
  const parsed = records.map((record) => ({ record, ...parseRecordId(record.id, loops) }));
  const key = (path: Array<{ loop: string; index: number }>) => path.map((p) => `${p.loop}[${p.index}]`).join("/");
  const build = (prefix: Array<{ loop: string; index: number }>): StepEntry[] => {
    const here = key(prefix);
    return parsed
      .filter((p) => p.path.length === prefix.length && key(p.path) === here)
      .map((p) => {
        const entry: StepEntry = { key: p.record.id, action: p.action, record: p.record };
        if (loops.has(p.action)) {
          const indexes = new Set(
            parsed
              .filter((q) => q.path.length > prefix.length && key(q.path.slice(0, prefix.length)) === here && q.path[prefix.length].loop === p.action)
              .map((q) => q.path[prefix.length].index),
          );
          entry.iterations = [...indexes]
            .sort((a, b) => a - b)
            .map((index) => ({ index, label: iterationLabel(kinds.get(p.action) ?? FOR_EACH, index), steps: build([...prefix, { loop: p.action, index }]) }));
        }
        return entry;
      });
  };
  return build([]);
}

/** A failure the workflow handled: the step failed (after its retries), its output is the error, and the
 * run went on. */
export function isHandled(record: ActionRecord): boolean {
  const output = record.output;
  return record.status === "failed" && !!output && typeof output === "object" && !Array.isArray(output) && "error" in output;
}

const ACTIVE: ActionStatus[] = ["running", "retrying", "sleeping", "waiting", "pending"];

export const HANDLED = "Failed — handled";
/** On a run that ended: a step it never reached. */
export const NOT_RUN = "Not run";
/** On a run that ended: a step that was still under way (running, sleeping, waiting) when it ended. */
export const STOPPED = "Stopped";

/** The run has ended (completed, failed or cancelled): what has not happened yet never will. */
export function ended(runStatus: RunStatus | undefined): boolean {
  return !!runStatus && TERMINAL.includes(runStatus);
}

/** A record's status in words for its pill: "completed", "Failed — handled"; on a run that ended, a step
 * that never ran is "Not run" (not "pending") and one cut short is "Stopped". */
export function statusWords(record: ActionRecord, runStatus?: RunStatus): string {
  if (isHandled(record)) return HANDLED;
  if (ended(runStatus) && record.status === "pending") return NOT_RUN;
  if (ended(runStatus) && ACTIVE.includes(record.status)) return STOPPED;
  return record.status;
}

/** The pill's class for those words (its colour). */
export function statusTone(record: ActionRecord, runStatus?: RunStatus): string {
  const words = statusWords(record, runStatus);
  return words === HANDLED ? "handled" : words === NOT_RUN ? "notrun" : words === STOPPED ? "stopped" : record.status;
}

/** What the canvas shows on each node of a run: a status per action id (a step inside a loop: the one
 * that matters most across its iterations), and words where the status alone would mislead. */
export function canvasStatuses(records: ActionRecord[], workflow: Workflow, runStatus?: RunStatus): { statuses: Record<string, ActionStatus>; texts: Record<string, string>; handled: Record<string, boolean> } {
  const statuses: Record<string, ActionStatus> = {};
  const texts: Record<string, string> = {};
  const handled: Record<string, boolean> = {};
  const kinds = new Map(everyAction(workflow).map((f) => [f.action.id, f.action.kind]));
  const loops = new Set([...kinds].filter(([, kind]) => isLoop({ id: "", kind })).map(([id]) => id));
  const byAction = new Map<string, ActionRecord[]>();
  for (const record of records) {
    const { path, action } = parseRecordId(record.id, loops);
    byAction.set(action, [...(byAction.get(action) ?? []), record]);
    if (path.length === 0) {
      statuses[action] = record.status;
      if (isHandled(record)) {
        texts[action] = HANDLED;
        handled[action] = true;
      } else if (statusWords(record, runStatus) !== record.status) texts[action] = statusWords(record, runStatus);
    }
  }
  // a loop: how many items (or rounds) it went through
  for (const [action, found] of byAction) {
    const own = found.find((r) => r.id === action);
    if (!own || !loops.has(action) || texts[action]) continue;
    const count = new Set(records.map((r) => new RegExp(`^${escape(action)}\\[(\\d+)\\]/`).exec(r.id)?.[1]).filter(Boolean)).size;
    const unit = kinds.get(action) === FOR_EACH ? (count === 1 ? "item" : "items") : count === 1 ? "round" : "rounds";
    if (count) texts[action] = `${own.status}, ${count} ${unit}`;
  }
  for (const [action, found] of byAction) {
    if (found.every((r) => r.id === action)) continue; // the workflow's own step: done above
    const active = found.find((r) => ACTIVE.includes(r.status));
    const failed = found.filter((r) => r.status === "failed" && !isHandled(r)).length;
    const handledCount = found.filter(isHandled).length;
    const done = found.filter((r) => r.status === "completed").length;
    const skipped = found.filter((r) => r.status === "skipped").length;
    statuses[action] = active ? active.status : failed ? "failed" : handledCount ? "failed" : done ? "completed" : "skipped";
    const parts = [done ? `${done} done` : "", handledCount ? `${handledCount} failed — handled` : "", failed ? `${failed} failed` : "", skipped ? `${skipped} skipped` : ""].filter(Boolean);
    texts[action] = active ? (ended(runStatus) ? statusWords(active, runStatus) : active.status) : parts.join(", ");
    if (handledCount && !failed && !active) handled[action] = true;
  }
  return { statuses, texts, handled };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
