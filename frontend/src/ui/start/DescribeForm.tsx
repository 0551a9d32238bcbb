// "Describe what should happen": the user's words, sent to the host's AI model for a draft to review.

import { useId, useState } from "react";
import { ApiError } from "../../api";
import type { DraftProposal } from "../../types";

export interface DescribeFormProps {
  label: string;
  placeholder: string;
  submit: string;
  ask: (words: string) => Promise<DraftProposal>;
  onProposal: (proposal: DraftProposal) => void;
}

/** What an error from drafting says to the user. */
export function draftErrorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 429) return "Too many drafts asked for in a minute: wait a little and try again.";
  if (error instanceof ApiError && error.code === "ai_not_configured") return "Describing in words is not available here.";
  if (error instanceof ApiError && error.status === 502) return "The AI model could not draft it this time: try again, or say it differently.";
  return (error as Error).message;
}

export function DescribeForm({ label, placeholder, submit, ask, onProposal }: DescribeFormProps) {
  const id = useId();
  const [words, setWords] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="wk-describe"
      onSubmit={(event) => {
        event.preventDefault();
        if (!words.trim() || busy) return;
        setBusy(true);
        setError(null);
        ask(words.trim()).then(
          (proposal) => {
            setBusy(false);
            onProposal(proposal);
          },
          (e: unknown) => {
            setBusy(false);
            setError(draftErrorText(e));
          },
        );
      }}
    >
      <div className="wk-field">
        <label htmlFor={id}>{label}</label>
        <textarea id={id} rows={3} maxLength={4000} value={words} placeholder={placeholder} onChange={(e) => setWords(e.target.value)} />
      </div>
      <button type="submit" className="wk-button primary" disabled={busy || !words.trim()}>{busy ? "Drafting…" : submit}</button>
      {busy && <span className="wk-help" role="status"> The AI model is drafting: this takes a few seconds.</span>}
      {error && <div className="wk-banner error" role="alert">{error}</div>}
    </form>
  );
}
