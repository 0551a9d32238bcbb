import { describe, expect, it } from "vitest";
import { conditionLabel, freePosition, inView, layout, layoutAll, LOOP_HEADER, LOOP_PAD, makeRoom, NODE_HEIGHT, NODE_WIDTH, placeAll, placedPositions, toFlow } from "./flow";
import { editAt } from "./scopes";
import { placeProblems } from "./forms";
import type { ActionDef, Workflow } from "./types";
import { addAction, setPosition, setPositions } from "./workflowOps";

const echo: ActionDef = {
  kind: "echo", name: "Echo", description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] },
};
const forEach: ActionDef = { ...echo, kind: "builtin:for_each", name: "Repeat for each item" };
const catalog = new Map([["echo", echo], ["builtin:for_each", forEach]]);
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
    const { nodes, edges } = toFlow(workflow, { catalog, triggers: [{ event: "app/x" }] });
    expect(nodes.map((n) => [n.id, n.type])).toEqual([["$source", "trigger"], ["a", "action"], ["b", "action"], ["c", "action"]]);
    expect(nodes[2].data).toMatchObject({ action: { name: "Second" }, definition: echo });
    expect(nodes[3].data).toMatchObject({ definition: undefined });
    expect(edges.map((e) => [e.id, e.source, e.target, e.label])).toEqual([
      ["$source->a", "$source", "a", undefined],
      ["a->b", "a", "b", "True"],
      ["a->c", "a", "c", "= 42"],
    ]);
    expect(conditionLabel({ from: "x", to: "y", conditional: { type: "else", ref: "!ref($.output)" } })).toBe("if no");
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
    const { nodes, edges } = toFlow(workflow, { catalog, triggers: [{ event: "" }], problems, statuses: { a: "completed", c: "skipped" } });
    expect(nodes.find((n) => n.id === "b")?.data.problems).toHaveLength(1);
    expect(nodes.find((n) => n.id === "$source")?.data.problems).toHaveLength(1);
    expect(nodes.find((n) => n.id === "a")?.data).toMatchObject({ status: "completed" });
    expect(edges.find((e) => e.id === "a->c")?.className).toContain("wk-edge-problem");
    expect(edges.find((e) => e.id === "a->c")?.className).toContain("wk-edge-skipped");
  });

  it("keeps the positions saved in metadata and lays out the rest, parents above children", () => {
    const kept = setPosition(workflow, "b", { x: 999, y: 555 });
    const { nodes } = toFlow(kept, { catalog, triggers: [{ event: "app/x" }] });
    expect(nodes.find((n) => n.id === "b")?.position).toEqual({ x: 999, y: 555 });
    const positions = layout(workflow);
    expect(positions.$source.y).toBeLessThan(positions.a.y);
    expect(positions.a.y + NODE_HEIGHT).toBeLessThanOrEqual(positions.b.y);
    expect(positions.b.y).toBe(positions.c.y);
    expect(positions.b.x).not.toBe(positions.c.x);
  });

  it("names the nodes and connections for assistive technology (on React Flow's focusable wrapper)", () => {
    const problems = placeProblems([{ code: "missing_input", path: "actions[1].inputs.x", message: "required" }], workflow);
    const { nodes, edges } = toFlow(workflow, { catalog, triggers: [{ event: "app/x", if: "event.data.n > 1" }], problems, statuses: { a: "completed" } });
    expect(nodes.map((n) => n.ariaLabel)).toEqual([
      "Trigger: when app/x, only when a condition holds",
      "Step Echo, completed",
      "Step Second, 1 problem",
      "Step Unavailable step",
    ]);
    expect(edges[1].ariaLabel).toBe("Connection from Echo to Second (True)");
    for (const label of [...nodes, ...edges].map((e) => e.ariaLabel)) expect(label).not.toMatch(/\$source|\(a\)|mystery/);
    expect(toFlow(workflow, { catalog, triggers: [{ cron: "0 12 * * 5" }] }).nodes[0].ariaLabel).toMatch(/^Trigger: schedule /);
  });
});

describe("where to add steps", () => {
  it("offers a plain \"+\" after a step nothing follows, each unused named branch, and always one on the trigger", () => {
    const split: ActionDef = { ...echo, kind: "split", edges: { allow_add: false, edges: [{ name: "True" }, { name: "False" }] } };
    const withSplit = new Map([...catalog, ["split", split]]);
    const flowOf = (w: Workflow) => toFlow(w, { catalog: withSplit, triggers: [{ event: "app/x" }], editable: true });
    const graph: Workflow = {
      actions: [{ id: "s", kind: "split" }, { id: "t", kind: "echo" }, { id: "u", kind: "echo" }],
      edges: [{ from: "$source", to: "s" }, { from: "s", to: "t", name: "True" }, { from: "t", to: "u" }],
    };
    const slots = Object.fromEntries(flowOf(graph).nodes.map((n) => [n.id, n.data.slots]));
    expect(slots).toEqual({ $source: [{}], s: [{ edge: "False" }], t: [], u: [{}] });
    expect(flowOf(graph).edges.every((e) => e.data?.insertable)).toBe(true);
    const readOnly = toFlow(graph, { catalog: withSplit, triggers: [{ event: "app/x" }] });
    expect(readOnly.nodes.every((n) => n.data.slots.length === 0)).toBe(true);
    expect(readOnly.edges.some((e) => e.data?.insertable)).toBe(false);
  });
});

describe("placing a new node", () => {
  const overlapping = (w: Workflow) => {
    const boxes = Object.entries(placedPositions(w));
    const found: string[] = [];
    boxes.forEach(([a, p], i) =>
      boxes.slice(i + 1).forEach(([b, q]) => {
        if (Math.abs(p.x - q.x) < NODE_WIDTH && Math.abs(p.y - q.y) < NODE_HEIGHT + 10) found.push(`${a}/${b}`);
      }),
    );
    return found;
  };

  it("goes below its parent, beside its siblings, never on top of another node", () => {
    let w: Workflow = { actions: [], edges: [] };
    w = setPositions(w, placedPositions(w));
    // two after the trigger, then one after the first: the old rule put it exactly on the second
    for (const parent of ["$source", "$source", "echo"]) {
      w = addAction(w, "echo", { parent, position: freePosition(w, parent) }).workflow;
      expect(overlapping(w)).toEqual([]);
    }
    const at = placedPositions(w);
    expect(at.echo.y).toBeGreaterThan(at.$source.y);
    expect(at.echo_2.y).toBe(at.echo.y);
    expect(at.echo_3.y).toBeGreaterThan(at.echo.y);
    // many more, after the same node or none: still no overlap
    for (let i = 0; i < 12; i++) {
      const parent = i % 3 === 0 ? undefined : i % 3 === 1 ? "echo" : "echo_2";
      w = addAction(w, "echo", { parent, position: freePosition(w, parent) }).workflow;
    }
    expect(overlapping(w)).toEqual([]);
  });

  it("avoids nodes placed by dagre (no kept position) and nodes moved by hand", () => {
    const moved = setPosition(workflow, "c", { x: 0, y: 700 });
    const at = freePosition(moved, "b");
    for (const p of Object.values(placedPositions(moved))) {
      expect(Math.abs(p.x - at.x) >= NODE_WIDTH || Math.abs(p.y - at.y) >= NODE_HEIGHT).toBe(true);
    }
  });
});

describe("loops on the canvas", () => {
  const loops: Workflow = {
    actions: [
      {
        id: "each",
        kind: "builtin:for_each",
        inputs: { items: "!ref($.event.data.lines)" },
        body: {
          actions: [{ id: "reserve", kind: "echo", name: "Reserve" }, { id: "notify", kind: "echo", name: "Notify" }],
          edges: [{ from: "$source", to: "reserve" }, { from: "reserve", to: "notify", conditional: { type: "failed" } }],
        },
      },
      { id: "after", kind: "echo" },
    ],
    edges: [{ from: "$source", to: "each" }, { from: "each", to: "after" }],
  };

  it("draws a loop as a box holding its steps (parents first), sized around them", () => {
    const { nodes, edges } = toFlow(loops, { catalog, triggers: [{ event: "shop/order" }], editable: true });
    expect(nodes.map((n) => [n.id, n.type, n.parentId])).toEqual([
      ["$source", "trigger", undefined],
      ["each", "loop", undefined],
      ["reserve", "action", "each"],
      ["notify", "action", "each"],
      ["after", "action", undefined],
    ]);
    const box = nodes[1];
    const inside = nodes.filter((n) => n.parentId === "each");
    for (const node of inside) {
      expect(node.extent).toBe("parent");
      expect(node.position.x).toBeGreaterThanOrEqual(LOOP_PAD);
      expect(node.position.y).toBeGreaterThanOrEqual(LOOP_HEADER);
      expect(node.position.x + NODE_WIDTH).toBeLessThanOrEqual(box.width ?? 0);
      expect(node.position.y + NODE_HEIGHT).toBeLessThanOrEqual(box.height ?? 0);
    }
    // nothing after the loop sits inside its box
    const after = nodes.find((n) => n.id === "after");
    expect(after!.position.y).toBeGreaterThanOrEqual(box.position.y + (box.height ?? 0));
    expect(edges.map((e) => [e.id, e.source, e.sourceHandle, e.label ?? null])).toEqual([
      ["$source->reserve", "each", "body", null],
      ["reserve->notify", "reserve", "failed", "On failure"],
      ["$source->each", "$source", "next", null],
      ["each->after", "each", "next", null],
    ]);
    const failure = edges[1];
    expect(failure.className).toContain("wk-edge-failure");
    expect(failure.data?.insertable).toBe(false);
    expect(failure.ariaLabel).toBe("Connection from Reserve to Notify (on failure)");
    expect(edges[0].ariaLabel).toBe("Connection from the start of Repeat for each item to Reserve");
    // an on-failure branch does not take the place of the plain "+" after its step
    expect(nodes.find((n) => n.id === "reserve")?.data.slots).toEqual([{}]);
    expect(box.ariaLabel).toBe("Step Repeat for each item, 2 steps inside");
  });

  it("places a new step inside a loop within its box, and a grown loop pushes down what is below it", () => {
    const pinned = setPositions(loops, placedPositions(loops));
    const at = freePosition(pinned, "reserve", ["each"]);
    const reserve = placedPositions(pinned).reserve;
    expect(at.y).toBeGreaterThan(reserve.y);
    expect(at.x).toBeGreaterThanOrEqual(LOOP_PAD);
    const aside = freePosition(pinned, "reserve", ["each"], undefined, true);
    expect(aside.x).toBeGreaterThan(reserve.x);
    const grown = editAt(pinned, ["each"], (g) => addAction(g, "echo", { id: "more", parent: "notify", position: freePosition(pinned, "notify", ["each"]) }).workflow);
    const roomy = makeRoom(pinned, grown);
    const placement = placeAll(roomy);
    expect(placement.positions.after.y).toBeGreaterThanOrEqual(placement.positions.each.y + placement.sizes.each.height);
  });

  it("tidies up every graph, loops' steps inside their boxes", () => {
    const positions = layoutAll(loops);
    expect(Object.keys(positions).sort()).toEqual(["$source", "after", "each", "notify", "reserve"]);
    expect(positions.reserve.y).toBeGreaterThanOrEqual(LOOP_HEADER);
  });
});

describe("whether the graph is in view", () => {
  const graph = { x: 100, y: 50, width: 240, height: 300 };

  it("is when all of it is inside the canvas at the viewport's pan and zoom", () => {
    expect(inView(graph, { x: 0, y: 0, zoom: 1 }, { width: 400, height: 400 })).toBe(true);
    expect(inView(graph, { x: 0, y: 0, zoom: 1 }, { width: 400, height: 340 })).toBe(false); // the bottom cut off
    expect(inView(graph, { x: -120, y: 0, zoom: 1 }, { width: 400, height: 400 })).toBe(false); // panned off the left
    expect(inView(graph, { x: 0, y: 0, zoom: 2 }, { width: 400, height: 400 })).toBe(false); // zoomed in
    expect(inView(graph, { x: 0, y: 0, zoom: 0.5 }, { width: 200, height: 200 })).toBe(true);
  });
});
