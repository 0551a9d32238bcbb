// A condition in words, for the canvas and summaries: field labels and plain comparisons, never CEL
// or paths ("Post id is greater than 3 and Status equals "published"").

import type { Literal } from "./literals";
import { OPERATORS, TIMESTAMP, fieldFor, type Condition, type ConditionField, type Operand, type Row } from "./model";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-01-31T09:00:00Z" -> "31 Jan 2026, 09:00 UTC" (seconds only when not zero). */
export function describeTimestamp(iso: string): string {
  if (!TIMESTAMP.test(iso)) return JSON.stringify(iso);
  const [date, time] = iso.slice(0, -1).split("T");
  const [year, month, day] = date.split("-").map(Number);
  const clock = time.endsWith(":00") ? time.slice(0, 5) : time;
  return `${day} ${MONTHS[month - 1] ?? month} ${year}, ${clock} UTC`;
}

function literalInWords(value: Literal): string {
  if (value === null) return "nothing";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `"${value}"`; // as typed: no escapes
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, " ");
}

function operandInWords(row: Row, value: Operand, fields: readonly ConditionField[]): string {
  if (value.kind === "field") {
    const other = fieldFor(value.cel, fields);
    const mine = fieldFor(row.field, fields);
    // Two fields with one label (the awaited event's "Id" and the trigger's "Id"): say which.
    return other.label === mine.label && other.cel !== mine.cel ? `${other.label} (${other.group})` : other.label;
  }
  const v = value.value;
  if ((row.op === "before" || row.op === "after") && typeof v === "string") return describeTimestamp(v);
  if (row.op === "one_of" && Array.isArray(v)) return v.map(literalInWords).join(", ");
  return literalInWords(v);
}

export function describeRow(row: Row, fields: readonly ConditionField[]): string {
  const words = [fieldFor(row.field, fields).label, OPERATORS[row.op]?.label ?? row.op];
  if (row.value && OPERATORS[row.op]?.operand !== "none") words.push(operandInWords(row, row.value, fields));
  return words.join(" ");
}

/** The condition in words: one row as is, all rows joined by "and", any rows as "any of: A; B".
 * The empty condition is "" (the caller says what that means, e.g. "Always"). */
export function describe(condition: Condition, fields: readonly ConditionField[]): string {
  const rows = condition.rows.map((row) => describeRow(row, fields));
  if (rows.length <= 1) return rows.join("");
  return condition.join === "all" ? rows.join(" and ") : `any of: ${rows.join("; ")}`;
}
