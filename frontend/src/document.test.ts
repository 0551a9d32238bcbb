import { describe, expect, it } from "vitest";
import { documentReducer, emptyState, GROUP_WINDOW_MS, HISTORY_LIMIT, isDirty, sameJson, type DocumentState, type WorkflowDocument } from "./document";

const base: WorkflowDocument = { name: "W", triggers: [{ event: "app/x" }], workflow: { actions: [], edges: [] }, settings: {} };
const loaded = documentReducer(emptyState, { type: "load", document: base });
const rename = (name: string, group?: string, at = 0) => (state: DocumentState) =>
  documentReducer(state, { type: "edit", change: (d) => ({ ...d, name }), group, at });
const run = (state: DocumentState, ...steps: Array<(s: DocumentState) => DocumentState>) => steps.reduce((s, step) => step(s), state);

describe("the draft document", () => {
  it("is unsaved exactly when it differs from the saved one, whatever the way back", () => {
    expect(isDirty(loaded)).toBe(false);
    const edited = run(loaded, rename("X"));
    expect(isDirty(edited)).toBe(true);
    expect(isDirty(run(edited, rename("W")))).toBe(false); // typed back: nothing to save
    expect(isDirty(documentReducer(edited, { type: "undo" }))).toBe(false);
    const saved = documentReducer(edited, { type: "saved", document: edited.current! });
    expect(isDirty(saved)).toBe(false);
    expect(isDirty(documentReducer(saved, { type: "undo" }))).toBe(true); // undone past the save: unsaved again
  });

  it("a new workflow not stored yet is unsaved until its first save, even undone to where it started", () => {
    const fresh = documentReducer(emptyState, { type: "new", document: base });
    expect(fresh.current).toEqual(base);
    expect(isDirty(fresh)).toBe(true);
    const edited = run(fresh, rename("X"));
    expect(isDirty(documentReducer(edited, { type: "undo" }))).toBe(true);
    const saved = documentReducer(edited, { type: "saved", document: edited.current! });
    expect(saved.unstored).toBe(false);
    expect(isDirty(saved)).toBe(false);
    expect(isDirty(run(saved, rename("Y")))).toBe(true);
  });

  it("undoes and redoes a sequence of edits, and a new edit clears what could be redone", () => {
    const edited = run(loaded, rename("A"), rename("B"), rename("C"));
    const back = run(edited, (s) => documentReducer(s, { type: "undo" }), (s) => documentReducer(s, { type: "undo" }));
    expect(back.current?.name).toBe("A");
    expect(documentReducer(back, { type: "redo" }).current?.name).toBe("B");
    const branched = run(back, rename("D"));
    expect(branched.future).toEqual([]);
    expect(documentReducer(branched, { type: "redo" })).toBe(branched);
    expect(run(branched, (s) => documentReducer(s, { type: "undo" })).current?.name).toBe("A");
  });

  it("undoes typing in one field as one step, but not edits far apart in time or of other fields", () => {
    const typed = run(loaded, rename("a", "name", 0), rename("ab", "name", 200), rename("abc", "name", 400));
    expect(typed.past).toHaveLength(1);
    expect(documentReducer(typed, { type: "undo" }).current?.name).toBe("W");
    const later = run(typed, rename("abcd", "name", 400 + GROUP_WINDOW_MS + 1));
    expect(later.past).toHaveLength(2);
    const other = run(typed, rename("x", "other", 500));
    expect(other.past).toHaveLength(2);
  });

  it("keeps at most HISTORY_LIMIT steps and ignores edits that change nothing", () => {
    let state = loaded;
    for (let i = 0; i < HISTORY_LIMIT + 20; i++) state = run(state, rename(`n${i}`));
    expect(state.past).toHaveLength(HISTORY_LIMIT);
    expect(run(state, rename(state.current!.name))).toBe(state);
  });

  it("refuses an edit that throws, keeping the document and saying why", () => {
    const refused = documentReducer(loaded, {
      type: "edit",
      at: 0,
      change: () => {
        throw new Error("that connection would make a loop");
      },
    });
    expect(refused.current).toBe(loaded.current);
    expect(refused.refused).toEqual({ message: "that connection would make a loop", seq: 1 });
  });

  it("compares JSON deeply, ignoring key order and absent keys", () => {
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: null }, { a: 0 })).toBe(false);
  });
});
