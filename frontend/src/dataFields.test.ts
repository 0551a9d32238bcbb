import { describe, expect, it } from "vitest";
import { celPath, conditionFields, dataGroups, eventGroup, groupsAt } from "./dataFields";
import type { ActionDef, Workflow } from "./types";

const toc: ActionDef = {
  kind: "add_toc", name: "Add a Table of Contents", description: "", icon: null, inputs: {},
  outputs: { type: "object", properties: { post_id: { type: "integer" }, tags: { type: "array", items: { type: "string" } } } },
  edges: { allow_add: true, edges: [] },
};
const catalog = new Map([["add_toc", toc]]);
const workflow: Workflow = { actions: [{ id: "my-toc", kind: "add_toc" }], edges: [{ from: "$source", to: "my-toc" }] };

describe("the data a step can use", () => {
  it("lists the sample event's fields with their names, types, samples and CEL paths", () => {
    const group = eventGroup({ name: "blog-post.updated", data: { id: 3, title: "Hi", at: "2026-01-31T09:00:00Z", author: { name: "Ann" } } });
    const byLabel = Object.fromEntries(group.fields.map((f) => [f.label, f]));
    expect(byLabel.Id).toMatchObject({ path: "$.event.data.id", cel: "event.data.id", type: "integer", sample: 3 });
    expect(byLabel["Author > Name"]).toMatchObject({ path: "$.event.data.author.name", cel: "event.data.author.name", sample: "Ann" });
    expect(byLabel["Event name"]).toMatchObject({ path: "$.event.name", sample: "blog-post.updated" });
    expect(eventGroup(null).hint).toMatch(/sample event/);
  });

  it("lists earlier steps' outputs from their types, by the step's name", () => {
    const groups = dataGroups({ workflow, catalog, sample: null, upstream: ["my-toc"] });
    expect(groups.map((g) => g.title)).toEqual(["Trigger event", "Add a Table of Contents"]);
    expect(groups[1].fields.map((f) => [f.label, f.path, f.cel, f.type])).toEqual([
      ["All of it", "$.state['my-toc']", 'state["my-toc"]', "object"],
      ["Post id", "$.state['my-toc'].post_id", 'state["my-toc"].post_id', "integer"],
      ["Tags", "$.state['my-toc'].tags", 'state["my-toc"].tags', "array"],
      ["Tags > item 1", "$.state['my-toc'].tags[0]", 'state["my-toc"].tags[0]', "string"],
    ]);
    const edge = dataGroups({ workflow, catalog, sample: null, upstream: [], outputOf: "my-toc" });
    expect(edge[0].fields[1]).toMatchObject({ path: "$.output.post_id", cel: null });
  });

  it("gives the condition builder the fields its variables can read, times as date-times", () => {
    const groups = dataGroups({ workflow, catalog, sample: { name: "x", data: { at: "2026-01-31T09:00:00Z", n: 1.5 } }, upstream: ["my-toc"] });
    const fields = conditionFields(groups, ["event"]);
    expect(fields.every((f) => f.cel.startsWith("event."))).toBe(true);
    expect(fields.find((f) => f.cel === "event.data.at")?.type).toBe("datetime");
    expect(fields.find((f) => f.cel === "event.data.n")?.type).toBe("number");
    expect(celPath("$.event.data['in']")).toBe('event.data["in"]');
    expect(celPath("$.output.x")).toBeNull();
  });
});


const reserveDef: ActionDef = {
  kind: "reserve", name: "Reserve stock", description: "", icon: null,
  inputs: {}, outputs: { type: "object", properties: { sku: { type: "string" }, reserved: { type: "integer" } } },
  edges: { allow_add: true, edges: [] },
};
const forEachDef: ActionDef = { ...reserveDef, kind: "builtin:for_each", name: "Repeat for each item", outputs: { type: "array" } };
const repeatDef: ActionDef = { ...reserveDef, kind: "builtin:repeat_until", name: "Repeat until", outputs: { type: "object" } };
const loopCatalog = new Map([["reserve", reserveDef], ["builtin:for_each", forEachDef], ["builtin:repeat_until", repeatDef]]);
const orderSample = { name: "shop/order", data: { lines: [{ sku: "MUG-1", quantity: 2 }] } };
const order: Workflow = {
  actions: [
    { id: "first", kind: "reserve" },
    {
      id: "each",
      kind: "builtin:for_each",
      inputs: { items: "!ref($.event.data.lines)" },
      body: { actions: [{ id: "r", kind: "reserve" }, { id: "r2", kind: "reserve" }], edges: [{ from: "$source", to: "r" }, { from: "r", to: "r2" }] },
    },
    { id: "poll", kind: "builtin:repeat_until", body: { actions: [{ id: "p", kind: "reserve" }], edges: [], result: "p" } },
  ],
  edges: [{ from: "$source", to: "first" }, { from: "first", to: "each" }, { from: "each", to: "poll" }],
};

describe("the data a step inside a loop can use", () => {
  it("offers the current item with its fields and its number, then the steps before it and before the loop", () => {
    const groups = groupsAt(order, loopCatalog, orderSample, { kind: "action", id: "r2" });
    expect(groups.map((g) => g.title)).toEqual(["Trigger event", "Repeat for each item", "Reserve stock", "Reserve stock"]);
    const loop = groups[1];
    expect(loop.fields.map((f) => [f.label, f.path, f.cel])).toEqual([
      ["Current item", "$.item", "item"],
      ["Current item > Sku", "$.item.sku", "item.sku"],
      ["Current item > Quantity", "$.item.quantity", "item.quantity"],
      ["Item number", "$.index", "index"],
    ]);
    expect(loop.fields[1].sample).toBe("MUG-1");
    expect(groups[2].fields[0].path).toBe("$.state.first");
    expect(groups[3].fields[0].path).toBe("$.state.r");
  });

  it("offers the round and the previous round's result in a repeat until (and to its own condition)", () => {
    for (const id of ["p", "poll"]) {
      const loop = groupsAt(order, loopCatalog, orderSample, { kind: "action", id }).find((g) => g.title === "Repeat until");
      expect(loop?.fields.map((f) => f.label)).toEqual(["Round", "Previous round's result", "Previous round's result > Sku", "Previous round's result > Reserved"]);
    }
    expect(celPath("$.last.sku")).toBe("last.sku");
  });

  it("keeps loops' own words off the steps outside them", () => {
    const outside = groupsAt(order, loopCatalog, orderSample, { kind: "action", id: "first" });
    expect(outside.map((g) => g.title)).toEqual(["Trigger event"]);
  });
});

describe("sample values and declared fields", () => {
  const schema = { type: "object", properties: { id: { type: "integer" }, status: { type: "string" }, author: { type: "object", properties: { name: { type: "string" } } } } };

  it("takes the fields no sample has, with their types, from the event's declared schema", () => {
    const group = eventGroup({ name: "blog-post.published", data: { id: 2 } }, undefined, undefined, schema);
    const byLabel = Object.fromEntries(group.fields.map((f) => [f.label, f]));
    expect(byLabel.Id).toMatchObject({ type: "integer", sample: 2 });
    expect(byLabel.Status).toMatchObject({ path: "$.event.data.status", cel: "event.data.status", type: "string" });
    expect(byLabel.Status.sample).toBeUndefined();
    expect(byLabel["Author > Name"]).toMatchObject({ type: "string" });
    expect(group.hint).toBeUndefined();
    const empty = eventGroup({ name: "blog-post.published", data: {} }, undefined, undefined, schema);
    expect(empty.fields.map((f) => f.label)).toEqual(["All data", "Id", "Status", "Author", "Author > Name", "Event name"]);
  });

  it("shows a step's kept sample output as the values of its fields, and the fields its type lacks", () => {
    const kept: Workflow = { ...workflow, metadata: { sample_outputs: { "my-toc": { post_id: 7, tags: ["a"], extra: "yes" } } } };
    const [, toc] = dataGroups({ workflow: kept, catalog, sample: null, upstream: ["my-toc"] });
    const byLabel = Object.fromEntries(toc.fields.map((f) => [f.label, f]));
    expect(byLabel["Post id"]).toMatchObject({ sample: 7 });
    expect(byLabel["Tags > item 1"]).toMatchObject({ sample: "a" });
    expect(byLabel.Extra).toMatchObject({ path: "$.state['my-toc'].extra", type: "string", sample: "yes" });
    const picked = groupsAt(kept, catalog, null, { kind: "edge", from: "my-toc", to: "x" });
    expect(picked[0].fields.find((f) => f.path === "$.output.post_id")?.sample).toBe(7);
  });
});
