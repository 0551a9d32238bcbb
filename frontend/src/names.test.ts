import { describe, expect, it } from "vitest";
import { actionTitle, nodeTitle, pathLabel, typeShort, typeWords, valueText } from "./names";
import type { ActionDef, Workflow } from "./types";

const toc: ActionDef = { kind: "add_toc", name: "Add a Table of Contents", description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] } };
const catalog = new Map([["add_toc", toc]]);
const workflow: Workflow = {
  actions: [
    { id: "toc", kind: "add_toc" },
    { id: "renamed", kind: "add_toc", name: "Contents first" },
    { id: "gone", kind: "removed_kind" },
  ],
  edges: [],
};

describe("names end users read", () => {
  it("names steps by the name given, else their action's name, never by id or kind", () => {
    expect(actionTitle(workflow.actions[0], toc)).toBe("Add a Table of Contents");
    expect(actionTitle(workflow.actions[1], toc)).toBe("Contents first");
    expect(actionTitle(workflow.actions[2], undefined)).toBe("Unavailable step");
    expect(nodeTitle("$source", workflow, catalog)).toBe("Trigger");
    expect(nodeTitle("toc", workflow, catalog)).toBe("Add a Table of Contents");
  });

  it("names data as Step > Field", () => {
    expect(pathLabel("$.state.toc.post_id", workflow, catalog)).toBe("Add a Table of Contents > Post id");
    expect(pathLabel("$.state['renamed'].items[0].sku", workflow, catalog)).toBe("Contents first > Items > item 1 > Sku");
    expect(pathLabel("$.state.toc", workflow, catalog)).toBe("Add a Table of Contents > Result");
    expect(pathLabel("$.event.data.title", workflow, catalog)).toBe("Trigger event > Title");
    expect(pathLabel("$.event.name", workflow, catalog)).toBe("Trigger event > Event name");
    expect(pathLabel("$.output.result", workflow, catalog, "toc")).toBe("Add a Table of Contents > Result");
    expect(pathLabel("$.event.data.items[?@.sku == 'a']", workflow, catalog)).toBe("custom data from the trigger event");
  });

  it("shows text with data in it by the data's names", () => {
    expect(valueText("Hello !ref($.event.data.name), see !ref($.state.toc.markdown)", workflow, catalog)).toBe(
      "Hello [Trigger event > Name], see [Add a Table of Contents > Markdown]",
    );
  });

  it("says types in words", () => {
    expect(typeWords("integer")).toBe("a whole number");
    expect(typeWords("string | integer")).toBe("text or a whole number");
    expect(typeShort("integer | number")).toBe("number");
    expect(typeShort("boolean")).toBe("yes/no");
  });
});

describe("what the steps inside a loop read", () => {
  it("names the current item, its number, the round and the previous round's result", () => {
    const none: Workflow = { actions: [], edges: [] };
    const catalog = new Map<string, ActionDef>();
    expect(pathLabel("$.item", none, catalog)).toBe("Current item");
    expect(pathLabel("$.item.sku", none, catalog)).toBe("Current item > Sku");
    expect(pathLabel("$.index", none, catalog)).toBe("Item number");
    expect(pathLabel("$.round", none, catalog)).toBe("Round");
    expect(pathLabel("$.last.status", none, catalog)).toBe("Previous round's result > Status");
    expect(pathLabel("$.item[?(@.x)]", none, catalog)).toBe("custom data from the current item");
    expect(valueText("Line !ref($.item.sku) is out", none, catalog)).toBe("Line [Current item > Sku] is out");
  });

  it("finds a step inside a loop by its id", () => {
    const inside: Workflow = { actions: [{ id: "each", kind: "builtin:for_each", body: { actions: [{ id: "r", kind: "x", name: "Reserve" }], edges: [] } }], edges: [] };
    expect(nodeTitle("r", inside, new Map())).toBe("Reserve");
    expect(pathLabel("$.state.r.sku", inside, new Map())).toBe("Reserve > Sku");
  });
});
