import { useCallback, useEffect, useState } from "react";
import type { Api } from "../api";
import { dayAndTime, durationWords, fullTime } from "../time";
import { TERMINAL, type Run } from "../types";
import { RunCharts } from "./RunCharts";

/** A moment in the user's time zone: "Today 14:03:12" (the full date: `fullTime`, for a tooltip). */
export function formatTime(ms: number | null | undefined): string {
  return dayAndTime(ms);
}

export function RunsPanel({ api, workflowId, onOpen, onTest, testing }: {
  api: Api;
  /** None for a new workflow not stored yet: no runs; a test run saves it first. */
  workflowId?: string;
  onOpen: (runId: string) => void;
  onTest: () => void;
  testing: boolean;
}) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    if (!workflowId) return;
    await api.runs(workflowId).then(
      (found) => {
        setRuns(found);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [api, workflowId]);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 2000);
    return () => clearInterval(timer);
  }, [load]);
  return (
    <div aria-label="Runs">
      <div className="wk-section" style={{ display: "flex", gap: 8 }}>
        <button type="button" className="wk-button primary" onClick={onTest} disabled={testing}>
          {testing ? "Starting…" : "Test run"}
        </button>
        <button type="button" className="wk-button" onClick={() => void load()}>Refresh</button>
      </div>
      {workflowId && <RunCharts api={api} workflowId={workflowId} />}
      {!workflowId && <div className="wk-help">No runs yet: a test run saves the workflow first.</div>}
      {error && <div className="wk-problems">{error}</div>}
      {runs && runs.length === 0 && <div className="wk-help">No runs yet. Send an event, or start a test run.</div>}
      <ul className="wk-list" aria-label="Runs of this workflow">
        {runs?.map((run) => (
          <li key={run.id}>
            <button
              type="button"
              className="wk-row"
              onClick={() => onOpen(run.id)}
              title={fullTime(run.created_at)}
              aria-label={`Run started ${formatTime(run.created_at)}, ${run.version ? `version ${run.version}` : "test run"}, ${run.status}`}
            >
              <span className={`wk-status-pill ${run.status}`}>{run.status}</span>
              <span style={{ flex: 1 }}>
                {formatTime(run.created_at)}
                <span className="wk-help">
                  {" "}
                  · {run.version ? `v${run.version}` : "Test run"}
                  {run.ended_at ? ` · ${durationWords(run.ended_at - (run.started_at ?? run.created_at))}` : ""}
                </span>
              </span>
              {!TERMINAL.includes(run.status) && <span aria-hidden="true">…</span>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
