import { describe, expect, it } from "vitest";
import type { WorkflowDocument } from "./document";
import type { ActionDef, Version } from "./types";
import { diffVersion, draftStatus, sameAsVersion } from "./versions";

const post: ActionDef = {
  kind: "add_toc", name: "Add a Table of Contents", description: "", icon: null,
  inputs: { type: "object", properties: { post_id: { type: "integer" } } }, outputs: {}, edges: { allow_add: true, edges: [] },
};
const catalog = new Map([["add_toc", post]]);
const v1: Version = {
  workflow_id: "w", number: 1, created_at: 0, settings: {}, trigger: { event: "app/x" }, triggers: [{ event: "app/x" }], author: "ann", message: null,
  workflow: { actions: [{ id: "a", kind: "add_toc", inputs: { post_id: "!ref($.event.data.id)" } }], edges: [{ from: "$source", to: "a" }] },
};
const draft = (change: Partial<WorkflowDocument> = {}): WorkflowDocument => ({ name: "W", triggers: [{ event: "app/x" }], workflow: v1.workflow, settings: {}, ...change });

describe("where the draft stands", () => {
  it("says one thing: not published, published vN, or changed since vN (and only then can be published)", () => {
    expect(draftStatus(draft(), null)).toEqual({ text: "Draft, not published yet", canPublish: true });
    expect(draftStatus(draft(), v1)).toEqual({ text: "Published v1", canPublish: false });
    expect(draftStatus(draft({ triggers: [{ event: "app/y" }] }), v1)).toEqual({ text: "Draft, changed since v1", canPublish: true });
    expect(sameAsVersion(draft({ triggers: [{ event: "app/x", if: null, cron: null }] }), v1)).toBe(true);
  });
});

describe("the difference between a version and the draft", () => {
  it("lists steps added and removed, inputs and connections changed, by name", () => {
    const next = draft({
      workflow: {
        actions: [
          { id: "a", kind: "add_toc", inputs: { post_id: 7 } },
          { id: "b", kind: "add_toc", name: "Again" },
        ],
        edges: [{ from: "$source", to: "a" }, { from: "a", to: "b", name: "True" }],
      },
      settings: { retries: 3 },
    });
    const texts = diffVersion({ ...draft(), workflow: v1.workflow }, next, catalog).map((c) => `${c.kind}: ${c.text}`);
    expect(texts).toEqual([
      "added: Step added: Again",
      'changed: Add a Table of Contents > Post id: "[Trigger event > Id]" → 7',
      "added: Connection added: Add a Table of Contents → Again (True)",
      "changed: Setting changed: Retries",
    ]);
    expect(diffVersion(draft(), draft(), catalog)).toEqual([]);
    const removed = diffVersion(next, draft(), catalog).map((c) => c.text);
    expect(removed).toContain("Step removed: Again");
    expect(removed).toContain("Connection removed: Add a Table of Contents → Again (True)");
  });
});
