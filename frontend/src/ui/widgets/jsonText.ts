// Literal JSON typed into a field: parsed, checked against what the field takes (a group of fields or a
// list), and the reason in words when it is not there yet.

import type { Json } from "../../types";

export function readJson(text: string, type: unknown): { value: Json | undefined; error: string | null } {
  if (!text.trim()) return { value: undefined, error: null };
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (error) {
    return { value: undefined, error: `Not valid JSON yet: ${(error as Error).message}` };
  }
  if (type === "object" && (value === null || typeof value !== "object" || Array.isArray(value))) {
    return { value: undefined, error: 'This takes a group of fields in braces, e.g. {"plan": "pro"}.' };
  }
  if (type === "array" && !Array.isArray(value)) return { value: undefined, error: 'This takes a list in brackets, e.g. ["a", "b"].' };
  return { value, error: null };
}

export function jsonText(value: unknown): string {
  return value === undefined || value === null ? "" : JSON.stringify(value, null, 2);
}
