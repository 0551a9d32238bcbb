import { describe, expect, it } from "vitest";
import { cleanJson, defaultInputs, errorSchemaFor, formSchema, humanize, inputSegments, placeProblems, setIn, uiSchemaFor } from "./forms";
import type { JsonObject, Workflow } from "./types";

const workflow: Workflow = {
  actions: [
    { id: "a", kind: "echo" },
    { id: "b", kind: "mail" },
  ],
  edges: [
    { from: "$source", to: "a" },
    { from: "a", to: "b" },
  ],
};

describe("placing problems", () => {
  it("puts each problem on its action, edge, the trigger or the workflow", () => {
    const placed = placeProblems(
      [
        { code: "invalid_input", path: "actions[1].inputs.to", message: "expected string" },
        { code: "unknown_kind", path: "actions[1].kind", message: "unknown" },
        { code: "malformed_ref", path: "edges[1].conditional.ref", message: "bad" },
        { code: "invalid_trigger", path: "trigger.event", message: "bad" },
        { code: "no_start", path: "edges", message: "none" },
      ],
      workflow,
    );
    expect(Object.keys(placed.actions)).toEqual(["b"]);
    expect(placed.actions.b).toHaveLength(2);
    expect(Object.keys(placed.edges)).toEqual(["a->b"]);
    expect(placed.trigger).toHaveLength(1);
    expect(placed.workflow.map((p) => p.code)).toEqual(["no_start"]);
  });

  it("turns input paths into the form's error schema", () => {
    expect(inputSegments('actions[0].inputs.address.city')).toEqual(["address", "city"]);
    expect(inputSegments('actions[0].inputs.tags[2]')).toEqual(["tags", 2]);
    expect(inputSegments('actions[0].inputs["odd key"]')).toEqual(["odd key"]);
    expect(inputSegments("actions[0].kind")).toBeNull();
    const errors = errorSchemaFor([
      { code: "missing_input", path: "actions[0].inputs.b", message: "required" },
      { code: "invalid_input", path: "actions[0].inputs.address.city", message: "expected string" },
      { code: "invalid_input", path: "actions[0].inputs.address.city", message: "too long" },
    ]);
    expect(errors).toEqual({ b: { __errors: ["required"] }, address: { city: { __errors: ["expected string", "too long"] } } });
  });
});

describe("form schemas", () => {
  const ifSchema: JsonObject = {
    title: "IfInputs",
    type: "object",
    properties: { condition: { title: "Condition", anyOf: [{ type: "string", format: "cel" }, { type: "object" }] } },
    required: ["condition"],
  };

  it("shows a CEL-or-object condition as a CEL text area, unless it holds an object", () => {
    const shown = formSchema(ifSchema, { condition: "event.data.n > 1" });
    expect(shown.properties).toEqual({ condition: { title: "Condition", type: "string", format: "cel" } });
    expect(formSchema(ifSchema, { condition: { "==": [1, 1] } }).properties).toEqual({
      condition: {
        title: "Condition",
        anyOf: [
          { type: "string", format: "cel", title: "CEL expression" },
          { type: "object", title: "Object" },
        ],
      },
    });
    expect(uiSchemaFor(shown).condition).toEqual({ "ui:widget": "condition" });
    expect(((ifSchema.properties as JsonObject).condition as JsonObject).anyOf).toHaveLength(2);
  });

  it("labels fields without a title from their names", () => {
    expect(humanize("post_id")).toBe("Post id");
    expect(humanize("maxRetries")).toBe("Max retries");
    const shown = formSchema({ type: "object", properties: { post_id: { type: "integer" }, x: { type: "string", title: "Kept" } } }, {});
    expect(shown.properties).toEqual({ post_id: { type: "integer", title: "Post id" }, x: { type: "string", title: "Kept" } });
  });

  it("names each choice of an anyOf/oneOf, nested ones too, instead of '<field> option 2'", () => {
    const schema: JsonObject = {
      type: "object",
      properties: {
        address: { anyOf: [{ $ref: "#/$defs/Address" }, { type: "null" }], default: null },
        pair: { oneOf: [{ type: "string" }, { type: "object", properties: { a: { type: "string" } } }] },
      },
      $defs: {
        Address: { title: "Address", type: "object", properties: { zone: { anyOf: [{ $ref: "#/$defs/zone_id" }, { type: "null" }] } } },
        zone_id: { type: "integer" },
      },
    };
    const shown = formSchema(schema, {});
    const props = shown.properties as Record<string, JsonObject>;
    expect((props.address.anyOf as JsonObject[]).map((o) => o.title)).toEqual(["Address", "None"]);
    expect((props.pair.oneOf as JsonObject[]).map((o) => o.title)).toEqual(["Text", "Object"]);
    const address = (shown.$defs as Record<string, JsonObject>).Address;
    const zone = (address.properties as Record<string, JsonObject>).zone;
    expect((zone.anyOf as JsonObject[]).map((o) => o.title)).toEqual(["Zone id", "None"]);
    // the action's own schema is left as it was
    expect(((schema.properties as Record<string, JsonObject>).address.anyOf as JsonObject[])[1]).toEqual({ type: "null" });
  });

  it("shows a choice of plain values as one control: optional values plainly, `str | int` as one text box", () => {
    const schema: JsonObject = {
      type: "object",
      properties: {
        until: { title: "Until", anyOf: [{ type: "string", format: "date-time" }, { type: "integer" }] },
        timeout: { title: "Timeout", anyOf: [{ type: "string", pattern: "^x$", errorMessage: "Write a duration" }, { type: "null" }], default: null },
        match: { title: "Match", format: "cel", anyOf: [{ type: "string" }, { type: "null" }], default: null },
        nested: { type: "object", properties: { n: { anyOf: [{ type: "number" }, { type: "boolean" }] } } },
      },
    };
    const props = formSchema(schema, {}).properties as Record<string, JsonObject>;
    expect(props.until).toEqual({ title: "Until", type: "string", format: "date-time", "x-union": ["string", "integer"] });
    expect(props.timeout).toEqual({ title: "Timeout", type: "string", pattern: "^x$", errorMessage: "Write a duration", default: null });
    expect(props.match).toMatchObject({ title: "Match", type: "string", format: "cel" });
    expect((props.nested.properties as Record<string, JsonObject>).n).toEqual({ type: "string", "x-union": ["number", "boolean"], title: "N" });
    const ui = uiSchemaFor(formSchema(schema, {}));
    expect(ui.until).toEqual({ "ui:widget": "datetime" });
    expect(ui.match).toEqual({ "ui:widget": "condition" });
    expect(ui.nested).toEqual({ n: { "ui:widget": "union" } });
  });

  it("gives free-form objects and lists a JSON editor, and the workflow picker to inputs that ask for it", () => {
    const ui = uiSchemaFor({
      type: "object",
      properties: {
        data: { type: "object" },
        rows: { type: "array", items: { type: "object" } },
        tags: { type: "array", items: { type: "string" } },
        workflow_id: { type: "string", "x-widget": "workflow" },
        profile: { type: "object", properties: { bio: { type: "string", format: "textarea" } } },
      },
    });
    expect(ui.data).toEqual({ "ui:field": "json" });
    expect(ui.rows).toEqual({ "ui:field": "json" });
    expect(ui.tags).toBeUndefined();
    expect(ui.workflow_id).toEqual({ "ui:widget": "workflow" });
    expect(ui.profile).toEqual({ bio: { "ui:widget": "textarea", "ui:options": { rows: 5 } } });
  });

  it("fills declared defaults", () => {
    expect(defaultInputs({ properties: { n: { type: "integer", default: 3 }, s: { type: "string" } } })).toEqual({ n: 3 });
  });
});


describe("form values", () => {
  it("sets and removes values at a path without touching the original", () => {
    const inputs = { to: "a@b.c", address: { city: "Paris" }, tags: ["x", "y"] };
    expect(setIn(inputs, ["address", "city"], "!ref($.event.data.city)")).toEqual({
      to: "a@b.c", address: { city: "!ref($.event.data.city)" }, tags: ["x", "y"],
    });
    expect(setIn(inputs, ["tags", 1], undefined)).toEqual({ to: "a@b.c", address: { city: "Paris" }, tags: ["x"] });
    expect(setIn(inputs, ["to"], undefined)).toEqual({ address: { city: "Paris" }, tags: ["x", "y"] });
    expect(setIn({}, ["a", "b"], 1)).toEqual({ a: { b: 1 } });
    expect(inputs.address.city).toBe("Paris");
  });

  it("drops undefined values the form leaves behind, but keeps a list's empty items", () => {
    expect(cleanJson({ a: undefined, b: 1, c: [1, undefined], d: { e: undefined } })).toEqual({ b: 1, c: [1, null], d: {} });
  });
});
