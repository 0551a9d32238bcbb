// What the builder's controls hold before a row is complete: the text typed into a value box (with
// the value it means, if any), the field picked, the comparison. Rows become `Row`s only when
// complete (`rowFromDraft`); until then the builder keeps them and writes no CEL for them.

import type { Literal } from "./literals";
import {
  OPERATORS,
  effectiveType,
  fieldFor,
  isComplete,
  operatorsFor,
  type Condition,
  type ConditionField,
  type FieldType,
  type Join,
  type OperatorId,
  type Row,
} from "./model";

/** A value box: what is typed, and the value it means (undefined: nothing usable yet). */
export interface ValueDraft {
  text: string;
  literal: Literal | undefined;
}

/** What a value box takes: the type of one value, and whether it is a comma-separated list. */
export interface ValueKind {
  type: FieldType;
  list: boolean;
}

export interface DraftRow {
  /** Stable React key. */
  key: number;
  /** The field's CEL path; "" until one is picked. */
  field: string;
  op: OperatorId | null;
  /** Whether the value is a fixed value or another field. */
  compare: "value" | "field";
  value: ValueDraft;
  /** The other field's CEL path ("" until picked), when `compare` is "field". */
  other: string;
}

export const EMPTY_VALUE: ValueDraft = { text: "", literal: undefined };

// --- date-times: a datetime-local box shows local time; conditions hold UTC ----------------------

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** "2026-01-31T10:00" (local time, as a datetime-local box holds it) -> "2026-01-31T09:00:00Z". */
export function localToIso(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** "2026-01-31T09:00:00Z" -> the same moment in local time for a datetime-local box. */
export function isoToLocal(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const day = `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const seconds = date.getSeconds() ? `:${pad(date.getSeconds())}` : "";
  return `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}${seconds}`;
}

// --- values --------------------------------------------------------------------------------------

/** Text in a box that takes any value: JSON when it reads as JSON (5, true, null, {"a": 1}, "quoted"),
 * else the text itself. */
function looseValue(text: string): Literal | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    return JSON.parse(trimmed) as Literal;
  } catch {
    return text;
  }
}

function parseOne(type: FieldType, text: string): Literal | undefined {
  switch (type) {
    case "string":
      return text === "" ? undefined : text;
    case "number":
    case "integer": {
      const n = text.trim() === "" ? Number.NaN : Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case "boolean":
      return text === "true" ? true : text === "false" ? false : undefined;
    case "datetime":
      return localToIso(text);
    default:
      return looseValue(text);
  }
}

/** The value a box's text means for this kind, or undefined. A list is comma-separated: every
 * item must be usable, and there must be one. */
export function parseValue(kind: ValueKind, text: string): Literal | undefined {
  if (!kind.list) return parseOne(kind.type, text);
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map((item) => parseOne(kind.type, item));
  if (!items.length || items.some((item) => item === undefined)) return undefined;
  return items as Literal[];
}

function textOfOne(type: FieldType, value: Literal): string {
  if (typeof value === "string") {
    if (type === "datetime") return isoToLocal(value);
    // In a box that takes any value, text that would read as JSON is shown quoted.
    const loose = type === "string" || type === "number" || type === "integer" ? value : looseValue(value);
    return loose === value ? value : JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The text a box shows for a value. */
export function valueText(kind: ValueKind, value: Literal): string {
  if (kind.list && Array.isArray(value)) return value.map((item) => textOfOne(kind.type, item)).join(", ");
  return textOfOne(kind.type, value);
}

export function valueDraft(kind: ValueKind, text: string): ValueDraft {
  return { text, literal: parseValue(kind, text) };
}

// --- rows ----------------------------------------------------------------------------------------

/** The type of one item of a list field, from its sample (text when unknown). */
function itemType(field: ConditionField): FieldType {
  const first: unknown = Array.isArray(field.sample) ? field.sample.find((item) => item !== null) : undefined;
  if (typeof first === "number") return "number";
  if (typeof first === "boolean") return "boolean";
  return "string";
}

/** What the value box of a row takes, for its field and comparison. */
export function valueKindFor(field: ConditionField, op: OperatorId, literal?: Literal): ValueKind {
  const type = effectiveType(field, op, literal === undefined ? undefined : { kind: "value", value: literal });
  switch (op) {
    case "one_of":
      return { type: type === "number" || type === "integer" ? type : type === "any" ? "any" : "string", list: true };
    case "includes":
    case "excludes":
      return { type: field.type === "array" ? itemType(field) : "any", list: false };
    case "before":
    case "after":
      return { type: "datetime", list: false };
    default:
      return { type, list: false };
  }
}

/** The comparisons a row offers: those of its field's type, and its own if that is not one of them
 * (CEL written by hand, or a field whose type changed, is shown as it is). */
export function operatorChoices(field: ConditionField, op: OperatorId | null): OperatorId[] {
  const ids = operatorsFor(effectiveType(field, op), field.cel).map((o) => o.id);
  return op && !ids.includes(op) ? [...ids, op] : ids;
}

export function draftFromRow(row: Row, key: number, fields: readonly ConditionField[]): DraftRow {
  const draft: DraftRow = { key, field: row.field, op: row.op, compare: "value", value: EMPTY_VALUE, other: "" };
  if (row.value?.kind === "field") return { ...draft, compare: "field", other: row.value.cel };
  if (row.value) {
    const kind = valueKindFor(fieldFor(row.field, fields), row.op, row.value.value);
    return { ...draft, value: { text: valueText(kind, row.value.value), literal: row.value.value } };
  }
  return draft;
}

function rowOf(draft: DraftRow): Row | null {
  if (!draft.field || !draft.op) return null;
  const def = OPERATORS[draft.op];
  if (def.operand === "none") return { field: draft.field, op: draft.op };
  if (draft.compare === "field" && def.acceptsField) {
    return draft.other ? { field: draft.field, op: draft.op, value: { kind: "field", cel: draft.other } } : null;
  }
  return draft.value.literal === undefined ? null : { field: draft.field, op: draft.op, value: { kind: "value", value: draft.value.literal } };
}

/** The row a draft says, or null while it is incomplete (see `isComplete`). */
export function rowFromDraft(draft: DraftRow): Row | null {
  const row = rowOf(draft);
  return row && isComplete(row) ? row : null;
}

/** The condition of the complete rows (incomplete ones are left out; `toCel` checks the rest). */
export function conditionOf(join: Join, drafts: readonly DraftRow[]): Condition {
  return { join, rows: drafts.map(rowFromDraft).filter((row): row is Row => row !== null) };
}

// --- edits ---------------------------------------------------------------------------------------

/** Pick a field: keep the comparison and value when the type allows them, else start over. */
export function withField(draft: DraftRow, cel: string, fields: readonly ConditionField[]): DraftRow {
  const before = draft.field ? fieldFor(draft.field, fields) : null;
  const after = fieldFor(cel, fields);
  const choices = operatorChoices(after, null);
  const sameType = before !== null && effectiveType(before, draft.op) === after.type;
  if (sameType && draft.op && choices.includes(draft.op)) return { ...draft, field: cel };
  return { ...draft, field: cel, op: choices[0] ?? null, compare: "value", value: EMPTY_VALUE, other: "" };
}

/** Pick a comparison: the value's text stays, read again if the box now takes another kind. */
export function withOperator(draft: DraftRow, op: OperatorId, fields: readonly ConditionField[]): DraftRow {
  const field = fieldFor(draft.field, fields);
  const before = draft.op ? valueKindFor(field, draft.op, draft.value.literal) : null;
  const after = valueKindFor(field, op);
  const same = before !== null && before.type === after.type && before.list === after.list;
  const compare = OPERATORS[op].acceptsField ? draft.compare : "value";
  return { ...draft, op, compare, value: same ? draft.value : valueDraft(after, draft.value.text) };
}
