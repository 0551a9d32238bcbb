import { describe, expect, it } from "vitest";
import { blanksHeading, openBlanks } from "./blanks";
import type { Workflow } from "./types";

const weekly: Workflow = {
  actions: [
    { id: "toc", kind: "add_toc", inputs: {}, to_fill: { post_id: "Which post?" } },
    { id: "approval", kind: "wait_for_approval", inputs: { post_id: "!ref($.state.toc.post_id)" }, to_fill: { timeout: "How long?" } },
    { id: "each", kind: "builtin:for_each", inputs: { items: [] }, body: { actions: [{ id: "inner", kind: "add_toc", inputs: { post_id: "" }, to_fill: { post_id: "Inner post?" } }], edges: [] } },
  ],
  edges: [],
};

describe("the blanks a template leaves", () => {
  it("lists the empty ones in step order, loops' steps included, with their questions", () => {
    expect(openBlanks(weekly)).toEqual([
      { actionId: "toc", input: "post_id", question: "Which post?" },
      { actionId: "approval", input: "timeout", question: "How long?" },
      { actionId: "inner", input: "post_id", question: "Inner post?" },
    ]);
  });

  it("drops a blank once its input has a value (a ref too), and ignores malformed marks", () => {
    const filled: Workflow = {
      actions: [
        { ...weekly.actions[0], inputs: { post_id: 3 } },
        { ...weekly.actions[1], inputs: { post_id: 1, timeout: "!ref($.event.data.wait)" } },
        { id: "odd", kind: "add_toc", inputs: {}, to_fill: ["post_id"] },
      ],
      edges: [],
    };
    expect(openBlanks(filled)).toEqual([]);
  });

  it("says how many are left in words", () => {
    expect(blanksHeading(2)).toBe("Fill in 2 things before saving");
    expect(blanksHeading(1)).toBe("Fill in 1 thing before saving");
  });
});
