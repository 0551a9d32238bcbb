// One text box for a choice of plain values (`str | int`): what is typed is read as the first type that
// can hold it, numbers and yes/no before text, so "42" is a number where numbers are allowed.

import type { Json } from "../../types";

export function readUnion(text: string, types: string[]): Json | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (types.includes("integer") && /^-?\d+$/.test(trimmed)) return Number(trimmed);
  if (types.includes("number") && trimmed !== "" && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (types.includes("boolean") && (trimmed === "true" || trimmed === "false")) return trimmed === "true";
  return text;
}

/** The types in words, for the hint under the box: "text or a whole number". */
export function unionHint(types: string[]): string {
  const words: Record<string, string> = { string: "text", integer: "a whole number", number: "a number", boolean: "true or false" };
  return types.map((t) => words[t] ?? t).join(" or ");
}
