import { useEffect, useMemo, useRef, useState } from "react";
import type { Api } from "../api";
import { conditionFields, eventGroup, outputGroup } from "../dataFields";
import { toFlow } from "../flow";
import { nodeTitle } from "../names";
import { runErrorText } from "../problemText";
import { dismissedFailure, rerunChoices, runDuration, statusSentence, triggerWords, versionWords } from "../runHeader";
import { canvasStatuses, isHandled, iterationLabel, parseRecordId, runTree } from "../runs";
import { everyAction, findAction, isLoop } from "../scopes";
import { nodeSummaries } from "../summaries";
import { dayAndTime, durationWords, fullTime } from "../time";
import { TERMINAL, type ActionDef, type Json, type Run, type Trigger, type Workflow } from "../types";
import { layoutWaterfall, type Now } from "../waterfall";
import { Canvas } from "./Canvas";
import { ActionDetails, JsonBlock, Moment, StepDetails, type ErrorText } from "./RunStepDetails";
import { Waterfall, type BarSelection } from "./Waterfall";

function loopIds(workflow: Workflow): Set<string> {
  return new Set(everyAction(workflow).filter((f) => isLoop(f.action)).map((f) => f.action.id));
}

/** The event that started the run, in words and data (its name, when it was sent, its data). */
function EventDetails({ run, clock }: { run: Run; clock: Now }) {
  const event = run.event;
  const sent = typeof event.ts === "number" ? event.ts : null;
  return (
    <div className="wk-run-details" aria-label="The event">
      <h3>{typeof event.name === "string" ? event.name : "The event"}</h3>
      {sent !== null && (
        <div className="wk-help">
          Sent <Moment ms={sent} clock={clock} />
        </div>
      )}
      <h4>Data</h4>
      <JsonBlock value={event.data ?? {}} label="event" />
      {event.user ? (
        <>
          <h4>User</h4>
          <JsonBlock value={event.user} label="event user" />
        </>
      ) : null}
    </div>
  );
}

/** The present, ticking every second while the run goes on (its bars grow). */
function useNow(going: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!going) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [going]);
  return now;
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
  const [name, setName] = useState<string | null>(null);
  const [chosen, setSelected] = useState<BarSelection | null>(null);
  const [tab, setTab] = useState<"step" | "event">("step");
  const [confirming, setConfirming] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const keep = useRef<HTMLButtonElement>(null);
  const going = !!run && !TERMINAL.includes(run.status);
  const clock: Now = { now: useNow(going) };

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
        // the workflow's name (a version's document has none); without it the header says "Run"
        api.workflow(first.workflow_id).then(
          (found) => !left && setName(found.name),
          () => {},
        );
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

  useEffect(() => {
    if (confirming) keep.current?.focus();
  }, [confirming]);

  // until the user chooses a step, a run that failed (and was cancelled afterwards or not) shows the step that failed
  const failedRecord = run && (run.status === "failed" || dismissedFailure(run)) ? (run.actions ?? []).find((r) => r.status === "failed" && !isHandled(r)) : undefined;
  const selected: BarSelection | null = chosen ?? (failedRecord ? { record: failedRecord.id, step: null } : null);
  const loops = useMemo(() => (workflow ? loopIds(workflow.workflow) : new Set<string>()), [workflow]);
  const selectedAction = selected ? parseRecordId(selected.record, loops).action : null;

  const flow = useMemo(() => {
    if (!workflow || !run) return { nodes: [], edges: [] };
    const { statuses, texts, handled } = canvasStatuses(run.actions ?? [], workflow.workflow, run.status);
    const fields = conditionFields([eventGroup(run.event as Json), ...everyAction(workflow.workflow).flatMap(({ action }) => outputGroup(workflow.workflow, catalog, action.id) ?? [])], ["event", "state", "async"]);
    const summaries = nodeSummaries(workflow.workflow, workflow.triggers[0], catalog, fields);
    return toFlow(workflow.workflow, { catalog, triggers: workflow.triggers, statuses, statusTexts: texts, handled, selected: selectedAction, summaries });
  }, [workflow, run, catalog, selectedAction]);

  const titleOf = (id: string) => (workflow ? nodeTitle(id, workflow.workflow, catalog) : "a step");
  /** A record's title: its step's name, and the iterations it ran in ("Reserve stock · Item 2"). */
  const recordTitle = (id: string) => {
    if (!workflow) return "a step";
    const { path, action } = parseRecordId(id, loops);
    const kinds = path.map((p) => iterationLabel(findAction(workflow.workflow, p.loop)?.kind ?? "", p.index));
    return [titleOf(action), ...kinds].join(" · ");
  };
  const layout = run && workflow ? layoutWaterfall(run, runTree(run.actions ?? [], workflow.workflow), titleOf, clock) : null;

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
  const cancel = () =>
    act(async () => {
      setConfirming(false);
      setRun(await api.cancel(runId));
    });
  const copyId = () =>
    void navigator.clipboard?.writeText(runId).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  /** A canvas click: the step's record (a step inside a loop: its latest iteration's). */
  const selectNode = (id: string | null) => {
    if (!id || !run || !workflow) return setSelected(null);
    const found = (run.actions ?? []).filter((a) => parseRecordId(a.id, loops).action === id);
    setSelected({ record: found.length ? found[found.length - 1].id : id, step: null });
    setTab("step");
  };
  const select = (next: BarSelection) => {
    setSelected(next);
    setTab("step");
  };

  const record = selected ? run?.actions?.find((a) => a.id === selected.record) : undefined;
  const step = record && selected?.step !== null && selected?.step !== undefined ? record.steps?.[selected.step] : undefined;
  const workflowName = name ?? workflow?.workflow.name;
  const errorText: ErrorText = (e) => (workflow ? runErrorText(e.message, workflow.workflow, catalog) : e.message);
  const failure = run ? dismissedFailure(run) : null;
  const start = run ? (run.started_at ?? run.created_at) : null;
  return (
    <>
      <header className="wk-run-header" role="region" aria-label="Run summary">
        <button type="button" className="wk-button" onClick={onBack}>← Back to the editor</button>
        <div className="wk-run-heading">
          <div className="wk-run-title">
            <h2>{workflowName ?? "Run"}</h2>
            {run && <span className="wk-help">{versionWords(run)}</span>}
          </div>
          {run && (
            <div className="wk-run-title">
              <span className={`wk-status-pill ${run.status}`} data-testid="run-status">{run.status}</span>
              <span className="wk-run-sentence" data-testid="run-sentence">{statusSentence(run, recordTitle, clock)}</span>
            </div>
          )}
          {run && (
            <dl className="wk-run-facts">
              <div>
                <dt>Started</dt>
                <dd title={fullTime(start)}>{dayAndTime(start)}</dd>
              </div>
              <div>
                <dt>{going ? "Running for" : "Took"}</dt>
                <dd>{durationWords(runDuration(run, clock.now))}</dd>
              </div>
              <div>
                <dt>Started by</dt>
                <dd>{triggerWords(run)}</dd>
              </div>
              {run.rerun_of && (
                <div>
                  <dt>Rerun of</dt>
                  <dd>
                    <button type="button" className="wk-link" onClick={() => onOpenRun(run.rerun_of as string)}>an earlier run</button>
                  </dd>
                </div>
              )}
            </dl>
          )}
        </div>
        <div className="wk-run-actions" role="toolbar" aria-label="Run">
          {run && going && (
            <button type="button" className="wk-button danger" disabled={busy || confirming} onClick={() => setConfirming(true)}>
              Cancel
            </button>
          )}
          {run &&
            rerunChoices(run).map((choice) => (
              <button key={choice.label} type="button" className="wk-button" title={choice.help} disabled={busy} onClick={() => void rerun(choice.fromFailedStep)}>
                {choice.label}
              </button>
            ))}
          <button type="button" className="wk-button" title="Copy the run's id (for developers)" onClick={copyId}>
            {copied ? "Copied" : "Copy run id"}
          </button>
        </div>
      </header>
      {confirming && run && going && (
        <div className="wk-confirm wk-run-dialog" role="alertdialog" aria-label="Cancel this run?" aria-describedby="wk-cancel-what">
          <span id="wk-cancel-what">
            Cancel this run? It runs no further step: a step already running finishes, but its result is not kept. You can run it again from the start later.
          </span>
          <button type="button" className="wk-button danger" disabled={busy} onClick={() => void cancel()}>
            Cancel the run
          </button>
          <button ref={keep} type="button" className="wk-button" onClick={() => setConfirming(false)}>
            Keep it running
          </button>
        </div>
      )}
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      <div className="wk-run-body">
        <div className="wk-run-main">
          <div className="wk-canvas-area">
            <Canvas nodes={flow.nodes} edges={flow.edges} readOnly onSelect={(next) => selectNode(next?.kind === "action" ? next.id : null)} />
          </div>
          {layout && <Waterfall layout={layout} selected={selected} onSelect={select} clock={clock} />}
        </div>
        <aside className="wk-side" aria-label="Run details">
          <div className="wk-tabs" role="tablist" aria-label="Details">
            <button type="button" role="tab" aria-selected={tab === "step"} onClick={() => setTab("step")}>Step</button>
            <button type="button" role="tab" aria-selected={tab === "event"} onClick={() => setTab("event")}>Event</button>
          </div>
          {run && tab === "event" && <EventDetails run={run} clock={clock} />}
          {run && tab === "step" && (
            <>
              {run.error && !record && (
                <div className="wk-problems" role="alert">
                  {failure ? `It was cancelled after it failed: ${errorText(failure)}` : errorText(run.error)}
                </div>
              )}
              {record && step && selected ? (
                <StepDetails step={step} actionTitle={recordTitle(record.id)} errorText={errorText} clock={clock} onBack={() => setSelected({ record: record.id, step: null })} />
              ) : record ? (
                <ActionDetails record={record} title={recordTitle(record.id)} runStatus={run.status} errorText={errorText} clock={clock} onSelectStep={(index) => setSelected({ record: record.id, step: index })} />
              ) : (
                <div className="wk-help">Select a step in the timeline or on the canvas to see its inputs, output, error and attempts.</div>
              )}
            </>
          )}
        </aside>
      </div>
    </>
  );
}
