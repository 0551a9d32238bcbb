// "Start from scratch": a new workflow's name and what starts it (an event, or a schedule). The record is
// created at once, empty, and opens in the editor.

import { useId, useState } from "react";
import { ApiError } from "../../api";
import type { Trigger } from "../../types";

export interface ScratchFormProps {
  /** Create the workflow and open it; a refusal (an ApiError with problems) is shown in the form. */
  onCreate: (name: string, trigger: Trigger) => Promise<void>;
}

/** What is missing before a workflow can be made from scratch, in words; null when nothing is. */
export function scratchMissing(name: string, when: string, kind: "event" | "cron"): string | null {
  if (!name.trim()) return "Give the workflow a name.";
  if (!when.trim()) return kind === "cron" ? "Write when it runs, e.g. 0 9 * * 1-5." : "Name the event that starts it, e.g. blog-post.updated.";
  return null;
}

export function ScratchForm({ onCreate }: ScratchFormProps) {
  const id = useId();
  const [name, setName] = useState("");
  const [when, setWhen] = useState("");
  const [kind, setKind] = useState<"event" | "cron">("event");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async () => {
    const missing = scratchMissing(name, when, kind);
    setProblem(missing);
    if (missing) return;
    setBusy(true);
    try {
      await onCreate(name.trim(), kind === "cron" ? { cron: when.trim() } : { event: when.trim() });
    } catch (e) {
      setProblem(e instanceof ApiError && e.problems.length ? e.problems.map((p) => p.message).join("; ") : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="wk-scratch"
      noValidate
      aria-label="Start from scratch"
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
    >
      <div className="wk-field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} data-autofocus value={name} onChange={(e) => setName(e.target.value)} required placeholder="When a post is moved to review" />
      </div>
      <div className="wk-field">
        <label htmlFor={`${id}-kind`}>Triggered by</label>
        <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value === "cron" ? "cron" : "event")}>
          <option value="event">an event</option>
          <option value="cron">a schedule (cron)</option>
        </select>
      </div>
      <div className="wk-field">
        <label htmlFor={`${id}-when`}>{kind === "cron" ? "Schedule" : "Triggered by the event"}</label>
        <input
          id={`${id}-when`}
          value={when}
          onChange={(e) => setWhen(e.target.value)}
          required
          placeholder={kind === "cron" ? "TZ=Europe/Paris 0 9 * * 1-5" : "blog-post.updated"}
        />
      </div>
      {problem && <div className="wk-problems" role="alert">{problem}</div>}
      <button type="submit" className="wk-button primary" disabled={busy}>
        {busy ? "Creating…" : "Create"}
      </button>
    </form>
  );
}
