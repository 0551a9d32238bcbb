import { describe, expect, it } from "vitest";
import { documentReducer, emptyState, type WorkflowDocument } from "./document";
import {
  connectAnywhere,
  connectAt,
  connectionStart,
  disconnectAnywhere,
  editAt,
  everyEdge,
  findAction,
  findEdge,
  loopsAround,
  removeAnywhere,
  scopeOf,
  updateActionAnywhere,
  updateBody,
  upstreamAnywhere,
} from "./scopes";
import type { Workflow } from "./types";
import { addAction, newActionId, positionsOf, setPosition, upstreamOf } from "./workflowOps";

/** trigger -> load -> each (for each: reserve -> notify on failure; inner: x) -> done */
const order: Workflow = {
  actions: [
    { id: "load", kind: "echo" },
    {
      id: "each",
      kind: "builtin:for_each",
      inputs: { items: "!ref($.state.load.lines)" },
      body: {
        actions: [
          { id: "reserve", kind: "reserve" },
          { id: "notify", kind: "notify" },
          { id: "inner", kind: "builtin:repeat_until", body: { actions: [{ id: "x", kind: "echo" }], edges: [{ from: "$source", to: "x" }] } },
        ],
        edges: [
          { from: "$source", to: "reserve" },
          { from: "reserve", to: "notify", conditional: { type: "failed" } },
          { from: "reserve", to: "inner" },
        ],
        result: "reserve",
      },
    },
    { id: "done", kind: "echo" },
  ],
  edges: [
    { from: "$source", to: "load" },
    { from: "load", to: "each" },
    { from: "each", to: "done" },
  ],
};

describe("finding steps inside loops", () => {
  it("finds a step's scope, its loops and its edges by id", () => {
    expect(scopeOf(order, "load")).toEqual([]);
    expect(scopeOf(order, "notify")).toEqual(["each"]);
    expect(scopeOf(order, "x")).toEqual(["each", "inner"]);
    expect(scopeOf(order, "nope")).toBeNull();
    expect(findAction(order, "x")?.kind).toBe("echo");
    expect(loopsAround(order, "x").map((a) => a.id)).toEqual(["each", "inner"]);
    expect(findEdge(order, "$source", "reserve")).toEqual({ from: "$source", to: "reserve" });
    expect(findEdge(order, "$source", "x")).toEqual({ from: "$source", to: "x" });
    expect(everyEdge(order)).toHaveLength(7);
  });

  it("gives ids unique across loops' steps", () => {
    expect(newActionId(order, "echo")).toBe("echo");
    const withX = { ...order, actions: [...order.actions, { id: "echo", kind: "echo" }] };
    expect(newActionId(withX, "echo")).toBe("echo_2");
    expect(newActionId(order, "reserve")).toBe("reserve_2"); // taken inside the loop
  });

  it("reads upstream across loops: the body's own steps, then those before each loop around it", () => {
    expect(upstreamAnywhere(order, "notify", upstreamOf)).toEqual(["load", "reserve"]);
    expect(upstreamAnywhere(order, "x", upstreamOf)).toEqual(["load", "reserve"]);
    expect(upstreamAnywhere(order, "done", upstreamOf)).toEqual(["load", "each"]);
  });
});

describe("editing inside loops", () => {
  it("adds a step inside a loop at its start, keeping its position in the shared metadata", () => {
    const next = editAt(order, ["each", "inner"], (graph) => addAction(graph, "echo", { id: "y", parent: "$source", position: { x: 28, y: 140 } }).workflow);
    const inner = findAction(next, "inner");
    expect(inner?.body?.actions.map((a) => a.id)).toEqual(["x", "y"]);
    expect(inner?.body?.edges).toContainEqual({ from: "$source", to: "y" });
    expect(positionsOf(next).y).toEqual({ x: 28, y: 140 });
    expect(next.edges).toEqual(order.edges); // the workflow's own edges are untouched
    expect(order.actions[1].body?.actions[2].body?.actions).toHaveLength(1); // and the original too
  });

  it("a new loop comes with an empty body", () => {
    const added = addAction({ actions: [], edges: [] }, "builtin:for_each", { parent: "$source" });
    expect(added.workflow.actions[0].body).toEqual({ actions: [], edges: [] });
  });

  it("connects within one graph only; the loop's inner handle is its start", () => {
    expect(connectionStart(order, "each", "body")).toEqual({ scope: ["each"], from: "$source" });
    expect(connectionStart(order, "each", "next")).toEqual({ scope: [], from: "each" });
    const joined = connectAt(order, ["each"], "$source", "notify");
    expect(findEdge(joined, "$source", "notify")).toBeDefined();
    expect(() => connectAt(order, [], "load", "notify")).toThrow(/inside the same loop/);
    expect(() => connectAnywhere(order, "reserve", "done")).toThrow(/inside the same loop/);
    expect(() => connectAt(order, ["each"], "$source", "reserve", { conditional: { type: "failed" } })).toThrow(/only a step can fail/);
    const failing = connectAnywhere(order, "notify", "inner", { conditional: { type: "failed" } });
    expect(findEdge(failing, "notify", "inner")?.conditional).toEqual({ type: "failed" });
    expect(findEdge(disconnectAnywhere(failing, "notify", "inner"), "notify", "inner")).toBeUndefined();
  });

  it("updates a step, a loop's result and a policy wherever they are", () => {
    const renamed = updateActionAnywhere(order, "x", { name: "Check", policy: { retries: 2, timeout: "30s" } });
    expect(findAction(renamed, "x")).toMatchObject({ name: "Check", policy: { retries: 2, timeout: "30s" } });
    expect(findAction(updateBody(order, "each", { result: "notify" }), "each")?.body?.result).toBe("notify");
    expect(findAction(updateBody(order, "each", { result: undefined }), "each")?.body).not.toHaveProperty("result");
  });

  it("removes a loop with everything inside it, and a result step from its loop's result", () => {
    let placed = setPosition(order, "x", { x: 1, y: 2 });
    placed = setPosition(placed, "each", { x: 3, y: 4 });
    placed = setPosition(placed, "load", { x: 5, y: 6 });
    const gone = removeAnywhere(placed, "each");
    expect(gone.actions.map((a) => a.id)).toEqual(["load", "done"]);
    expect(Object.keys(positionsOf(gone))).toEqual(["load"]);
    const noResult = removeAnywhere(order, "reserve");
    expect(findAction(noResult, "each")?.body).not.toHaveProperty("result");
    expect(findAction(noResult, "each")?.body?.edges).toEqual([]);
  });

  it("goes through the one draft reducer, so undo and redo take a step out of a loop and back", () => {
    const document: WorkflowDocument = { name: "Order", triggers: [{ event: "shop/order" }], workflow: order, settings: {} };
    let state = documentReducer(emptyState, { type: "load", document });
    state = documentReducer(state, {
      type: "edit",
      at: 1,
      change: (d) => ({ ...d, workflow: editAt(d.workflow, ["each"], (g) => addAction(g, "echo", { id: "log", parent: "reserve" }).workflow) }),
    });
    expect(findAction(state.current!.workflow, "log")).toBeDefined();
    state = documentReducer(state, { type: "undo" });
    expect(findAction(state.current!.workflow, "log")).toBeUndefined();
    state = documentReducer(state, { type: "redo" });
    expect(scopeOf(state.current!.workflow, "log")).toEqual(["each"]);
  });
});
