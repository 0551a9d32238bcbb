// The draft document as a React hook: one reducer (src/document.ts) that the canvas, the panels, the
// toolbar and undo share. Every change goes through `edit`, which applies it to the newest document
// (so handlers made in an earlier render never undo each other's changes).

import { useCallback, useReducer } from "react";
import { documentReducer, emptyState, isDirty, type WorkflowDocument } from "../../document";
import type { Workflow } from "../../types";

export interface WorkflowDocumentHandle {
  document: WorkflowDocument | null;
  saved: WorkflowDocument | null;
  dirty: boolean;
  /** A new workflow not stored yet: the first save creates it. */
  unstored: boolean;
  canUndo: boolean;
  canRedo: boolean;
  /** Why the newest change was refused, with a number that changes on each refusal. */
  refused: { message: string; seq: number } | null;
  load: (document: WorkflowDocument) => void;
  edit: (change: (document: WorkflowDocument) => WorkflowDocument, group?: string) => void;
  editWorkflow: (change: (workflow: Workflow) => Workflow, group?: string) => void;
  undo: () => void;
  redo: () => void;
  markSaved: (document: WorkflowDocument) => void;
}

/** `fresh`: a new workflow's document, not stored yet (the editor starts on it, unsaved). */
export function useWorkflowDocument(fresh?: WorkflowDocument): WorkflowDocumentHandle {
  const [state, dispatch] = useReducer(documentReducer, fresh, (start) =>
    start ? documentReducer(emptyState, { type: "new", document: start }) : emptyState,
  );
  const load = useCallback((document: WorkflowDocument) => dispatch({ type: "load", document }), []);
  const edit = useCallback(
    (change: (document: WorkflowDocument) => WorkflowDocument, group?: string) => dispatch({ type: "edit", change, group, at: Date.now() }),
    [],
  );
  const editWorkflow = useCallback(
    (change: (workflow: Workflow) => Workflow, group?: string) => edit((d) => ({ ...d, workflow: change(d.workflow) }), group),
    [edit],
  );
  const undo = useCallback(() => dispatch({ type: "undo" }), []);
  const redo = useCallback(() => dispatch({ type: "redo" }), []);
  const markSaved = useCallback((document: WorkflowDocument) => dispatch({ type: "saved", document }), []);
  return {
    document: state.current,
    saved: state.saved,
    dirty: isDirty(state),
    unstored: state.unstored,
    canUndo: state.past.length > 0,
    canRedo: state.future.length > 0,
    refused: state.refused,
    load,
    edit,
    editWorkflow,
    undo,
    redo,
    markSaved,
  };
}
