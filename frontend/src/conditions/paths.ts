// CEL paths of the values a condition tests (`event.data.title`, `state["my-step"].ok`,
// `event.data.items[0].sku`): reading, writing in one canonical form, and naming them for people.

import { Cursor, SubsetError } from "./lexer";
import { quote } from "./literals";

/** A name selected from a map, or an index into a list. */
export type Segment = string | number;

export interface Path {
  root: string;
  segments: Segment[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** CEL's keywords and reserved words: never written as `.name`. */
const RESERVED = new Set(
  "true false null in as break const continue else for function if import let loop package namespace return var void while".split(" "),
);

/** Whether a name can be written as `.name` (else it is written `["name"]`). */
export function isSimpleName(name: string): boolean {
  return IDENT.test(name) && !RESERVED.has(name);
}

export function formatPath(path: Path): string {
  let text = path.root;
  for (const segment of path.segments) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (isSimpleName(segment)) text += `.${segment}`;
    else text += `[${quote(segment)}]`;
  }
  return text;
}

/** Read a path; it stops before `.name(` (a method called on the path). */
export function readPath(c: Cursor): Path {
  const root = c.next();
  if (root.kind !== "ident" || !isSimpleName(root.text) || c.is("(")) throw new SubsetError("expected a path");
  const segments: Segment[] = [];
  for (;;) {
    if (c.is(".") && c.peek(1)?.kind === "ident" && !c.is("(", 2)) {
      c.next();
      segments.push(c.next().text);
    } else if (c.is("[")) {
      c.next();
      const key = c.next();
      if (key.kind === "string" && key.str !== undefined) segments.push(key.str);
      else if (key.kind === "number" && Number.isSafeInteger(key.num) && /^[0-9]+$/.test(key.text)) segments.push(key.num ?? 0);
      else throw new SubsetError("expected a name or an index");
      c.expect("]");
    } else {
      return { root: root.text, segments };
    }
  }
}

export function parsePath(text: string): Path | null {
  try {
    const c = Cursor.of(text);
    const path = readPath(c);
    return c.done() ? path : null;
  } catch (error) {
    if (error instanceof SubsetError) return null;
    throw error;
  }
}

/** The path as `toCel` writes it, or null if the text is not a path. */
export function canonicalPath(text: string): string | null {
  const path = parsePath(text);
  return path && formatPath(path);
}

/** Whether `has(path)` is valid CEL: the path ends by selecting a name with a dot. */
export function canTestPresence(text: string): boolean {
  const path = parsePath(text);
  const last = path?.segments[path.segments.length - 1];
  return typeof last === "string" && isSimpleName(last);
}

/** "post_id" / "postId" / "post-id" -> "Post id". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_\-.\s]+/g, " ")
    .trim()
    .toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : name;
}

/** A label for a path nobody named: its last name, humanized ("Items 2" for `items[1]`). */
export function labelOfPath(text: string): string {
  const path = parsePath(text);
  if (!path) return text;
  const segments = path.segments;
  const last = segments[segments.length - 1];
  if (last === undefined) return humanize(path.root);
  if (typeof last === "string") return humanize(last);
  const names = segments.filter((s): s is string => typeof s === "string");
  const owner = names.length ? humanize(names[names.length - 1]) : humanize(path.root);
  return `${owner} ${last + 1}`;
}
