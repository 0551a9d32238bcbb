// Conditions to CEL and back. `toCel` writes one fixed template per comparison (see TEMPLATES in
// the tests and the server check in tests/test_expressions.py); `fromCel` reads exactly that text
// back with a small parser of the subset, and answers null for any other CEL (hand-written), so the
// editor can keep it as an expression.

import { Cursor, SubsetError, tokenize, type Token } from "./lexer";
import { atLiteral, formatDouble, formatLiteral, readLiteral } from "./literals";
import { canonicalPath, formatPath, readPath } from "./paths";
import { isComplete, type Condition, type ConditionField, type Join, type Operand, type OperatorId, type Row } from "./model";

const JOINS: Record<Join, string> = { all: " && ", any: " || " };
const COMPARISONS: Partial<Record<OperatorId, string>> = { eq: "==", ne: "!=", gt: ">", ge: ">=", lt: "<", le: "<=" };
const METHODS: Partial<Record<OperatorId, string>> = { contains: "contains", starts_with: "startsWith", ends_with: "endsWith" };

function path(cel: string): string {
  const canonical = canonicalPath(cel);
  if (canonical === null) throw new RangeError(`not a path: ${cel}`);
  return canonical;
}

function operand(value: Operand | undefined): string {
  if (!value) throw new RangeError("a value is missing");
  return value.kind === "field" ? path(value.cel) : formatLiteral(value.value);
}

function oneOf(x: string, value: Operand | undefined): string {
  const items = value?.kind === "value" && Array.isArray(value.value) ? value.value : [];
  // JSON numbers may decode as ints or doubles, and CEL's `in` does not compare the two: compare doubles.
  if (items.every((item) => typeof item === "number")) return `double(${x}) in [${items.map((n) => formatDouble(n as number)).join(", ")}]`;
  return `${x} in ${formatLiteral(items)}`;
}

/** One complete row as CEL. No template contains `&&` or `||` at its top level, so rows are joined
 * without parentheses. */
export function rowToCel(row: Row): string {
  const x = path(row.field);
  const comparison = COMPARISONS[row.op];
  if (comparison) return `${x} ${comparison} ${operand(row.value)}`;
  const method = METHODS[row.op];
  if (method) return `${x}.${method}(${operand(row.value)})`;
  switch (row.op) {
    case "not_contains":
      return `!${x}.contains(${operand(row.value)})`;
    case "is_empty":
      return `size(${x}) == 0`;
    case "is_not_empty":
      return `size(${x}) > 0`;
    case "one_of":
      return oneOf(x, row.value);
    case "is_true":
      return `${x} == true`;
    case "is_false":
      return `${x} == false`;
    case "before":
      return `timestamp(${x}) < timestamp(${operand(row.value)})`;
    case "after":
      return `timestamp(${x}) > timestamp(${operand(row.value)})`;
    case "includes":
      return `${x}.exists(item, item == ${operand(row.value)})`;
    case "excludes":
      return `!${x}.exists(item, item == ${operand(row.value)})`;
    case "exists":
      return `has(${x})`;
    case "not_exists":
      return `!has(${x})`;
    default:
      throw new RangeError(`unknown operator ${row.op}`);
  }
}

/** The condition as CEL: its complete rows (see `isComplete`; others are left out) joined by ` && `
 * (all) or ` || ` (any). No rows: "". */
export function toCel(condition: Condition): string {
  return condition.rows.filter(isComplete).map(rowToCel).join(JOINS[condition.join]);
}

// --- reading -------------------------------------------------------------------------------------

function readPathText(c: Cursor): string {
  return formatPath(readPath(c));
}

function readOperand(c: Cursor): Operand {
  return atLiteral(c) ? { kind: "value", value: readLiteral(c) } : { kind: "field", cel: readPathText(c) };
}

/** `.name(` after a path: a method call. */
function eatMethod(c: Cursor, name: string): boolean {
  if (!(c.is(".") && c.isCall(name, 1))) return false;
  c.next();
  c.next();
  c.next();
  return true;
}

function readArgument(c: Cursor): Operand {
  const value = readOperand(c);
  c.expect(")");
  return value;
}

/** `(item, item == V)`, the rest of `x.exists(`. */
function readItemTest(c: Cursor): Operand {
  c.expect("item");
  c.expect(",");
  c.expect("item");
  c.expect("==");
  return readArgument(c);
}

/** The path in `name(path)`. */
function readCallOf(c: Cursor, name: string): string {
  c.expect(name);
  c.expect("(");
  const x = readPathText(c);
  c.expect(")");
  return x;
}

function readNegated(c: Cursor): Row {
  if (c.isCall("has")) return { field: readCallOf(c, "has"), op: "not_exists" };
  const field = readPathText(c);
  if (eatMethod(c, "contains")) return { field, op: "not_contains", value: readArgument(c) };
  if (eatMethod(c, "exists")) return { field, op: "excludes", value: readItemTest(c) };
  throw new SubsetError("unexpected negation");
}

function readComparison(c: Cursor, field: string): Row {
  for (const [op, symbol] of Object.entries(COMPARISONS) as [OperatorId, string][]) {
    if (!c.eat(symbol)) continue;
    const value = readOperand(c);
    if (op === "eq" && value.kind === "value" && typeof value.value === "boolean") {
      return { field, op: value.value ? "is_true" : "is_false" };
    }
    return { field, op, value };
  }
  throw new SubsetError("expected a comparison");
}

function readRow(c: Cursor): Row {
  if (c.eat("!")) return readNegated(c);
  if (c.isCall("has")) return { field: readCallOf(c, "has"), op: "exists" };
  if (c.isCall("size")) {
    const field = readCallOf(c, "size");
    const op = c.eat("==") ? "is_empty" : c.eat(">") ? "is_not_empty" : null;
    const zero = c.next();
    if (!op || zero.text !== "0") throw new SubsetError("expected a size test");
    return { field, op };
  }
  if (c.isCall("timestamp")) {
    const field = readCallOf(c, "timestamp");
    const op = c.eat("<") ? "before" : c.eat(">") ? "after" : null;
    if (!op) throw new SubsetError("expected < or >");
    c.expect("timestamp");
    c.expect("(");
    return { field, op, value: readArgument(c) };
  }
  if (c.isCall("double")) {
    const field = readCallOf(c, "double");
    c.expect("in");
    return { field, op: "one_of", value: { kind: "value", value: readLiteral(c) } };
  }
  const field = readPathText(c);
  if (c.eat("in")) return { field, op: "one_of", value: { kind: "value", value: readLiteral(c) } };
  for (const [op, method] of Object.entries(METHODS) as [OperatorId, string][]) {
    if (eatMethod(c, method)) return { field, op, value: readArgument(c) };
  }
  if (eatMethod(c, "exists")) return { field, op: "includes", value: readItemTest(c) };
  return readComparison(c, field);
}

function parse(text: string): Condition {
  const c = Cursor.of(text);
  const rows: Row[] = [];
  let join: Join | null = null;
  while (!c.done()) {
    if (rows.length) {
      const next: Join | null = c.eat("&&") ? "all" : c.eat("||") ? "any" : null;
      if (!next || (join && next !== join)) throw new SubsetError("expected && or || (the same throughout)");
      join = next;
    }
    rows.push(readRow(c));
  }
  return { join: join ?? "all", rows };
}

/** Use the caller's spelling of a known field's path. */
function withFields(condition: Condition, fields: readonly ConditionField[]): Condition {
  const known = new Map<string, string>();
  for (const field of fields) {
    const canonical = canonicalPath(field.cel);
    if (canonical !== null && !known.has(canonical)) known.set(canonical, field.cel);
  }
  const cel = (p: string) => known.get(p) ?? p;
  const rows = condition.rows.map((row): Row => {
    const value = row.value?.kind === "field" ? { kind: "field" as const, cel: cel(row.value.cel) } : row.value;
    return value ? { field: cel(row.field), op: row.op, value } : { field: cel(row.field), op: row.op };
  });
  return { join: condition.join, rows };
}

/** Read back CEL written by `toCel`: the condition, or null for any other text (hand-written CEL,
 * other spacing or quoting, incomplete rows). Fields not in `fields` are read back by their path
 * (see `fieldFor`). "" (or only spaces) is the empty condition; one row reads back as join "all". */
export function fromCel(text: string, fields: readonly ConditionField[]): Condition | null {
  const trimmed = text.trim();
  let condition: Condition;
  try {
    condition = parse(trimmed);
  } catch (error) {
    if (error instanceof SubsetError) return null;
    throw error;
  }
  if (!condition.rows.every(isComplete) || !sameTokens(toCel(condition), trimmed)) return null;
  return withFields(condition, fields);
}

/** Whether two texts are the same CEL up to spacing and quoting: `x == 'a'` reads as `x == "a"` (hand
 * edits and the TypeScript kit's examples use single quotes), anything else the builder would not keep. */
function sameTokens(written: string, read: string): boolean {
  let a: Token[];
  let b: Token[];
  try {
    a = tokenize(written);
    b = tokenize(read);
  } catch {
    return false;
  }
  const key = (t: Token) => (t.kind === "string" ? `s:${t.str ?? ""}` : t.kind === "number" ? `n:${t.text}` : `${t.kind}:${t.text}`);
  return a.length === b.length && a.every((token, i) => key(token) === key(b[i]));
}
