import { describe, expect, it } from "vitest";
import {
  addAction,
  connect,
  disconnect,
  downstreamOf,
  EdgeError,
  insertBetween,
  leaves,
  newActionId,
  positionsOf,
  removeAction,
  setPosition,
  updateEdge,
  upstreamOf,
  wouldCycle,
} from "./workflowOps";
import type { Workflow } from "./types";

const base = (): Workflow => ({
  name: "W",
  metadata: { keep: "me" },
  actions: [
    { id: "a", kind: "echo", inputs: {} },
    { id: "b", kind: "echo", inputs: {} },
    { id: "c", kind: "echo", inputs: {} },
  ],
  edges: [
    { from: "$source", to: "a" },
    { from: "a", to: "b" },
    { from: "a", to: "c", name: "True", conditional: { type: "if", ref: "!ref($.output.x)" } },
  ],
  unknownTop: 1,
});

describe("ids", () => {
  it("derives ids from the kind and never reuses a taken one", () => {
    const wf = base();
    expect(newActionId(wf, "builtin:if")).toBe("if");
    expect(newActionId({ ...wf, actions: [...wf.actions, { id: "echo", kind: "echo" }] }, "echo")).toBe("echo_2");
    const after = removeAction(addAction(wf, "echo").workflow, "a");
    expect(newActionId(after, "echo")).toBe("echo_2");
  });
});

describe("editing", () => {
  it("adds an action connected from a parent with the predefined edge", () => {
    const { workflow, id } = addAction(base(), "builtin:if", {
      parent: "c",
      edge: { name: "False", conditional: { type: "else", ref: "!ref($.output.result)" } },
      position: { x: 10.4, y: 20.6 },
    });
    expect(id).toBe("if");
    expect(workflow.edges.at(-1)).toEqual({ from: "c", to: "if", name: "False", conditional: { type: "else", ref: "!ref($.output.result)" } });
    expect(positionsOf(workflow).if).toEqual({ x: 10, y: 21 });
    expect(workflow.unknownTop).toBe(1);
    expect(workflow.metadata?.keep).toBe("me");
  });

  it("connects any node to any node (fan-in too) but not into a loop or the trigger", () => {
    const joined = connect(base(), "c", "b");
    expect(joined.edges.filter((e) => e.to === "b").map((e) => e.from)).toEqual(["a", "c"]);
    expect(() => connect(joined, "b", "a")).toThrow(EdgeError);
    expect(() => connect(joined, "a", "a")).toThrow("loop");
    expect(() => connect(joined, "a", "$source")).toThrow("trigger");
    expect(() => connect(joined, "a", "b")).toThrow("already connected");
    expect(wouldCycle(joined, "b", "a")).toBe(true);
    expect(wouldCycle(joined, "$source", "c")).toBe(false);
  });

  it("removes an action with every edge touching it, and its kept position", () => {
    const wf = setPosition(connect(base(), "c", "b"), "b", { x: 1, y: 2 });
    const removed = removeAction(wf, "b");
    expect(removed.actions.map((a) => a.id)).toEqual(["a", "c"]);
    expect(removed.edges.some((e) => e.from === "b" || e.to === "b")).toBe(false);
    expect(positionsOf(removed).b).toBeUndefined();
  });

  it("changes and clears an edge's condition", () => {
    const match = updateEdge(base(), "a", "b", { conditional: { type: "match", ref: "!ref($.output.n)", value: 42 } });
    expect(match.edges[1].conditional).toEqual({ type: "match", ref: "!ref($.output.n)", value: 42 });
    const cleared = updateEdge(match, "a", "b", { conditional: null, name: null });
    expect(cleared.edges[1]).toEqual({ from: "a", to: "b" });
    expect(disconnect(cleared, "a", "b").edges).toHaveLength(2);
  });

  it("never mutates its input", () => {
    const wf = base();
    const frozen = JSON.stringify(wf);
    addAction(wf, "echo", { parent: "a" });
    removeAction(wf, "a");
    connect(wf, "c", "b");
    setPosition(wf, "a", { x: 1, y: 1 });
    expect(JSON.stringify(wf)).toBe(frozen);
  });
});

describe("upstream", () => {
  it("lists every ancestor in workflow order, through joins", () => {
    const wf = connect(connect(addAction(base(), "echo", { id: "d", parent: "b" }).workflow, "c", "d"), "$source", "c");
    expect(upstreamOf(wf, "d")).toEqual(["a", "b", "c"]);
    expect(upstreamOf(wf, "a")).toEqual([]);
  });
});

describe("adding steps where the eye is", () => {
  const chain: Workflow = {
    actions: [{ id: "a", kind: "k" }, { id: "b", kind: "k" }, { id: "c", kind: "k" }],
    edges: [{ from: "$source", to: "a" }, { from: "a", to: "b", name: "True", conditional: { type: "if", ref: "!ref($.output.ok)" } }, { from: "b", to: "c" }],
    metadata: { positions: { $source: { x: 0, y: 0 }, a: { x: 0, y: 100 }, b: { x: 0, y: 200 }, c: { x: 0, y: 300 } } },
  };

  it("finds where flows end and what follows a step", () => {
    expect(leaves(chain)).toEqual(["c"]);
    expect(downstreamOf(chain, "a").sort()).toEqual(["b", "c"]);
  });

  it("puts a step on a connection: the old label and condition stay on the way in, everything after moves down", () => {
    const { workflow, id } = insertBetween(chain, "builtin:if", "a", "b", {
      position: { x: 0, y: 200 },
      shift: { x: 0, y: 140 },
      onward: { name: "True", conditional: { type: "if", ref: "!ref($.output.result)" } },
      inputs: { condition: "" },
    });
    expect(id).toBe("if");
    expect(workflow.edges).toContainEqual({ from: "a", to: "if", name: "True", conditional: { type: "if", ref: "!ref($.output.ok)" } });
    expect(workflow.edges).toContainEqual({ from: "if", to: "b", name: "True", conditional: { type: "if", ref: "!ref($.output.result)" } });
    expect(workflow.edges.some((e) => e.from === "a" && e.to === "b")).toBe(false);
    expect(positionsOf(workflow)).toMatchObject({ if: { x: 0, y: 200 }, b: { x: 0, y: 340 }, c: { x: 0, y: 440 }, a: { x: 0, y: 100 } });
    expect(() => insertBetween(chain, "k", "a", "c")).toThrow(EdgeError);
  });
});
