import { useEffect, useMemo, useRef, useState } from "react";
import type { Api } from "../api";
import { toFlow } from "../flow";
import { conditionFields, eventGroup, outputGroup } from "../dataFields";
import { humanize } from "../forms";
import { nodeTitle } from "../names";
import { runErrorText } from "../problemText";
import { nodeSummaries } from "../summaries";
import { canvasStatuses, isHandled, iterationLabel, parseRecordId, runTree, statusWords, type StepEntry } from "../runs";
import { everyAction, findAction, isLoop } from "../scopes";
import { TERMINAL, type ActionDef, type ActionRecord, type Json, type Run, type Trigger, type Workflow } from "../types";
import { Canvas } from "./Canvas";
import { formatTime } from "./RunsPanel";

/** An error as an end user reads it: its message, with steps by name (the exception's class name and
 * the ids are for developers). */
type ErrorText = (error: { message: string }) => string;

function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="wk-pre" aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** A record's status as a pill: its status, or "Failed — handled". */
function StatusPill({ record }: { record: ActionRecord }) {
  const handled = isHandled(record);
  return <span className={`wk-status-pill ${handled ? "handled" : record.status}`}>{statusWords(record)}</span>;
}

function ActionTimeline({ record, title, errorText }: { record: ActionRecord; title: string; errorText: ErrorText }) {
  const attempts = record.attempts ?? [];
  const steps = record.steps ?? [];
  const handled = isHandled(record);
  return (
    <div aria-label={`Timeline of ${title}`}>
      <h3>
        {title} <StatusPill record={record} />
      </h3>
      {handled && <div className="wk-help">This step failed, and the workflow handled it: the run went on.</div>}
      <div className="wk-help">
        started {formatTime(record.started_at)} · ended {formatTime(record.ended_at)}
      </div>
      {record.inputs && (
        <>
          <h4>Inputs</h4>
          <Json value={record.inputs} label="inputs" />
        </>
      )}
      {record.status === "completed" && (
        <>
          <h4>Output</h4>
          <Json value={record.output} label="output" />
        </>
      )}
      {(record.error || handled) && (
        <>
          <h4>Error</h4>
          <div className="wk-problems" role={handled ? undefined : "alert"}>
            {errorText(record.error ?? ((record.output as { error: { message: string } }).error))}
          </div>
        </>
      )}
      {attempts.length > 0 && (
        <>
          <h4>Attempts</h4>
          <ol>
            {attempts.map((a, i) => (
              <li key={i}>
                {formatTime(a.started_at)} ({a.ended_at - a.started_at} ms){a.error ? ` — ${errorText(a.error)}` : " — ok"}
              </li>
            ))}
          </ol>
        </>
      )}
      {steps.length > 0 && (
        <>
          <h4>Steps</h4>
          <ul className="wk-list">
            {steps.map((step) => (
              <li key={step.key} style={{ padding: "6px 0" }}>
                <strong>{humanize(step.key)}</strong>{" "}
                <span className={`wk-status-pill ${step.status}`}>{step.status}</span>
                {(step.attempts?.length ?? 0) > 1 && <span className="wk-help"> · {step.attempts?.length} attempts</span>}
                {step.error && <div className="wk-problems">{errorText(step.error)}</div>}
                {step.status === "completed" && <Json value={step.output} label={`output of ${humanize(step.key)}`} />}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function loopIds(workflow: Workflow): Set<string> {
  return new Set(everyAction(workflow).filter((f) => isLoop(f.action)).map((f) => f.action.id));
}

export function RunView({ api, runId, catalog, onBack, onOpenRun }: {
  api: Api;
  runId: string;
  catalog: Map<string, ActionDef>;
  onBack: () => void;
  onOpenRun: (runId: string) => void;
}) {
  const [run, setRun] = useState<Run | null>(null);
  const [workflow, setWorkflow] = useState<{ workflow: Workflow; triggers: Trigger[] } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Still on screen? A rerun answered after the user went elsewhere must not pull them back to it.
  const shown = useRef(false);
  useEffect(() => {
    shown.current = true;
    return () => {
      shown.current = false;
    };
  }, []);

  useEffect(() => {
    let stop = () => {};
    let left = false; // (the view is keyed by the run: a new run is a new view)
    api.run(runId).then(
      (first) => {
        if (left) return; // the view changed before the run arrived: no stream to leak
        setRun(first);
        if (!TERMINAL.includes(first.status)) stop = api.stream(runId, setRun, () => void api.run(runId).then(setRun));
      },
      (e: Error) => setError(e.message),
    );
    api.runWorkflow(runId).then(
      (v) => !left && setWorkflow(v),
      (e: Error) => !left && setError(e.message),
    );
    return () => {
      left = true;
      stop();
    };
  }, [api, runId]);

  const flow = useMemo(() => {
    if (!workflow || !run) return { nodes: [], edges: [] };
    const { statuses, texts, handled } = canvasStatuses(run.actions ?? [], workflow.workflow);
    const fields = conditionFields([eventGroup(run.event as Json), ...everyAction(workflow.workflow).flatMap(({ action }) => outputGroup(workflow.workflow, catalog, action.id) ?? [])], ["event", "state", "async"]);
    const summaries = nodeSummaries(workflow.workflow, workflow.triggers[0], catalog, fields);
    const shown = selected && workflow ? parseRecordId(selected, loopIds(workflow.workflow)).action : null;
    return toFlow(workflow.workflow, { catalog, triggers: workflow.triggers, statuses, statusTexts: texts, handled, selected: shown, summaries });
  }, [workflow, run, catalog, selected]);

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await what();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const rerun = (fromFailedStep: boolean) =>
    act(async () => {
      const next = await api.rerun(runId, fromFailedStep);
      if (shown.current) onOpenRun(next);
    });
  const record = run?.actions?.find((a) => a.id === selected);
  const titleOf = (id: string) => (workflow ? nodeTitle(id, workflow.workflow, catalog) : "a step");
  const tree = run && workflow ? runTree(run.actions ?? [], workflow.workflow) : [];
  /** A record's title: its step's name, and the iterations it ran in ("Reserve stock · Item 2"). */
  const recordTitle = (id: string) => {
    if (!workflow) return "a step";
    const { path, action } = parseRecordId(id, loopIds(workflow.workflow));
    const kinds = path.map((p) => iterationLabel(findAction(workflow.workflow, p.loop)?.kind ?? "", p.index));
    return [titleOf(action), ...kinds].join(" · ");
  };
  /** A canvas click: the step's record (a step inside a loop: its latest iteration's). */
  const selectNode = (id: string | null) => {
    if (!id || !run || !workflow) return setSelected(null);
    const loops = loopIds(workflow.workflow);
    const found = (run.actions ?? []).filter((a) => parseRecordId(a.id, loops).action === id);
    setSelected(found.length ? found[found.length - 1].id : id);
  };
  const entries = (list: StepEntry[]) => (
    <ul className="wk-list" aria-label="Steps of this run">
      {list.map((entry) => (
        <li key={entry.key}>
          <button type="button" className="wk-row" onClick={() => setSelected(entry.key)}>
            <StatusPill record={entry.record} /> {titleOf(entry.action)}
          </button>
          {entry.iterations && entry.iterations.length > 0 && (
            <ol className="wk-iterations" aria-label={`${entry.iterations.length} ${entry.iterations.length === 1 ? "iteration" : "iterations"} of ${titleOf(entry.action)}`}>
              {entry.iterations.map((iteration) => (
                <li key={iteration.index} role="group" aria-label={iteration.label}>
                  <div className="wk-iteration-title">{iteration.label}</div>
                  {entries(iteration.steps)}
                </li>
              ))}
            </ol>
          )}
        </li>
      ))}
    </ul>
  );
  const workflowName = workflow?.workflow.name;
  const errorText: ErrorText = (error) => (workflow ? runErrorText(error.message, workflow.workflow, catalog) : error.message);
  return (
    <>
      <div className="wk-toolbar" role="toolbar" aria-label="Run">
        <button type="button" className="wk-button" onClick={onBack}>← Back to the editor</button>
        <strong>{workflowName ? `Run of “${workflowName}”` : "Run"}</strong>
        {run && <span className="wk-help">started {formatTime(run.created_at)}</span>}
        {run && <span className={`wk-status-pill ${run.status}`} data-testid="run-status">{run.status}</span>}
        <span className="wk-spacer" />
        {run && !TERMINAL.includes(run.status) && (
          <button type="button" className="wk-button danger" disabled={busy} onClick={() => void act(async () => setRun(await api.cancel(runId)))}>
            Cancel
          </button>
        )}
        {run && (run.status === "failed" || run.status === "cancelled") && (
          <button type="button" className="wk-button" disabled={busy} onClick={() => void rerun(true)}>
            Rerun from the failed step
          </button>
        )}
        {run && TERMINAL.includes(run.status) && (
          <button type="button" className="wk-button" disabled={busy} onClick={() => void rerun(false)}>
            Rerun on the latest version
          </button>
        )}
      </div>
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      <div className="wk-body" style={{ gridTemplateColumns: "1fr 380px" }}>
        <Canvas nodes={flow.nodes} edges={flow.edges} readOnly onSelect={(next) => selectNode(next?.kind === "action" ? next.id : null)} />
        <aside className="wk-side" aria-label="Run details">
          {run && run.error && (
            <div className="wk-banner error" role="alert" style={{ margin: "-12px -12px 12px" }}>
              {errorText(run.error)}
            </div>
          )}
          {run && (
            <div className="wk-section">
              <div className="wk-help">
                created {formatTime(run.created_at)} · {run.version ? `version ${run.version}` : "test run"}
                {run.rerun_of ? " · a rerun of an earlier run" : ""}
              </div>
              <h4>Event</h4>
              <Json value={run.event} label="event" />
            </div>
          )}
          {record ? (
            <>
              <button type="button" className="wk-link" onClick={() => setSelected(null)}>← All steps</button>
              <ActionTimeline record={record} title={recordTitle(record.id)} errorText={errorText} />
            </>
          ) : (
            <>
              <div className="wk-help">Select a step to see its attempts, inputs, output and steps.</div>
              {entries(tree)}
            </>
          )}
        </aside>
      </div>
    </>
  );
}
