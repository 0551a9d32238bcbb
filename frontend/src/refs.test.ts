import { describe, expect, it } from "vitest";
import { findRefs, insertRef, isWholeRef, pathFor, removeRef, samplePaths, schemaPaths } from "./refs";

describe("finding refs", () => {
  it("finds several refs, balancing parentheses and quotes", () => {
    const text = "Hi !ref($.event.data.name) and !ref($.event.data.items[?@.sku == 'a)b'])";
    expect(findRefs(text).map((r) => r.path)).toEqual(["$.event.data.name", "$.event.data.items[?@.sku == 'a)b']"]);
    expect(findRefs("no refs here")).toEqual([]);
    expect(findRefs("!ref($.a")).toEqual([]);
  });

  it("tells a whole ref from an embedded one", () => {
    expect(isWholeRef("!ref($.state.a.total)")).toBe(true);
    expect(isWholeRef(" !ref($.state.a.total)")).toBe(false);
    expect(isWholeRef("n=!ref($.state.a.total)")).toBe(false);
    expect(isWholeRef(42)).toBe(false);
  });
});

describe("building and inserting refs", () => {
  it("quotes names JSONPath shorthand cannot hold", () => {
    expect(pathFor("$.state", ["step-1", "items", 0, "sku"])).toBe("$.state['step-1'].items[0].sku");
    expect(pathFor("$.event", ["data", "it's"])).toBe("$.event.data['it\\'s']");
  });

  it("replaces a value or appends to text", () => {
    expect(insertRef(5, "$.event.data.n")).toBe("!ref($.event.data.n)");
    expect(insertRef("Hello", "$.event.data.name", "append")).toBe("Hello !ref($.event.data.name)");
    expect(insertRef("", "$.event.data.name", "append")).toBe("!ref($.event.data.name)");
    expect(removeRef("Hello !ref($.event.data.name) there", 0)).toBe("Hello there");
  });
});

describe("ref targets", () => {
  it("lists the paths of a typed output, through $defs, nullable fields and arrays", () => {
    const schema = {
      $ref: "#/$defs/Out",
      $defs: {
        Out: { type: "object", properties: { total: { type: "number" }, items: { type: "array", items: { $ref: "#/$defs/Item" } } } },
        Item: { type: "object", properties: { sku: { anyOf: [{ type: "string" }, { type: "null" }] } } },
      },
    };
    const targets = schemaPaths(schema, "$.state.order", "order");
    expect(targets.map((t) => [t.path, t.type])).toEqual([
      ["$.state.order", "object"],
      ["$.state.order.total", "number"],
      ["$.state.order.items", "array"],
      ["$.state.order.items[0]", "object"],
      ["$.state.order.items[0].sku", "string"],
    ]);
  });

  it("lists the fields of a sample event", () => {
    const targets = samplePaths({ data: { id: 7, tags: ["a"], who: { name: "Ann" } } }, "$.event", "event");
    expect(targets.map((t) => t.path)).toEqual([
      "$.event",
      "$.event.data",
      "$.event.data.id",
      "$.event.data.tags",
      "$.event.data.tags[0]",
      "$.event.data.who",
      "$.event.data.who.name",
    ]);
    expect(targets.find((t) => t.path === "$.event.data.id")?.type).toBe("number");
  });
});
