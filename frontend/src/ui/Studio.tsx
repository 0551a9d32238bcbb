import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type MutableRefObject } from "react";
import type { Api } from "../api";
import type { ActionDef } from "../types";
import type { NewWorkflow } from "./editor/useEditorCommands";
import { RunView } from "./RunView";
import { LEAVE_QUESTION, WorkflowEditor } from "./editor/WorkflowEditor";
import { EventsPage } from "./EventsPage";
import { RunsPage } from "./RunsPage";
import { WorkflowList } from "./WorkflowList";

export type View =
  | { kind: "list" }
  | { kind: "workflow"; id: string }
  /** A new workflow in the editor, not stored yet (a template's steps, an accepted draft). */
  | { kind: "new" }
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
  const navigate = (next: View) => {
    if (onNavigate) onNavigate(next);
    else setOwn(next);
  };
  const go = (next: View) => {
    if ((view.kind === "workflow" || view.kind === "new") && !mayLeave()) return;
    navigate(next);
  };
  const [catalog, setCatalog] = useState<ActionDef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [assistant, setAssistant] = useState(false);
  // a new workflow not stored yet, and the id its first save gave it (its editor stays open on it)
  const [fresh, setFresh] = useState<NewWorkflow | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const shown = view.kind === "new" ? (fresh ? "new" : "list") : view.kind; // #/new after a reload: the list
  // left for another view (or stored by its first save): the new workflow is dropped, so the browser's
  // Forward to it again finds the list, never a second copy
  const [lastKind, setLastKind] = useState(view.kind);
  if (lastKind !== view.kind) {
    setLastKind(view.kind);
    if (lastKind === "new") setFresh(null);
  }
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
      {catalog && shown === "list" && !workflowId && (
        <nav className="wk-nav" aria-label="Views">
          <button type="button" className="wk-link" onClick={() => go({ kind: "runs" })}>All runs</button>
          <button type="button" className="wk-link" onClick={() => go({ kind: "events" })}>Received events</button>
        </nav>
      )}
      {catalog && shown === "list" && (
        <WorkflowList
          api={api}
          catalog={byKind}
          assistant={assistant}
          onOpen={(id) => go({ kind: "workflow", id })}
          onNew={(start) => {
            setFresh(start);
            setCreated(null);
            go({ kind: "new" });
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
      {catalog && (shown === "workflow" || shown === "new") && (
        <WorkflowEditor
          // a new workflow's editor stays the same once its first save stored it
          key={view.kind === "workflow" && view.id !== created ? view.id : "new"}
          api={api}
          workflowId={view.kind === "workflow" ? view.id : null}
          catalog={catalog}
          onOpenRun={(runId, id) => go({ kind: "run", workflowId: id, runId })}
          onBack={workflowId ? undefined : () => go({ kind: "list" })}
          onDirtyChange={onDirtyChange}
          pageTitle={pageTitle}
          assistant={assistant}
          start={fresh ?? undefined}
          onCreated={(record) => {
            setCreated(record.id);
            dirty.current = false; // saved: the address changes to the stored workflow's without asking
            navigate({ kind: "workflow", id: record.id });
          }}
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
