import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Api } from "../api";
import {
  bulkFilter,
  cancelWords,
  duration,
  progressText,
  statusWords,
  TIME_RANGES,
  timeRange,
  type Operation,
  type RunFilter,
  type TimeRange,
} from "../history";
import { dayAndTime, fullTime, timeAgo } from "../time";
import type { Run, RunStatus, WorkflowRecord } from "../types";
import { useCursorPages } from "./useCursorPages";

const STATUSES: RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];
const POLL_MS = 500;

type Action = "cancel" | "replay";

/** Every run of the tenant: filters, "Load more", selection of rows or of all that match, and cancel or
 * replay of the selection (asked first, then followed until done). */
export function RunsPage({ api, onOpenRun, onBack }: { api: Api; onOpenRun: (run: Run) => void; onBack: () => void }) {
  const [workflows, setWorkflows] = useState<WorkflowRecord[]>([]);
  const [workflowId, setWorkflowId] = useState("");
  const [status, setStatus] = useState<RunStatus | "">("");
  const [range, setRange] = useState<TimeRange>("any");
  const [test, setTest] = useState<"" | "yes" | "no">("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [asking, setAsking] = useState<Action | null>(null);
  const [operation, setOperation] = useState<Operation | null>(null);
  const [working, setWorking] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stopped = useRef(false);

  const filter = useMemo<RunFilter>(() => {
    const { since, until } = timeRange(range);
    return {
      ...(workflowId ? { workflowId } : {}),
      ...(status ? { statuses: [status] } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(test ? { test: test === "yes" } : {}),
    };
  }, [workflowId, status, range, test]);

  const fetchPage = useCallback((cursor?: string) => api.runPage(filter, cursor), [api, filter]);
  const { items: runs, hasMore, more, reload: load } = useCursorPages(fetchPage, setError);

  useEffect(() => {
    api.workflows().then(setWorkflows, (e: Error) => setError(e.message));
  }, [api]);
  /** A filter changed: what was selected under the old one is not what the user sees any more. */
  const refilter = <T,>(set: (value: T) => void) => (value: T) => {
    setSelected(new Set());
    setAllMatching(false);
    set(value);
  };
  useEffect(
    () => () => {
      stopped.current = true;
    },
    [],
  );

  const names = useMemo(() => new Map(workflows.map((w) => [w.id, w.name])), [workflows]);
  const toggle = (id: string) => {
    setAllMatching(false);
    setSelected((now) => {
      const next = new Set(now);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };
  const count = allMatching ? null : selected.size;
  const what = allMatching ? "all the runs that match the filters" : `${selected.size} selected run${selected.size === 1 ? "" : "s"}`;
  const cancelling = cancelWords(what, allMatching, filter.statuses);

  const follow = async (started: Operation) => {
    let current = started;
    setOperation(current);
    while (current.state !== "completed" && !stopped.current) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      current = await api.operation(current.id);
      setOperation(current);
      void load();
    }
    void load();
  };

  const act = async (action: Action) => {
    setAsking(null);
    setError(null);
    setOperation(null);
    try {
      if (allMatching) {
        const body = { ...bulkFilter(filter), ...(action === "replay" ? { version: "latest" as const } : {}) };
        await follow(await api.bulk(action, body));
      } else {
        const ids = [...selected];
        let done = 0;
        for (const id of ids) {
          setWorking(`${action === "cancel" ? "Cancelling" : "Replaying"}: ${ids.length - done} to go, ${done} done.`);
          if (action === "cancel") await api.cancel(id);
          else await api.rerun(id, false);
          done += 1;
        }
        setWorking(`${action === "cancel" ? "Cancelled" : "Replayed"} ${done} run${done === 1 ? "" : "s"}.`);
        void load();
      }
      setSelected(new Set());
      setAllMatching(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <main className="wk-home wk-history" aria-label="All runs">
      <div className="wk-history-head">
        <button type="button" className="wk-link" onClick={onBack}>← Workflows</button>
        <h1>Runs</h1>
      </div>
      <form className="wk-filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="wk-filter">
          <label htmlFor="wk-runs-workflow">Workflow</label>
          <select id="wk-runs-workflow" value={workflowId} onChange={(e) => refilter(setWorkflowId)(e.target.value)}>
            <option value="">All workflows</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>{w.name}</option>
            ))}
          </select>
        </div>
        <div className="wk-filter">
          <label htmlFor="wk-runs-status">Status</label>
          <select id="wk-runs-status" value={status} onChange={(e) => refilter(setStatus)(e.target.value as RunStatus | "")}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>{statusWords(s)}</option>
            ))}
          </select>
        </div>
        <div className="wk-filter">
          <label htmlFor="wk-runs-started">Started</label>
          <select id="wk-runs-started" value={range} onChange={(e) => refilter(setRange)(e.target.value as TimeRange)}>
            {TIME_RANGES.map(([value, label]) => (
              <option key={value} value={value}>{label}</option>
            ))}
          </select>
        </div>
        <div className="wk-filter">
          <label htmlFor="wk-runs-test">Test runs</label>
          <select id="wk-runs-test" value={test} onChange={(e) => refilter(setTest)(e.target.value as "" | "yes" | "no")}>
            <option value="">Included</option>
            <option value="no">Left out</option>
            <option value="yes">Only test runs</option>
          </select>
        </div>
      </form>
      <div className="wk-selection" role="group" aria-label="Selected runs">
        <button
          type="button"
          className="wk-button"
          aria-pressed={allMatching}
          disabled={!runs?.length}
          onClick={() => {
            setSelected(new Set());
            setAllMatching(!allMatching);
          }}
        >
          {allMatching ? "Unselect all" : "Select all that match"}
        </button>
        <span className="wk-help" role="status">
          {allMatching ? "All the runs that match the filters are selected." : count ? `${count} selected.` : "Select runs to cancel or replay them."}
        </span>
        <button type="button" className="wk-button danger" disabled={!allMatching && !selected.size} onClick={() => setAsking("cancel")}>
          Cancel runs…
        </button>
        <button type="button" className="wk-button" disabled={!allMatching && !selected.size} onClick={() => setAsking("replay")}>
          Replay runs…
        </button>
      </div>
      {asking && (
        <div className="wk-confirm wk-banner info" role="alertdialog" aria-label={asking === "cancel" ? "Cancel these runs?" : "Replay these runs?"}>
          <span>{asking === "cancel" ? cancelling.text : `Replay ${what}? Each gets a new run with the same event, on the latest published version.`}</span>
          {(asking === "replay" || cancelling.possible) && (
            <button type="button" className={`wk-button ${asking === "cancel" ? "danger" : "primary"}`} onClick={() => void act(asking)}>
              {asking === "cancel" ? "Yes, cancel them" : "Yes, replay them"}
            </button>
          )}
          <button type="button" className="wk-button" onClick={() => setAsking(null)}>{asking === "cancel" && !cancelling.possible ? "OK" : "No"}</button>
        </div>
      )}
      {operation && (
        <div className="wk-banner info" role="status" aria-label="Progress">
          {progressText(operation)}
          {operation.state === "running" && <progress max={Math.max(operation.matched, 1)} value={operation.done + operation.failed} />}
        </div>
      )}
      {working && !operation && <div className="wk-banner info" role="status" aria-label="Progress">{working}</div>}
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      {runs && runs.length === 0 && <p className="wk-help">No runs match these filters.</p>}
      {runs && runs.length > 0 && (
        <table className="wk-table" aria-label="Runs">
          <thead>
            <tr>
              <th><span className="wk-visually-hidden">Selected</span></th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => {
              const name = names.get(run.workflow_id) ?? "A deleted workflow";
              const started = run.started_at ?? run.created_at;
              return (
                <tr key={run.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select the run of ${name} from ${fullTime(started)}`}
                      checked={allMatching || selected.has(run.id)}
                      disabled={allMatching}
                      onChange={() => toggle(run.id)}
                    />
                  </td>
                  <td>
                    <button type="button" className="wk-link" onClick={() => onOpenRun(run)}>{name}</button>
                    {run.version === null && <span className="wk-badge warn"> Test</span>}
                  </td>
                  <td><span className={`wk-status-pill ${run.status}`}>{statusWords(run.status)}</span></td>
                  <td title={fullTime(started)}>{dayAndTime(started)} <span className="wk-help">({timeAgo(started)})</span></td>
                  <td>{duration(run)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {hasMore && (
        <button type="button" className="wk-button" onClick={() => void more()}>Load more</button>
      )}
    </main>
  );
}
