import { describe, expect, it } from "vitest";
import { errorSchemaFor } from "./forms";
import served from "./settings-schema.fixture.json";
import {
  isShownOnField,
  plainText,
  pruneSettings,
  sameJson,
  settingsFormSchema,
  settingsSegments,
  settingsUiSchema,
  toFormSettings,
  unchangedProblems,
} from "./settingsForm";
import type { JsonObject, Problem } from "./types";

// The schema GET /api/settings-schema serves (tests/test_settings.py checks that this copy is current).
const schema = settingsFormSchema(served as unknown as JsonObject);
const properties = schema.properties as Record<string, JsonObject>;
const section = (name: string) => properties[name].properties as Record<string, JsonObject>;

const problem = (path: string, message = "bad"): Problem => ({ code: "invalid_settings", path, message });

describe("the settings schema as the form shows it", () => {
  it("inlines the definitions and turns optional values into plain ones", () => {
    expect(JSON.stringify(schema)).not.toContain("$ref");
    expect(JSON.stringify(schema)).not.toContain('"null"');
    expect(schema.type).toBe("object");
    expect(schema.title).toBeUndefined();
    expect(properties.throttle.type).toBe("object");
    expect(properties.throttle.title).toBe("Throttle");
    expect(properties.throttle.required).toEqual(["limit", "period"]);
    expect(properties.retries).toMatchObject({ type: "integer", minimum: 0, maximum: 20, title: "Retries" });
    expect(properties.retries.default).toBeUndefined();
  });

  it("makes durations text fields, keeps defaults and limits, and names list entries", () => {
    expect(section("throttle").period).toMatchObject({ type: "string", "x-duration": true, title: "Period" });
    expect(section("debounce").timeout).toMatchObject({ type: "string", "x-duration": true, title: "Timeout" });
    expect(section("throttle").burst.default).toBe(1);
    expect(properties.concurrency).toMatchObject({ type: "array", maxItems: 2, title: "Concurrency limits" });
    expect(properties.cancel_on).toMatchObject({ type: "array", maxItems: 5 });
    const limit = properties.concurrency.items as JsonObject;
    expect(limit.title).toBe("Concurrency limit");
    expect((limit.properties as Record<string, JsonObject>).scope).toMatchObject({ type: "string", default: "workflow" });
    expect((properties.cancel_on.items as JsonObject).title).toBe("Cancel on event");
  });

  it("keeps a field's own title and help over its type's, as one line", () => {
    const cancel = (properties.cancel_on.items as JsonObject).properties as Record<string, JsonObject>;
    expect(cancel.if_exp.title).toBe("Condition");
    expect(cancel.if_exp.description).toContain("`async`");
    expect(section("rate_limit").key.description).toContain("CEL");
    expect(String((properties.cancel_on.items as JsonObject).description)).not.toMatch(/\n|``/);
    expect(plainText("a ``b``\n    c")).toBe("a `b` c");
  });

  it("orders the sections, and gives durations and expressions placeholders", () => {
    const ui = settingsUiSchema(schema);
    const order = ui["ui:order"] as string[];
    expect(order.slice(0, 3)).toEqual(["concurrency", "throttle", "rate_limit"]);
    expect(order[order.length - 1]).toBe("*");
    expect(new Set(order.slice(0, -1))).toEqual(new Set(Object.keys(properties)));
    expect((ui.throttle as JsonObject).period).toEqual({ "ui:placeholder": "e.g. 30s, 5m, 1h30m" });
    expect(((ui.concurrency as JsonObject).items as JsonObject).key).toEqual({ "ui:placeholder": "e.g. event.data.user_id" });
    expect((ui.concurrency as JsonObject)["ui:options"]).toEqual({ orderable: false, copyable: false });
  });
});

describe("the settings' values", () => {
  it("shows a present section with every field (defaults filled in) and durations as text", () => {
    const shown = toFormSettings(schema, { throttle: { limit: 2, period: 60000 }, concurrency: [{ limit: 1 }] });
    expect(shown.throttle).toEqual({ limit: 2, period: "60000ms", burst: 1, key: undefined });
    expect(shown.concurrency).toEqual([{ limit: 1, key: undefined, scope: "workflow" }]);
    expect("debounce" in shown).toBe(false);
  });

  it("saves no blanks, empty sections or empty lists, and keeps list entries in place", () => {
    const saved = pruneSettings({
      retries: null,
      idempotency: "",
      timeouts: {},
      throttle: { limit: 1, period: "1s", key: "  " },
      singleton: { mode: "skip" },
      concurrency: [],
      cancel_on: [{}, { event: "app/stop", if_exp: "" }],
    });
    expect(saved).toEqual({
      throttle: { limit: 1, period: "1s" },
      singleton: { mode: "skip" },
      cancel_on: [{}, { event: "app/stop" }],
    });
    expect(pruneSettings({ timeouts: { start: "" } })).toEqual({});
    expect(pruneSettings(undefined)).toEqual({});
  });

  it("compares JSON whatever the order of keys", () => {
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
  });
});

describe("the server's problems with the settings", () => {
  it("names the form's field for a settings path, and nothing for another part", () => {
    expect(settingsSegments("settings.throttle.period")).toEqual(["throttle", "period"]);
    expect(settingsSegments("settings.concurrency[1].key")).toEqual(["concurrency", 1, "key"]);
    expect(settingsSegments("settings")).toEqual([]);
    expect(settingsSegments("settingsx.y")).toBeNull();
    expect(settingsSegments("actions[0].inputs.settings")).toBeNull();
  });

  it("puts each problem on its field in the form's error schema", () => {
    const errors = errorSchemaFor(
      [problem("settings.throttle.period", "invalid duration"), problem("settings.cancel_on[0].event", "one exact event name"), problem("settings", "no NUL")],
      settingsSegments,
    ) as unknown as JsonObject;
    expect(errors).toEqual({
      throttle: { period: { __errors: ["invalid duration"] } },
      cancel_on: { 0: { event: { __errors: ["one exact event name"] } } },
      __errors: ["no NUL"],
    });
  });

  it("tells the problems the form can show on a field from those it cannot", () => {
    const value = { throttle: { limit: 1 }, cancel_on: [{ event: "x" }] };
    expect(isShownOnField(problem("settings.throttle.period"), schema, value)).toBe(true);
    expect(isShownOnField(problem("settings.batch_events"), schema, value)).toBe(true);
    expect(isShownOnField(problem("settings"), schema, value)).toBe(true);
    expect(isShownOnField(problem("settings.cancel_on[0].if_exp"), schema, value)).toBe(true);
    expect(isShownOnField(problem("settings.cancel_on[3].event"), schema, value)).toBe(false);
    expect(isShownOnField(problem("settings.debounce.period"), schema, value)).toBe(false);
    expect(isShownOnField(problem("settings.nonsense"), schema, value)).toBe(false);
    expect(isShownOnField(problem("trigger.event"), schema, value)).toBe(false);
  });

  it("drops a problem once its field changes, and keeps the others", () => {
    const before = { throttle: { limit: 1, period: "1y" }, debounce: { period: "0s" } };
    const after = { throttle: { limit: 1, period: "1d" }, debounce: { period: "0s" } };
    const kept = unchangedProblems(
      [problem("settings.throttle.period"), problem("settings.debounce.period"), problem("settings.throttle.limit")],
      before,
      after,
    );
    expect(kept.map((p) => p.path)).toEqual(["settings.debounce.period", "settings.throttle.limit"]);
    // A problem with a whole section goes with any change inside it.
    expect(unchangedProblems([problem("settings.throttle")], before, after)).toEqual([]);
  });
});
