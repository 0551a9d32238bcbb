// What the user has selected in the editor: the trigger, a step, or a connection (or nothing). Steps
// inside loops are selected by id like any other (ids are unique across loops).

import { findAction, findEdge } from "./scopes";
import { SOURCE, type Workflow } from "./types";

export type Selection = { kind: "trigger" } | { kind: "action"; id: string } | { kind: "edge"; from: string; to: string };

/** The selection for a canvas node id (the trigger's is the workflow format's `$source`). */
export function nodeSelection(id: string): Selection {
  return id === SOURCE ? { kind: "trigger" } : { kind: "action", id };
}

export function sameSelection(a: Selection | null, b: Selection | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind === "action" && b.kind === "action") return a.id === b.id;
  if (a.kind === "edge" && b.kind === "edge") return a.from === b.from && a.to === b.to;
  return a.kind === b.kind;
}

/** The selection if what it names still exists in `workflow`, else null (e.g. after an undo). */
export function existing(selection: Selection | null, workflow: Workflow): Selection | null {
  if (!selection) return null;
  if (selection.kind === "action") return findAction(workflow, selection.id) ? selection : null;
  if (selection.kind === "edge") return findEdge(workflow, selection.from, selection.to) ? selection : null;
  return selection;
}

/** The canvas id of the selected node, if a node is selected. */
export function selectedNodeId(selection: Selection | null): string | null {
  if (!selection) return null;
  if (selection.kind === "trigger") return SOURCE;
  return selection.kind === "action" ? selection.id : null;
}
