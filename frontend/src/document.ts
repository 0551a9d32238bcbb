// The editor's draft document: everything the user edits about a workflow (its name, triggers, instance
// and settings) as one immutable value, with undo and redo as snapshots. One reducer owns it; the
// canvas, the panels, validation and the toolbar read it. Whether there are unsaved changes is derived
// by comparing it with the saved document, never set by hand.

import type { JsonObject, Trigger, Workflow } from "./types";

export interface WorkflowDocument {
  name: string;
  /** One to ten: any of them starts a run. */
  triggers: Trigger[];
  workflow: Workflow;
  settings: JsonObject;
}

/** Undo keeps this many steps (n8n keeps 100 too). */
export const HISTORY_LIMIT = 100;
/** Edits of one group (e.g. typing in one field) this close together undo as one step. */
export const GROUP_WINDOW_MS = 1000;

export interface DocumentState {
  /** What the server has (null before the first load, and for a new workflow not created yet). */
  saved: WorkflowDocument | null;
  /** A new workflow that is not stored yet (a template's steps, an accepted draft): it is unsaved as a
   * whole until the first save creates it. */
  unstored: boolean;
  current: WorkflowDocument | null;
  past: WorkflowDocument[];
  future: WorkflowDocument[];
  /** The last edit's group and time, to merge an edit of the same group into it. */
  last: { group: string; at: number } | null;
  /** Why the newest edit was refused (e.g. a connection that would make a loop); `seq` tells repeats apart. */
  refused: { message: string; seq: number } | null;
}

export type DocumentEvent =
  /** A record from the server: it becomes both the saved and the current document; history is cleared. */
  | { type: "load"; document: WorkflowDocument }
  /** A new workflow, not stored yet: the current document, unsaved; history is cleared. */
  | { type: "new"; document: WorkflowDocument }
  /** A change; `group` merges it with the previous change of the same group made within GROUP_WINDOW_MS. */
  | { type: "edit"; change: (document: WorkflowDocument) => WorkflowDocument; group?: string; at: number }
  | { type: "undo" }
  | { type: "redo" }
  /** `document` was stored (what was sent: the user may have edited since). */
  | { type: "saved"; document: WorkflowDocument };

export const emptyState: DocumentState = { saved: null, unstored: false, current: null, past: [], future: [], last: null, refused: null };

export function documentReducer(state: DocumentState, event: DocumentEvent): DocumentState {
  switch (event.type) {
    case "load":
      return { ...emptyState, saved: event.document, current: event.document };
    case "new":
      return { ...emptyState, unstored: true, current: event.document };
    case "saved":
      return { ...state, saved: event.document, unstored: false, last: null };
    case "edit": {
      if (!state.current) return state;
      let next: WorkflowDocument;
      try {
        next = event.change(state.current);
      } catch (error) {
        return { ...state, refused: { message: (error as Error).message, seq: (state.refused?.seq ?? 0) + 1 } };
      }
      if (next === state.current || sameDocument(next, state.current)) return state;
      const merge =
        event.group !== undefined && state.last?.group === event.group && event.at - state.last.at <= GROUP_WINDOW_MS;
      const past = merge ? state.past : [...state.past, state.current].slice(-HISTORY_LIMIT);
      const last = event.group === undefined ? null : { group: event.group, at: event.at };
      return { ...state, current: next, past, future: [], last };
    }
    case "undo": {
      const previous = state.past[state.past.length - 1];
      if (!previous || !state.current) return state;
      return { ...state, current: previous, past: state.past.slice(0, -1), future: [state.current, ...state.future], last: null };
    }
    case "redo": {
      const [next, ...rest] = state.future;
      if (!next || !state.current) return state;
      return { ...state, current: next, past: [...state.past, state.current], future: rest, last: null };
    }
  }
}

/** Whether the current document differs from the saved one (a workflow not stored yet always does). */
export function isDirty(state: DocumentState): boolean {
  if (state.unstored) return !!state.current;
  return !!state.current && !!state.saved && !sameDocument(state.current, state.saved);
}

export function sameDocument(a: WorkflowDocument, b: WorkflowDocument): boolean {
  return sameJson(a, b);
}

/** Deep equality of JSON values (object key order ignored; an absent key equals an undefined one). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) {
    if (!sameJson(left[key], right[key])) return false;
  }
  return true;
}
