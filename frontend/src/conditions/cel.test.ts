import { describe, expect, it } from "vitest";
import { fromCel, toCel } from "./cel";
import { FIELDS, FIELD_TEMPLATES, TEMPLATES } from "./fixtures";
import { quote } from "./literals";
import { OPERATORS_BY_TYPE, fieldFor, operatorsFor, type Condition, type FieldType, type Literal, type Row } from "./model";

const value = (v: Literal) => ({ kind: "value" as const, value: v });
const field = (cel: string) => ({ kind: "field" as const, cel });
const one = (row: Row): Condition => ({ join: "all", rows: [row] });

describe("toCel and fromCel", () => {
  it.each(TEMPLATES)("%s %s", (_type, _op, row, cel) => {
    expect(toCel(one(row))).toBe(cel);
    expect(fromCel(cel, FIELDS)).toEqual(one(row));
  });

  it.each(FIELD_TEMPLATES)("compares with another field: %j", (row, cel) => {
    expect(toCel(one(row))).toBe(cel);
    expect(fromCel(cel, FIELDS)).toEqual(one(row));
  });

  it("covers every comparison offered for every type", () => {
    for (const type of Object.keys(OPERATORS_BY_TYPE) as FieldType[]) {
      const offered = operatorsFor(type, "event.data.x").map((o) => o.id);
      const tested = TEMPLATES.filter(([t]) => t === type).map(([, op]) => op);
      expect(tested, type).toEqual(offered);
    }
  });

  it("joins rows with && or || without parentheses", () => {
    const rows: Row[] = [
      { field: "state.add_toc.post_id", op: "gt", value: value(3) },
      { field: "event.data.status", op: "eq", value: value("published") },
      { field: "event.data.tags", op: "excludes", value: value("x") },
    ];
    const all = 'state.add_toc.post_id > 3 && event.data.status == "published" && !event.data.tags.exists(item, item == "x")';
    const any = 'state.add_toc.post_id > 3 || event.data.status == "published" || !event.data.tags.exists(item, item == "x")';
    expect(toCel({ join: "all", rows })).toBe(all);
    expect(toCel({ join: "any", rows })).toBe(any);
    expect(fromCel(all, FIELDS)).toEqual({ join: "all", rows });
    expect(fromCel(any, FIELDS)).toEqual({ join: "any", rows });
  });

  it("reads the empty condition, and one row as join all", () => {
    expect(toCel({ join: "all", rows: [] })).toBe("");
    expect(fromCel("", FIELDS)).toEqual({ join: "all", rows: [] });
    expect(fromCel("  \n", FIELDS)).toEqual({ join: "all", rows: [] });
    expect(fromCel(" has(event.data.title) \n", FIELDS)).toEqual(one({ field: "event.data.title", op: "exists" }));
  });

  it("leaves incomplete rows out of the CEL", () => {
    const rows: Row[] = [
      { field: "", op: "eq", value: value("x") },
      { field: "event.data.title", op: "contains", value: value("") },
      { field: "event.data.title", op: "eq" },
      { field: "event.data.status", op: "one_of", value: value([]) },
      { field: "event.data.price", op: "gt", value: value("3") },
      { field: "event.data.price", op: "gt", value: value(Number.NaN) },
      { field: "event.data.due", op: "before", value: value("tomorrow") },
      { field: 'state["my-step"]', op: "exists" },
      { field: "event.data.title", op: "one_of", value: field("event.data.tags") },
      { field: "event.data.title", op: "is_empty" },
    ];
    expect(toCel({ join: "any", rows })).toBe("size(event.data.title) == 0");
  });

  it("writes `equals true/false` as is true/is false, and reads it back that way", () => {
    expect(toCel(one({ field: "event.data.extra", op: "eq", value: value(true) }))).toBe("event.data.extra == true");
    expect(fromCel("event.data.extra == true", FIELDS)).toEqual(one({ field: "event.data.extra", op: "is_true" }));
    expect(fromCel("event.data.extra != false", FIELDS)).toEqual(one({ field: "event.data.extra", op: "ne", value: value(false) }));
  });
});

describe("strings", () => {
  it.each([
    ["plain", '"plain"'],
    ['He said "hi"', '"He said \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["two\nlines\r\n", '"two\\nlines\\r\\n"'],
    ["tab\there", '"tab\\there"'],
    ["bell\u0007 del\u007f sep\u2028", '"bell\\u0007 del\\u007f sep\\u2028"'],
    ["café ☕ 😀", '"café ☕ 😀"'],
    ["", '""'],
  ])("quotes %j as %s", (text, literal) => {
    expect(quote(text)).toBe(literal);
  });

  it.each(['He said "hi"\\ \n ok', "tab\t", "\u0001", "😀 and é", "'single'", "a, b"])("round-trips %j", (text) => {
    const row: Row = { field: "event.data.title", op: "eq", value: value(text) };
    const cel = toCel(one(row));
    expect(fromCel(cel, FIELDS)).toEqual(one(row));
    const list: Row = { field: "event.data.status", op: "one_of", value: value([text, "x"]) };
    expect(fromCel(toCel(one(list)), FIELDS)).toEqual(one(list));
  });
});

describe("paths", () => {
  it.each([
    ['state["my-step"].ok == true', { field: 'state["my-step"].ok', op: "is_true" }],
    ['has(state["my-step"].ok)', { field: 'state["my-step"].ok', op: "exists" }],
    ['state["a \\"b\\""].x == 1', { field: 'state["a \\"b\\""].x', op: "eq", value: value(1) }],
    ['event.data.items[0].sku == "A"', { field: "event.data.items[0].sku", op: "eq", value: value("A") }],
    ['event.data["in"] == 2', { field: 'event.data["in"]', op: "eq", value: value(2) }],
    ['event.data["first name"].startsWith(event.data["in"])', { field: 'event.data["first name"]', op: "starts_with", value: field('event.data["in"]') }],
  ] satisfies Array<[string, Row]>)("reads %s", (cel, row) => {
    expect(fromCel(cel, FIELDS)).toEqual(one(row));
    expect(toCel(one(row))).toBe(cel);
  });

  it("writes a field's path in one spelling, and reads it back as the caller spelled it", () => {
    const fields = [{ cel: "state['my-step'].ok", label: "Done", group: "My step", type: "boolean" as const }];
    const row: Row = { field: "state['my-step'].ok", op: "is_false" };
    expect(toCel(one(row))).toBe('state["my-step"].ok == false');
    expect(fromCel('state["my-step"].ok == false', fields)).toEqual(one(row));
    expect(fromCel("state['my-step'].ok == false", fields)).toEqual(one(row));
  });

  it("reads back fields it does not know, as 'any' with a label from the path", () => {
    const ok = 'event.data.order_total > 3 && event.data.customerName.contains("Ann") && has(state["send-mail"].messageId)';
    const condition = fromCel(ok, FIELDS);
    expect(condition?.rows.map((r) => r.field)).toEqual(["event.data.order_total", "event.data.customerName", 'state["send-mail"].messageId']);
    expect(condition?.rows.map((r) => fieldFor(r.field, FIELDS))).toEqual([
      { cel: "event.data.order_total", label: "Order total", group: "Other values", type: "any" },
      { cel: "event.data.customerName", label: "Customer name", group: "Other values", type: "any" },
      { cel: 'state["send-mail"].messageId', label: "Message id", group: "Other values", type: "any" },
    ]);
    expect(toCel(condition!)).toBe(ok);
  });
});

describe("hand-written CEL is not read", () => {
  it.each([
    "size(event.data.x) > 2 && true || false",
    "event.data.a + 1 == 2",
    '(event.data.title == "Hello")', // parentheses
    'event.data.title == "Hello" && event.data.price > 1 || has(event.data.x)', // mixed joins
    'event.data.title == ""', // blank text
    "event.data.price > 3.50", // another spelling of a number (the builder would rewrite it)
    "event.data.price == 100000000000000000000",
    "event.data.price in [1, 2]", // numbers without double()
    'double(event.data.title) in ["a"]',
    "event.data.price == 0x10",
    "event.data.price > 1u",
    "event.data.published",
    "!event.data.published",
    "true",
    '"a" in event.data.tags',
    "event.data.tags.exists(x, x == 1)",
    "event.data.tags.all(item, item == 1)",
    'timestamp(event.data.due) < timestamp("2026-01-31T09:00:00+01:00")',
    'timestamp(event.data.due) < timestamp("2026-01-31")',
    "timestamp(event.data.due) <= timestamp(event.data.due)",
    'has(state["my-step"])',
    "has(event.data.items[0])",
    "size(event.data.tags) == 1",
    "event.data.tags.size() == 0",
    'event.data.title.matches("^a")',
    'event.data.title == "a\\x41"',
    'event.data.title == r"raw"',
    "event.data.author == {1: 2}",
    'event.data.author == {"a": 1, "a": 2}',
    "event.data.x == 1 &&",
    "&& event.data.x == 1",
    "event.data.x == 1 event.data.y == 2",
    "event.",
    "int(event.data.x) == 1",
    "event.data.x == event.data.y + 1",
    'event.data.title == "unterminated',
  ])("%s", (cel) => {
    expect(fromCel(cel, FIELDS)).toBeNull();
  });
});

describe("numbers", () => {
  it.each([
    [0, "0"],
    [-0, "0"],
    [42, "42"],
    [-2.5, "-2.5"],
    [1e20, "1e+20"],
    [123456789012345680000, "1.2345678901234568e+20"],
    [2 ** 53, "9.007199254740992e+15"], // not a safe integer: a double, not an int CEL might overflow
  ])("%d is written %s and read back", (n, text) => {
    const row: Row = { field: "event.data.price", op: "eq", value: value(n) };
    const cel = `event.data.price == ${text}`;
    expect(toCel(one(row))).toBe(cel);
    expect(fromCel(toCel(one(row)), FIELDS)?.rows[0].value).toEqual(value(Object.is(n, -0) ? 0 : n));
  });

  it("writes every number of a number list as a double", () => {
    const row: Row = { field: "event.data.price", op: "one_of", value: value([1, -2, 2.5, 1e21]) };
    expect(toCel(one(row))).toBe("double(event.data.price) in [1.0, -2.0, 2.5, 1e+21]");
    expect(fromCel(toCel(one(row)), FIELDS)).toEqual(one(row));
  });

  it("writes a mixed list as is", () => {
    const row: Row = { field: "event.data.extra", op: "one_of", value: value(["a", 1, true]) };
    expect(toCel(one(row))).toBe('event.data.extra in ["a", 1, true]');
    expect(fromCel(toCel(one(row)), FIELDS)).toEqual(one(row));
  });
});

describe("reading hand-spaced and single-quoted CEL", () => {
  it("reads what the builder writes up to spacing and quote style, and keeps anything else as an expression", () => {
    const fields = [{ cel: "event.data.status", label: "Status", group: "Trigger event", type: "string" as const }];
    expect(fromCel("event.data.status == 'under review'", fields)).toEqual(fromCel('event.data.status == "under review"', fields));
    expect(fromCel("event.data.status=='under review'", fields)).not.toBeNull();
    expect(fromCel("event.data.status == 'under review' || true", fields)).toBeNull();
  });
});
