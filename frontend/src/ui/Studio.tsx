import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type MutableRefObject } from "react";
import type { Api } from "../api";
import type { ActionDef } from "../types";
import { RunView } from "./RunView";
import { LEAVE_QUESTION, WorkflowEditor } from "./editor/WorkflowEditor";
import { EventsPage } from "./EventsPage";
import { RunsPage } from "./RunsPage";
import { WorkflowList, type StartDraft } from "./WorkflowList";

export type View =
  | { kind: "list" }
  | { kind: "workflow"; id: string }
  | { kind: "run"; workflowId: string; runId: string }
  | { kind: "runs" }
  | { kind: "events" };

export interface StudioProps {
  api: Api;
  /** Controlled view (the standalone page keeps it in the URL); otherwise the Studio keeps its own. */
  view?: View;
  onNavigate?: (view: View) => void;
  /** Open this workflow and do not offer the list (an embedded editor for one workflow). */
  workflowId?: string;
  /** Set to the Studio's leave check: true when nothing is unsaved or the user agrees to drop it. A host
   * that navigates by itself (the standalone page on the browser's Back button) asks it first. */
  leaveGuard?: MutableRefObject<(() => boolean) | null>;
  /** Name the page after the open workflow (document.title): the standalone page does; an editor
   * embedded in a host's page leaves the host's title alone. */
  pageTitle?: boolean;
}

/** The whole editor: the workflow list, a workflow's editor, and its runs. */
export function Studio({ api, view: controlled, onNavigate, workflowId, leaveGuard, pageTitle = false }: StudioProps) {
  const [own, setOwn] = useState<View>(workflowId ? { kind: "workflow", id: workflowId } : { kind: "list" });
  const view = controlled ?? own;
  // Unsaved changes in the editor: every way out of it (the list, a run, the browser's Back) asks first.
  const dirty = useRef(false);
  const onDirtyChange = useCallback((value: boolean) => {
    dirty.current = value;
  }, []);
  const mayLeave = useCallback(() => {
    if (!dirty.current) return true;
    if (!window.confirm(LEAVE_QUESTION)) return false;
    dirty.current = false;
    return true;
  }, []);
  useImperativeHandle(leaveGuard, () => mayLeave, [mayLeave]);
  const go = (next: View) => {
    if (view.kind === "workflow" && !mayLeave()) return;
    if (onNavigate) onNavigate(next);
    else setOwn(next);
  };
  const [catalog, setCatalog] = useState<ActionDef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [assistant, setAssistant] = useState(false);
  // a new workflow's unsaved start (a template's steps, an accepted draft), handed to its editor once
  const [starts, setStarts] = useState<Record<string, StartDraft>>({});
  useEffect(() => {
    api.actions().then(setCatalog, (e: Error) => setError(e.message));
    api.assistant().then(
      (status) => setAssistant(status.available),
      () => setAssistant(false), // an older server, or no right to ask: the feature stays hidden
    );
  }, [api]);
  const byKind = useMemo(() => new Map((catalog ?? []).map((a) => [a.kind, a])), [catalog]);
  return (
    <div className="wk-root">
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      {!catalog && !error && <div className="wk-home" role="status">Loading…</div>}
      {catalog && view.kind === "list" && !workflowId && (
        <nav className="wk-nav" aria-label="Views">
          <button type="button" className="wk-link" onClick={() => go({ kind: "runs" })}>All runs</button>
          <button type="button" className="wk-link" onClick={() => go({ kind: "events" })}>Received events</button>
        </nav>
      )}
      {catalog && view.kind === "list" && (
        <WorkflowList
          api={api}
          catalog={byKind}
          assistant={assistant}
          onOpen={(id, start) => {
            if (start) setStarts((all) => ({ ...all, [id]: start }));
            go({ kind: "workflow", id });
          }}
        />
      )}
      {catalog && view.kind === "runs" && (
        <RunsPage
          api={api}
          onOpenRun={(run) => go({ kind: "run", workflowId: run.workflow_id, runId: run.id })}
          onBack={() => go({ kind: "list" })}
        />
      )}
      {catalog && view.kind === "events" && (
        <EventsPage
          api={api}
          onOpenRun={(run) => go({ kind: "run", workflowId: run.workflow_id, runId: run.id })}
          onBack={() => go({ kind: "list" })}
        />
      )}
      {catalog && view.kind === "workflow" && (
        <WorkflowEditor
          key={view.id}
          api={api}
          workflowId={view.id}
          catalog={catalog}
          onOpenRun={(runId) => go({ kind: "run", workflowId: view.id, runId })}
          onBack={workflowId ? undefined : () => go({ kind: "list" })}
          onDirtyChange={onDirtyChange}
          pageTitle={pageTitle}
          assistant={assistant}
          start={starts[view.id]}
          onStarted={() =>
            setStarts((all) => {
              const { [view.id]: _used, ...rest } = all;
              void _used;
              return rest;
            })
          }
        />
      )}
      {catalog && view.kind === "run" && (
        <RunView
          key={view.runId}
          api={api}
          runId={view.runId}
          catalog={new Map(catalog.map((a) => [a.kind, a]))}
          onBack={() => go({ kind: "workflow", id: view.workflowId })}
          onOpenRun={(runId) => go({ kind: "run", workflowId: view.workflowId, runId })}
        />
      )}
    </div>
  );
}
