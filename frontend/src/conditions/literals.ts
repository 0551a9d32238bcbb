// CEL literals for the JSON-like values a condition compares with: writing them (strings always
// double-quoted, with escapes) and reading back exactly what was written.

import { Cursor, SubsetError } from "./lexer";

/** A fixed value in a condition. */
export type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

const ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A CEL string literal: double quotes; backslash, quote, newline, return and tab escaped; other
 * control characters and the line/paragraph separators as \uXXXX. */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch in ESCAPES) out += ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A number as CEL reads it: an int when it is a safe integer, else a double. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return n.toExponential();
  return String(Object.is(n, -0) ? 0 : n);
}

/** A number always written as a CEL double (`1.0`, `2.5`, `1e+21`). */
export function formatDouble(n: number): string {
  const text = formatNumber(n);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

export function formatLiteral(value: Literal): string {
  if (value === null) return "null";
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatLiteral).join(", ")}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${quote(key)}: ${formatLiteral(item)}`)
    .join(", ")}}`;
}

/** Whether a literal starts at the cursor. */
export function atLiteral(c: Cursor): boolean {
  const token = c.peek();
  if (!token) return false;
  if (token.kind === "string" || token.kind === "number") return true;
  if (token.kind === "ident") return ["true", "false", "null"].includes(token.text);
  return ["-", "[", "{"].includes(token.text);
}

export function readLiteral(c: Cursor): Literal {
  const token = c.next();
  if (token.kind === "string" && token.str !== undefined) return token.str;
  if (token.kind === "number" && token.num !== undefined) return token.num;
  if (token.kind === "ident" && token.text === "true") return true;
  if (token.kind === "ident" && token.text === "false") return false;
  if (token.kind === "ident" && token.text === "null") return null;
  if (token.kind === "punct" && token.text === "-") {
    const number = c.next();
    if (number.kind !== "number" || number.num === undefined) throw new SubsetError("expected a number");
    return -number.num;
  }
  if (token.kind === "punct" && token.text === "[") {
    const items: Literal[] = [];
    while (!c.eat("]")) {
      if (items.length) c.expect(",");
      items.push(readLiteral(c));
    }
    return items;
  }
  if (token.kind === "punct" && token.text === "{") {
    const map: { [key: string]: Literal } = {};
    while (!c.eat("}")) {
      if (Object.keys(map).length) c.expect(",");
      const key = c.next();
      if (key.kind !== "string" || key.str === undefined || Object.hasOwn(map, key.str)) throw new SubsetError("expected a new string key");
      c.expect(":");
      // defineProperty: a key named "__proto__" is a key like any other
      Object.defineProperty(map, key.str, { value: readLiteral(c), enumerable: true, writable: true, configurable: true });
    }
    return map;
  }
  throw new SubsetError(`unexpected ${token.text}`);
}

/** Whether every number in a literal is finite (NaN and infinities have no CEL literal). */
export function isWritable(value: Literal): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isWritable);
  if (value !== null && typeof value === "object") return Object.values(value).every(isWritable);
  return true;
}
