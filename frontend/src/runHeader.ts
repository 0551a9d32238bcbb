// The run view's header in words: which workflow and version ran, its status as a sentence, what started it,
// and the reruns that make sense for its status. Pure functions of the run.

import { triggerLabel } from "./cron";
import { durationWords } from "./time";
import type { ActionRecord, Run, RunError, Trigger } from "./types";
import { suspendedWords, type Now } from "./waterfall";

/** The header's subtitle: "Version 3", or "Test run of the draft" (a run of no published version). */
export function versionWords(run: Run): string {
  return run.version ? `Version ${run.version}` : "Test run of the draft";
}

/** How long the run took (or has been going, for one still going). */
export function runDuration(run: Run, now: number): number {
  const start = run.started_at ?? run.created_at;
  return Math.max(0, (run.ended_at ?? now) - start);
}

/** The failure of a run that was cancelled after it failed (an operator dismissed it), or null. */
export function dismissedFailure(run: Run): RunError | null {
  const cause = run.status === "cancelled" ? run.error?.cause : null;
  return cause && typeof cause.message === "string" ? cause : null;
}

/** The step that failed (not one whose failure an error branch handled), of a failed or dismissed run. */
function failedStep(run: Run): ActionRecord | undefined {
  return (run.actions ?? []).find((r) => r.status === "failed" && !(r.output && typeof r.output === "object" && !Array.isArray(r.output) && "error" in r.output));
}

/** The status as a sentence: "Completed in 2.3 s", "Sleeping until 14:05", "Waiting for
 * blog-post.approved until tomorrow 09:00", "Failed at “Send email”", "Failed at “Send email” after 2 s, then
 * cancelled" (dismissed). `titleOf` names a record. */
export function statusSentence(run: Run, titleOf: (recordId: string) => string, now: Now): string {
  const took = durationWords(runDuration(run, now.now));
  const records = run.actions ?? [];
  switch (run.status) {
    case "queued":
      return "Waiting to start";
    case "completed":
      return `Completed in ${took}`;
    case "cancelled":
    case "failed": {
      if (run.status === "cancelled" && !dismissedFailure(run)) return `Cancelled after ${took}`;
      const failed = failedStep(run);
      const then = run.status === "cancelled" ? ", then cancelled" : "";
      return failed ? `Failed at “${titleOf(failed.id)}” after ${took}${then}` : `Failed after ${took}${then}`;
    }
    case "sleeping":
    case "waiting": {
      for (const record of records) {
        for (const step of record.steps ?? []) {
          const words = suspendedWords(step, now);
          if (words && (step.status === "sleeping" || step.status === "waiting")) return words[0].toUpperCase() + words.slice(1);
        }
      }
      return run.status === "sleeping" ? "Sleeping" : "Waiting";
    }
    default: {
      const current = records.find((r) => r.status === "running" || r.status === "retrying");
      return current ? `Running “${titleOf(current.id)}”` : "Running";
    }
  }
}

/** What started the run: "the event “blog-post.published”", "the schedule “Every day at 09:00 (UTC)”",
 * "a test run from the editor", "another workflow". */
export function triggerWords(run: Run): string {
  const trigger = run.trigger as Trigger | null | undefined;
  const eventName = typeof run.event.name === "string" ? run.event.name : null;
  if (trigger && trigger.cron) return `the schedule “${triggerLabel(trigger)}”`;
  if (run.parent_run_id) return "another workflow";
  if (!trigger && !run.version) return eventName ? `a test run with a sample “${eventName}” event` : "a test run";
  return eventName ? `the event “${eventName}”` : "an event";
}

export interface RerunChoice {
  fromFailedStep: boolean;
  label: string;
  /** What it does, for a tooltip. */
  help: string;
}

/** The reruns that match the status (`kit.runs.rerun`): a failed run (cancelled afterwards or not) resumes
 * at its failed step or starts again; a cancelled or completed one starts again; a run still going offers none. */
export function rerunChoices(run: Run): RerunChoice[] {
  const again: RerunChoice = {
    fromFailedStep: false,
    label: "Run again from the start",
    help: "A new run with the same event, from the first step, on the latest published version",
  };
  if (run.status === "failed" || dismissedFailure(run)) {
    return [
      { fromFailedStep: true, label: "Rerun from the failed step", help: "A new run of the same version that keeps the steps that completed and starts at the one that failed" },
      again,
    ];
  }
  if (run.status === "completed" || run.status === "cancelled") return [again];
  return [];
}
