import { describe, expect, it } from "vitest";
import { conditionLabel, layout, NODE_HEIGHT, toFlow } from "./flow";
import { placeProblems } from "./forms";
import type { ActionDef, Workflow } from "./types";
import { setPosition } from "./workflowOps";

const echo: ActionDef = {
  kind: "echo", name: "Echo", description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] },
};
const catalog = new Map([["echo", echo]]);
const workflow: Workflow = {
  actions: [
    { id: "a", kind: "echo" },
    { id: "b", kind: "echo", name: "Second" },
    { id: "c", kind: "mystery" },
  ],
  edges: [
    { from: "$source", to: "a" },
    { from: "a", to: "b", name: "True", conditional: { type: "if", ref: "!ref($.output.ok)" } },
    { from: "a", to: "c", conditional: { type: "match", ref: "!ref($.output.n)", value: 42 } },
  ],
};

describe("workflow JSON to the canvas", () => {
  it("draws the trigger, one node per action and one edge per edge, labelled by condition", () => {
    const { nodes, edges } = toFlow(workflow, { catalog, trigger: { event: "app/x" } });
    expect(nodes.map((n) => [n.id, n.type])).toEqual([["$source", "trigger"], ["a", "action"], ["b", "action"], ["c", "action"]]);
    expect(nodes[2].data).toMatchObject({ action: { name: "Second" }, definition: echo });
    expect(nodes[3].data).toMatchObject({ definition: undefined });
    expect(edges.map((e) => [e.id, e.source, e.target, e.label])).toEqual([
      ["$source->a", "$source", "a", undefined],
      ["a->b", "a", "b", "True"],
      ["a->c", "a", "c", "= 42"],
    ]);
    expect(conditionLabel({ from: "x", to: "y", conditional: { type: "else", ref: "!ref($.output)" } })).toBe("else");
  });

  it("puts problems and run statuses on the nodes and edges they belong to", () => {
    const problems = placeProblems(
      [
        { code: "missing_input", path: "actions[1].inputs.x", message: "required" },
        { code: "malformed_ref", path: "edges[2].conditional.ref", message: "bad" },
        { code: "invalid_trigger", path: "trigger.event", message: "bad" },
      ],
      workflow,
    );
    const { nodes, edges } = toFlow(workflow, { catalog, trigger: { event: "" }, problems, statuses: { a: "completed", c: "skipped" } });
    expect(nodes.find((n) => n.id === "b")?.data.problems).toHaveLength(1);
    expect(nodes.find((n) => n.id === "$source")?.data.problems).toHaveLength(1);
    expect(nodes.find((n) => n.id === "a")?.data).toMatchObject({ status: "completed" });
    expect(edges.find((e) => e.id === "a->c")?.className).toContain("wk-edge-problem");
    expect(edges.find((e) => e.id === "a->c")?.className).toContain("wk-edge-skipped");
  });

  it("keeps the positions saved in metadata and lays out the rest, parents above children", () => {
    const kept = setPosition(workflow, "b", { x: 999, y: 555 });
    const { nodes } = toFlow(kept, { catalog, trigger: { event: "app/x" } });
    expect(nodes.find((n) => n.id === "b")?.position).toEqual({ x: 999, y: 555 });
    const positions = layout(workflow);
    expect(positions.$source.y).toBeLessThan(positions.a.y);
    expect(positions.a.y + NODE_HEIGHT).toBeLessThanOrEqual(positions.b.y);
    expect(positions.b.y).toBe(positions.c.y);
    expect(positions.b.x).not.toBe(positions.c.x);
  });
});
