import { describe, expect, it } from "vitest";
import { fieldTitle, isEmptyWorkflowProblem, problemView, runErrorText, scrub } from "./problemText";
import type { ActionDef, Problem, Workflow } from "./types";

const post: ActionDef = {
  kind: "add_toc",
  name: "Add a Table of Contents",
  description: "",
  icon: null,
  inputs: {
    title: "PostInput",
    type: "object",
    properties: { post_id: { type: "integer" }, timeout: { type: "string", title: "Timeout" }, address: { $ref: "#/$defs/Address" } },
    $defs: { Address: { title: "Address", type: "object", properties: { zip_code: { type: "string" } } } },
  },
  outputs: {},
  edges: { allow_add: true, edges: [] },
};
const catalog = new Map([["add_toc", post]]);
const workflow: Workflow = {
  actions: [{ id: "add_toc", kind: "add_toc" }, { id: "loose", kind: "add_toc", name: "Second pass" }],
  edges: [{ from: "$source", to: "add_toc" }],
};
const view = (code: string, path: string, message = "x") => problemView({ code, path, message } as Problem, workflow, catalog);
const INTERNAL = /\$source|builtin:|add_toc|actions\[|\bloose\b|inputs\./;

describe("problems in words", () => {
  it("names the step and the field, says what to do, and knows where to go", () => {
    const missing = view("missing_input", "actions[0].inputs.post_id", "required, but not given");
    expect(missing.text).toBe("Fill in Post id.");
    expect(missing.where).toBe("Add a Table of Contents > Post id");
    expect(missing.target).toEqual({ selection: { kind: "action", id: "add_toc" }, tab: "edit", field: ["post_id"] });
    expect(view("invalid_input", "actions[0].inputs.post_id", "expected integer, got string").text).toBe("Post id must be a whole number.");
    expect(view("invalid_input", "actions[0].inputs.timeout", "Write a duration such as 15m or 2h").text).toBe("Write a duration such as 15m or 2h.");
    expect(view("invalid_input", "actions[0].inputs.timeout", "'x' is not in the expected format, e.g. 1h").text).toBe("Timeout: 'x' is not in the expected format, e.g. 1h.");
    expect(fieldTitle(post, ["address", "zip_code"])).toBe("Zip code");
  });

  it("never shows ids, kinds, paths or $source", () => {
    const problems: Array<[string, string, string]> = [
      ["unreachable", "actions[1]", "action 'loose' is not reachable from '$source'"],
      ["no_start", "edges", "no edge starts from '$source', so no action would ever run"],
      ["ref_not_upstream", "actions[0].inputs.post_id", "!ref($.state.loose.post_id): action 'loose' is not upstream of this one"],
      ["unknown_kind", "actions[1].kind", "unknown action kind 'builtin:nope'"],
      ["cycle", "edges[0]", "the edges form a cycle: add_toc -> loose -> add_toc"],
      ["some_new_code", "actions[0].inputs.post_id", "actions[1].inputs.post_id of 'loose' uses builtin:if and $source"],
    ];
    for (const [code, path, message] of problems) {
      const shown = view(code, path, message);
      expect(`${shown.text} ${shown.where}`, code).not.toMatch(INTERNAL);
    }
    expect(view("unreachable", "actions[1]").text).toBe("Second pass never runs: connect it after the trigger or after another step.");
  });

  it("places trigger and settings problems, and tells the empty workflow apart", () => {
    expect(view("invalid_expression", "trigger.if", "syntax error at line 1, column 4 in expression 'a =='").text).toBe(
      "The filter is not finished: syntax error at line 1, column 4.",
    );
    expect(view("invalid_settings", "settings.concurrency.limit", "must be at least 1").target.tab).toBe("settings");
    expect(view("invalid_settings", "settings.concurrency.limit").where).toBe("Settings > Concurrency > Limit");
    const empty: Workflow = { actions: [], edges: [] };
    expect(isEmptyWorkflowProblem({ code: "no_start", path: "edges", message: "" }, empty)).toBe(true);
    expect(isEmptyWorkflowProblem({ code: "no_start", path: "edges", message: "" }, workflow)).toBe(false);
  });

  it("scrubs internal words out of any server message", () => {
    expect(scrub("'$source' and 'loose' and !ref($.event.data.id)", workflow, catalog)).toBe('the trigger and "Second pass" and "Trigger event > Id"');
  });
});

describe("run errors in words", () => {
  it("names the step and the field instead of ids and kinds", () => {
    const shown = runErrorText("action 'add_toc': invalid inputs for action 'add_toc': inputs.post_id: expected integer, got null", workflow, catalog);
    expect(shown).toBe("Add a Table of Contents: its inputs are not valid: Post id: expected integer, got null");
    expect(runErrorText("the post was not found", workflow, catalog)).toBe("the post was not found");
    expect(runErrorText("step 'x' of 'loose' failed", workflow, catalog)).not.toMatch(INTERNAL);
  });
});

describe("problems inside loops", () => {
  const looped: Workflow = {
    actions: [
      {
        id: "each",
        kind: "builtin:for_each",
        name: "Every line",
        body: {
          actions: [{ id: "toc", kind: "add_toc" }, { id: "stray", kind: "add_toc", name: "Stray" }],
          edges: [{ from: "$source", to: "toc" }, { from: "toc", to: "toc2" }],
        },
      },
      { id: "empty", kind: "builtin:repeat_until", name: "Poll", body: { actions: [], edges: [] } },
    ],
    edges: [{ from: "$source", to: "each" }],
  };
  const inLoop = (code: string, path: string, message = "x") => problemView({ code, path, message } as Problem, looped, catalog);

  it("names the step inside the loop and its field, and goes there", () => {
    const missing = inLoop("missing_input", "actions[0].body.actions[0].inputs.post_id");
    expect(missing.text).toBe("Fill in Post id.");
    expect(missing.where).toBe("Add a Table of Contents > Post id");
    expect(missing.target).toEqual({ selection: { kind: "action", id: "toc" }, tab: "edit", field: ["post_id"] });
    expect(inLoop("unreachable", "actions[0].body.actions[1]").text).toBe("Stray never runs: connect it after the start of its loop or after another step inside it.");
  });

  it("says what a loop lacks, and what a connection inside it needs", () => {
    expect(inLoop("no_start", "actions[1].body.edges").text).toBe('Poll has no steps inside yet: add one with the "+" inside it.');
    expect(inLoop("no_start", "actions[1].body.edges").target.selection).toEqual({ kind: "action", id: "empty" });
    expect(inLoop("unknown_result", "actions[0].body.result").text).toMatch(/^Every line: the step that gave each item's result is gone/);
    expect(inLoop("invalid_policy", "actions[0].body.actions[0].policy.timeout").text).toBe("Add a Table of Contents: write the time limit of a try as 30s, 5m or 1h.");
    const edge = inLoop("unknown_edge_target", "actions[0].body.edges[1].to");
    expect(edge.where).toBe("Connection from Add a Table of Contents to a removed step");
    expect(edge.target.selection).toEqual({ kind: "edge", from: "toc", to: "toc2" });
    const start = inLoop("cycle", "actions[0].body.edges[0]");
    expect(start.where).toBe("Connection from the start of Every line to Add a Table of Contents");
    for (const v of [edge, start]) expect(v.text + v.where).not.toMatch(INTERNAL);
  });
});
