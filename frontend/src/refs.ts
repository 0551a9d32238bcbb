// `!ref($...)` references in the editor: finding them in text (for chips), building JSONPath paths,
// inserting them, and listing what a ref can point at (fields of a sample event, paths of an
// upstream action's typed output).

import type { Json, JsonObject } from "./types";

export const REF_OPEN = "!ref(";

export interface RefSpan {
  start: number;
  end: number;
  path: string;
}

/** Every `!ref(...)` in a text, balancing parentheses and skipping quoted strings (as the server does). */
export function findRefs(text: string): RefSpan[] {
  const spans: RefSpan[] = [];
  let start = text.indexOf(REF_OPEN);
  while (start !== -1) {
    let depth = 1;
    let quote = "";
    let i = start + REF_OPEN.length;
    for (; i < text.length; i += 1) {
      const ch = text[i];
      if (quote) {
        if (ch === "\\") i += 1;
        else if (ch === quote) quote = "";
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "(") depth += 1;
      else if (ch === ")") {
        depth -= 1;
        if (depth === 0) break;
      }
    }
    if (depth !== 0) break; // unterminated: the server reports it
    spans.push({ start, end: i + 1, path: text.slice(start + REF_OPEN.length, i).trim() });
    start = text.indexOf(REF_OPEN, i + 1);
  }
  return spans;
}

export function isWholeRef(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const spans = findRefs(value);
  return spans.length === 1 && spans[0].start === 0 && spans[0].end === value.length;
}

export function refText(path: string): string {
  return `${REF_OPEN}${path})`;
}

const SHORTHAND = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JSONPath from a root (`$.event`, `$.state`, `$.output`) and segments: names (quoted when needed)
 * and array indexes. */
export function pathFor(root: string, segments: Array<string | number>): string {
  let path = root;
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (SHORTHAND.test(segment)) path += `.${segment}`;
    else path += `['${segment.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`;
  }
  return path;
}

/** The new value of an input after picking a ref: the ref alone (keeps its JSON type), or appended to
 * existing text (rendered into it). */
export function insertRef(current: unknown, path: string, mode: "replace" | "append" = "replace"): string {
  const ref = refText(path);
  if (mode === "append" && typeof current === "string" && current.length > 0) {
    return current.endsWith(" ") ? current + ref : `${current} ${ref}`;
  }
  return ref;
}

/** Remove one ref (by position) from a text, tidying the spaces around it. */
export function removeRef(text: string, index: number): string {
  const span = findRefs(text)[index];
  if (!span) return text;
  return (text.slice(0, span.start) + text.slice(span.end)).replace(/\s{2,}/g, " ").trim();
}

export interface RefTarget {
  path: string;
  label: string;
  type: string;
}

type Schema = JsonObject;

function resolve(root: Schema, node: Json | undefined): Schema {
  let current: Json | undefined = node;
  for (let hops = 0; hops < 32; hops += 1) {
    if (!current || typeof current !== "object" || Array.isArray(current)) return {};
    const ref = (current as Schema)["$ref"];
    if (typeof ref !== "string" || !ref.startsWith("#/")) return current as Schema;
    let target: Json | undefined = root;
    for (const part of ref.slice(2).split("/")) {
      target = target && typeof target === "object" && !Array.isArray(target) ? (target as Schema)[part] : undefined;
    }
    current = target;
  }
  return {};
}

function typeName(schema: Schema, root: Schema): string {
  const options = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (Array.isArray(options)) {
    return options.map((o) => typeName(resolve(root, o), root)).filter((t) => t !== "null").join(" | ") || "null";
  }
  if (typeof schema.type === "string") return schema.type;
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  if (schema.properties) return "object";
  return "any";
}

/** Paths an upstream output can be read at, from its JSON Schema (objects and arrays walked to `depth`). */
export function schemaPaths(schema: Schema, root: string, label: string, depth = 4): RefTarget[] {
  const found: RefTarget[] = [];
  const walk = (node: Json | undefined, segments: Array<string | number>, title: string, level: number) => {
    const resolved = resolve(schema, node);
    found.push({ path: pathFor(root, segments), label: title, type: typeName(resolved, schema) });
    if (level >= depth) return;
    const branches = ((resolved.anyOf ?? resolved.oneOf) as Json[] | undefined) ?? [resolved];
    for (const branch of branches) {
      const option = resolve(schema, branch);
      const properties = option.properties as JsonObject | undefined;
      if (properties && typeof properties === "object") {
        for (const [name, child] of Object.entries(properties)) {
          walk(child, [...segments, name], `${title}.${name}`, level + 1);
        }
      }
      if (option.type === "array" && option.items) walk(option.items, [...segments, 0], `${title}[0]`, level + 1);
    }
  };
  walk(schema, [], label, 0);
  const unique = new Map(found.map((t) => [t.path, t]));
  return [...unique.values()];
}

/** Paths into a sample value (a pasted or recent event), with the JSON type found there. */
export function samplePaths(sample: Json, root: string, label: string, depth = 5): RefTarget[] {
  const found: RefTarget[] = [];
  const walk = (value: Json, segments: Array<string | number>, title: string, level: number) => {
    const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    found.push({ path: pathFor(root, segments), label: title, type });
    if (level >= depth) return;
    if (Array.isArray(value)) {
      if (value.length > 0) walk(value[0], [...segments, 0], `${title}[0]`, level + 1);
    } else if (value && typeof value === "object") {
      for (const [name, child] of Object.entries(value)) walk(child, [...segments, name], `${title}.${name}`, level + 1);
    }
  };
  walk(sample, [], label, 0);
  return found;
}

/** A simple JSONPath (what `pathFor` writes: names, quoted names and indexes after `$.root`) as its root
 * and segments; null for anything else (filters, wildcards, slices, descendants). */
export function parsePath(path: string): { root: string; segments: Array<string | number> } | null {
  const head = /^\$\.([A-Za-z_][A-Za-z0-9_]*)/.exec(path.trim());
  if (!head) return null;
  const text = path.trim();
  const segments: Array<string | number> = [];
  let at = head[0].length;
  const pattern = /\.([A-Za-z_][A-Za-z0-9_-]*)|\.(\d+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;
  while (at < text.length) {
    pattern.lastIndex = at;
    const found = pattern.exec(text);
    if (!found) return null;
    if (found[1] !== undefined) segments.push(found[1]);
    else if (found[2] !== undefined) segments.push(found[2]); // `$.state.1` (the TypeScript kit's form) is a name
    else if (found[3] !== undefined) segments.push(Number(found[3]));
    else segments.push((found[4] ?? found[5]).replace(/\\(.)/g, "$1"));
    at = pattern.lastIndex;
  }
  return { root: head[1], segments };
}
