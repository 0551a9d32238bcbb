// The condition builder's model: the values a condition can test, its rows and join, and the
// comparisons offered for each type of value (labels in plain words). Pure: no CEL text here (see
// cel.ts) and no React.

import { isWritable, type Literal } from "./literals";
import { canTestPresence, canonicalPath, labelOfPath } from "./paths";

export type { Literal } from "./literals";

export type FieldType = "string" | "number" | "integer" | "boolean" | "datetime" | "array" | "object" | "any";

/** A value a condition can test: its CEL path, how an end user reads it, and its type. */
export interface ConditionField {
  cel: string;
  label: string;
  group: string;
  type: FieldType;
  sample?: unknown;
}

export type OperatorId =
  | "eq"
  | "ne"
  | "gt"
  | "ge"
  | "lt"
  | "le"
  | "contains"
  | "not_contains"
  | "starts_with"
  | "ends_with"
  | "is_empty"
  | "is_not_empty"
  | "one_of"
  | "is_true"
  | "is_false"
  | "before"
  | "after"
  | "includes"
  | "excludes"
  | "exists"
  | "not_exists";

/** What a row compares with: a fixed value, or another field (by its CEL path). */
export type Operand = { kind: "value"; value: Literal } | { kind: "field"; cel: string };

/** One comparison: a field (a CEL path), an operator and, unless the operator takes none, a value. */
export interface Row {
  field: string;
  op: OperatorId;
  value?: Operand;
}

export type Join = "all" | "any";

export interface Condition {
  join: Join;
  rows: Row[];
}

export interface OperatorDef {
  id: OperatorId;
  label: string;
  /** none: no value; value: one value; list: a list of values ("is one of"). */
  operand: "none" | "value" | "list";
  /** Whether the value may be another field instead of a fixed value. */
  acceptsField: boolean;
}

function op(id: OperatorId, label: string, operand: OperatorDef["operand"], acceptsField = operand === "value"): OperatorDef {
  return { id, label, operand, acceptsField };
}

export const OPERATORS: Record<OperatorId, OperatorDef> = {
  eq: op("eq", "equals", "value"),
  ne: op("ne", "does not equal", "value"),
  gt: op("gt", "is greater than", "value"),
  ge: op("ge", "is greater than or equal to", "value"),
  lt: op("lt", "is less than", "value"),
  le: op("le", "is less than or equal to", "value"),
  contains: op("contains", "contains", "value"),
  not_contains: op("not_contains", "does not contain", "value"),
  starts_with: op("starts_with", "starts with", "value"),
  ends_with: op("ends_with", "ends with", "value"),
  is_empty: op("is_empty", "is empty", "none"),
  is_not_empty: op("is_not_empty", "is not empty", "none"),
  one_of: op("one_of", "is one of", "list"),
  is_true: op("is_true", "is true", "none"),
  is_false: op("is_false", "is false", "none"),
  before: op("before", "is before", "value"),
  after: op("after", "is after", "value"),
  includes: op("includes", "contains", "value"),
  excludes: op("excludes", "does not contain", "value"),
  exists: op("exists", "exists", "none"),
  not_exists: op("not_exists", "does not exist", "none"),
};

const NUMBER_OPS: OperatorId[] = ["eq", "ne", "gt", "ge", "lt", "le", "one_of"];

/** The comparisons for each type, in the order the builder offers them (before exists / does not exist). */
export const OPERATORS_BY_TYPE: Record<FieldType, OperatorId[]> = {
  string: ["eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "is_empty", "is_not_empty", "one_of"],
  number: NUMBER_OPS,
  integer: NUMBER_OPS,
  boolean: ["is_true", "is_false"],
  datetime: ["before", "after"],
  array: ["includes", "excludes", "is_empty", "is_not_empty"],
  object: ["eq", "ne"],
  any: ["eq", "ne"],
};

/** The comparisons offered for a value of this type at this path (exists / does not exist only where
 * CEL's `has()` can test the path). */
export function operatorsFor(type: FieldType, cel: string): OperatorDef[] {
  const ids = [...OPERATORS_BY_TYPE[type], ...(canTestPresence(cel) ? (["exists", "not_exists"] as const) : [])];
  return ids.map((id) => OPERATORS[id]);
}

const TYPE_WORDS: Record<FieldType, string> = {
  string: "text",
  number: "number",
  integer: "whole number",
  boolean: "yes/no",
  datetime: "date and time",
  array: "list",
  object: "group of values",
  any: "any value",
};

export function typeInWords(type: FieldType): string {
  return TYPE_WORDS[type];
}

export const OTHER_GROUP = "Other values";

/** The field at a path: one of `fields` (matched by canonical path), else one made from the path
 * (type "any", labelled by its last name) so a condition over a value without sample data is kept. */
export function fieldFor(cel: string, fields: readonly ConditionField[]): ConditionField {
  const canonical = canonicalPath(cel) ?? cel;
  const known = fields.find((f) => f.cel === cel) ?? fields.find((f) => canonicalPath(f.cel) === canonical);
  return known ?? { cel: canonical, label: labelOfPath(canonical), group: OTHER_GROUP, type: "any" };
}

function allNumbers(value: Operand | undefined): boolean {
  return value?.kind === "value" && Array.isArray(value.value) && value.value.length > 0 && value.value.every((v) => typeof v === "number");
}

/** The type a row treats its field as: the field's own, or for a field of unknown type ("any") the
 * type its comparison implies (a field compared with "is greater than" is a number). */
export function effectiveType(field: ConditionField, op: OperatorId | null, value?: Operand): FieldType {
  if (field.type !== "any" || op === null) return field.type;
  switch (op) {
    case "gt":
    case "ge":
    case "lt":
    case "le":
      return "number";
    case "contains":
    case "not_contains":
    case "starts_with":
    case "ends_with":
      return "string";
    case "one_of":
      return allNumbers(value) ? "number" : "string";
    case "is_true":
    case "is_false":
      return "boolean";
    case "before":
    case "after":
      return "datetime";
    case "includes":
    case "excludes":
      return "array";
    default:
      return "any";
  }
}

/** A date-time as the builder writes it: RFC 3339 in UTC, to the second. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function isScalar(value: Literal): boolean {
  return value === null || typeof value !== "object";
}

function completeLiteral(op: OperatorId, value: Literal): boolean {
  if (!isWritable(value) || value === "") return false;
  switch (op) {
    case "gt":
    case "ge":
    case "lt":
    case "le":
      return typeof value === "number";
    case "contains":
    case "not_contains":
    case "starts_with":
    case "ends_with":
      return typeof value === "string";
    case "before":
    case "after":
      return typeof value === "string" && TIMESTAMP.test(value);
    case "one_of":
      return Array.isArray(value) && value.length > 0 && value.every((v) => isScalar(v) && v !== "");
    case "includes":
    case "excludes":
      return isScalar(value) && value !== null;
    default:
      return true;
  }
}

/** Whether a row says everything its CEL needs: a field, a value where the comparison takes one (not
 * blank text, an empty list or a malformed date-time), and for exists a path `has()` can test. */
export function isComplete(row: Row): boolean {
  if (canonicalPath(row.field) === null) return false;
  const def = OPERATORS[row.op];
  if (!def) return false;
  if (row.op === "exists" || row.op === "not_exists") return canTestPresence(row.field);
  if (def.operand === "none") return true;
  const value = row.value;
  if (!value) return false;
  if (value.kind === "field") return def.acceptsField && canonicalPath(value.cel) !== null;
  return completeLiteral(row.op, value.value);
}
