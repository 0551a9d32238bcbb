import { afterEach, describe, expect, it, vi } from "vitest";
import {
  EMPTY_VALUE,
  draftFromRow,
  isoToLocal,
  localToIso,
  operatorChoices,
  parseValue,
  rowFromDraft,
  valueKindFor,
  valueText,
  withField,
  withOperator,
  type DraftRow,
  type ValueKind,
} from "./drafts";
import { FIELDS, FIELD_TEMPLATES, TEMPLATES } from "./fixtures";
import { fieldFor, type Literal } from "./model";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("date-times", () => {
  it("converts a local date-time to UTC and back, in any time zone", () => {
    for (const zone of ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]) {
      vi.stubEnv("TZ", zone);
      const local = isoToLocal("2026-01-31T09:00:00Z");
      expect(localToIso(local), zone).toBe("2026-01-31T09:00:00Z");
      expect(localToIso(isoToLocal("2026-07-01T23:59:30Z")), zone).toBe("2026-07-01T23:59:30Z");
    }
  });

  it("reads the box as local time", () => {
    vi.stubEnv("TZ", "Europe/Paris");
    expect(localToIso("2026-01-31T10:00")).toBe("2026-01-31T09:00:00Z");
    expect(localToIso("2026-07-31T10:00:05")).toBe("2026-07-31T08:00:05Z");
    expect(isoToLocal("2026-01-31T09:00:00Z")).toBe("2026-01-31T10:00");
    expect(localToIso("")).toBeUndefined();
    expect(localToIso("31/01/2026")).toBeUndefined();
  });
});

describe("values", () => {
  it.each([
    [{ type: "string", list: false }, "draft", "draft"],
    [{ type: "string", list: false }, " spaced ", " spaced "],
    [{ type: "string", list: false }, "", undefined],
    [{ type: "number", list: false }, "2.5", 2.5],
    [{ type: "number", list: false }, "-3", -3],
    [{ type: "number", list: false }, "", undefined],
    [{ type: "number", list: false }, "abc", undefined],
    [{ type: "integer", list: false }, "4", 4],
    [{ type: "boolean", list: false }, "true", true],
    [{ type: "boolean", list: false }, "", undefined],
    [{ type: "string", list: true }, "draft, published,,", ["draft", "published"]],
    [{ type: "string", list: true }, " , ", undefined],
    [{ type: "number", list: true }, "1, 2.5", [1, 2.5]],
    [{ type: "number", list: true }, "1, two", undefined],
    [{ type: "any", list: false }, "hello", "hello"],
    [{ type: "any", list: false }, "5", 5],
    [{ type: "any", list: false }, "null", null],
    [{ type: "any", list: false }, '"5"', "5"],
    [{ type: "object", list: false }, '{"name": "Ann"}', { name: "Ann" }],
    [{ type: "any", list: false }, "  ", undefined],
  ] as const)("%j reads %j as %j", (kind, text, literal) => {
    expect(parseValue(kind, text)).toEqual(literal);
  });

  it.each([
    [{ type: "string", list: false }, "5"],
    [{ type: "any", list: false }, "5"],
    [{ type: "any", list: false }, "hello"],
    [{ type: "any", list: false }, 5],
    [{ type: "any", list: false }, { a: [1, "x"] }],
    [{ type: "string", list: true }, ["a", "b"]],
    [{ type: "number", list: true }, [1, 2.5]],
    [{ type: "any", list: true }, ["a", 1, true]],
  ] satisfies Array<[ValueKind, Literal]>)("%j shows %j as text that reads back the same", (kind, literal) => {
    expect(parseValue(kind, valueText(kind, literal))).toEqual(literal);
  });

  it("shows text that looks like a number quoted where any value is taken", () => {
    expect(valueText({ type: "any", list: false }, "5")).toBe('"5"');
    expect(valueText({ type: "string", list: false }, "5")).toBe("5");
  });
});

describe("rows", () => {
  it.each([...TEMPLATES.map(([, , row]) => row), ...FIELD_TEMPLATES.map(([row]) => row)])("%j: draft and back", (row) => {
    expect(rowFromDraft(draftFromRow(row, 0, FIELDS))).toEqual(row);
  });

  it("takes a list item's type from the list's sample", () => {
    expect(valueKindFor(fieldFor("event.data.scores", FIELDS), "includes")).toEqual({ type: "number", list: false });
    expect(valueKindFor(fieldFor("event.data.tags", FIELDS), "includes")).toEqual({ type: "string", list: false });
    expect(valueKindFor(fieldFor("event.data.price", FIELDS), "one_of")).toEqual({ type: "number", list: true });
    expect(valueKindFor(fieldFor("event.data.due", FIELDS), "after")).toEqual({ type: "datetime", list: false });
  });

  it("offers the comparisons of the type a field of unknown type is used as, and keeps its own", () => {
    const unknown = fieldFor("event.data.total", FIELDS);
    expect(operatorChoices(unknown, "gt")).toEqual(["eq", "ne", "gt", "ge", "lt", "le", "one_of", "exists", "not_exists"]);
    expect(operatorChoices(unknown, null)).toEqual(["eq", "ne", "exists", "not_exists"]);
    expect(operatorChoices(fieldFor("event.data.title", FIELDS), "gt")).toContain("gt");
    expect(operatorChoices(fieldFor('state["my-step"]', FIELDS), null)).toEqual(["eq", "ne"]); // has() cannot test it
  });

  it("is incomplete until it has a field, and a value where the comparison takes one", () => {
    const blank: DraftRow = { key: 0, field: "", op: null, compare: "value", value: EMPTY_VALUE, other: "" };
    expect(rowFromDraft(blank)).toBeNull();
    const title = withField(blank, "event.data.title", FIELDS);
    expect(title).toMatchObject({ field: "event.data.title", op: "eq" });
    expect(rowFromDraft(title)).toBeNull();
    expect(rowFromDraft(withOperator(title, "is_empty", FIELDS))).toEqual({ field: "event.data.title", op: "is_empty" });
    expect(rowFromDraft({ ...title, compare: "field" })).toBeNull();
    expect(rowFromDraft({ ...title, compare: "field", other: "event.data.id" })).toEqual({
      field: "event.data.title",
      op: "eq",
      value: { kind: "field", cel: "event.data.id" },
    });
  });

  it("keeps the value when the field's type stays, and starts over when it changes", () => {
    const row = draftFromRow({ field: "event.data.title", op: "contains", value: { kind: "value", value: "x" } }, 0, FIELDS);
    expect(withField(row, "event.data.status", FIELDS)).toMatchObject({ field: "event.data.status", op: "contains", value: { text: "x" } });
    expect(withField(row, "event.data.price", FIELDS)).toMatchObject({ field: "event.data.price", op: "eq", value: EMPTY_VALUE });
  });

  it("reads the value's text again when the comparison takes another kind of value", () => {
    const row = draftFromRow({ field: "event.data.title", op: "eq", value: { kind: "value", value: "a, b" } }, 0, FIELDS);
    expect(withOperator(row, "one_of", FIELDS).value).toEqual({ text: "a, b", literal: ["a", "b"] });
    expect(withOperator(row, "ne", FIELDS).value).toEqual({ text: "a, b", literal: "a, b" });
  });
});
