import { describe, expect, it } from "vitest";
import { jsonText, readJson } from "./jsonText";
import { readUnion } from "./union";

describe("one box for a choice of plain values", () => {
  it("reads numbers where numbers are allowed, text otherwise, nothing when empty", () => {
    expect(readUnion("42", ["string", "integer"])).toBe(42);
    expect(readUnion("4.5", ["string", "integer"])).toBe("4.5");
    expect(readUnion("4.5", ["number", "string"])).toBe(4.5);
    expect(readUnion("true", ["boolean", "string"])).toBe(true);
    expect(readUnion("2026-01-31T09:00:00Z", ["string", "integer"])).toBe("2026-01-31T09:00:00Z");
    expect(readUnion("  ", ["string", "integer"])).toBeUndefined();
  });
});

describe("literal JSON in a field", () => {
  it("parses, checks the kind of value the field takes, and says what is wrong in words", () => {
    expect(readJson('{"plan": "pro"}', "object")).toEqual({ value: { plan: "pro" }, error: null });
    expect(readJson("[1, 2]", "object").error).toMatch(/group of fields/);
    expect(readJson('{"a": ', "object").error).toMatch(/^Not valid JSON yet/);
    expect(readJson("", "array")).toEqual({ value: undefined, error: null });
    expect(jsonText({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
