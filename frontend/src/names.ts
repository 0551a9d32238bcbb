// What end users read: steps by their names, data by "Step > Field", types in words. Ids, kinds,
// JSONPath and `$source` stay inside; every screen names things through here.

import { humanize } from "./forms";
import { findRefs, parsePath } from "./refs";
import { findAction } from "./scopes";
import { SOURCE, type ActionDef, type Workflow, type WorkflowAction } from "./types";

export const TRIGGER_TITLE = "Trigger";
export const EVENT_TITLE = "Trigger event";
/** Between a step and its field in a reference's name, as in "Add a Table of Contents > Post id". */
export const SEPARATOR = " > ";

export type Catalog = Map<string, ActionDef>;

/** What the steps inside a loop read of it, in words (`$.item`, `$.index`, `$.round`, `$.last`). */
export const LOOP_WORDS = { item: "Current item", index: "Item number", round: "Round", last: "Previous round's result" } as const;
export const LOOP_ROOTS = Object.keys(LOOP_WORDS) as Array<keyof typeof LOOP_WORDS>;

/** A step's name on the canvas: the name the user gave it, else its action's name. */
export function actionTitle(action: WorkflowAction, definition: ActionDef | undefined): string {
  return action.name?.trim() || definition?.name || "Unavailable step";
}

/** A node's name by id: "the trigger" for the trigger, the step's title otherwise. */
export function nodeTitle(id: string, workflow: Workflow, catalog: Catalog): string {
  if (id === SOURCE) return TRIGGER_TITLE;
  const action = findAction(workflow, id);
  return action ? actionTitle(action, catalog.get(action.kind)) : "a removed step";
}

const EVENT_FIELDS: Record<string, string> = { name: "Event name", id: "Event id", ts: "Time sent", v: "Event version", user: "User" };

/** A path segment in words: "post_id" -> "Post id", 0 -> "item 1". */
export function segmentLabel(segment: string | number): string {
  return typeof segment === "number" ? `item ${segment + 1}` : humanize(segment);
}

/** The segments after a root in words, joined by " > ". */
function segmentsLabel(segments: Array<string | number>): string {
  return segments.map(segmentLabel).join(SEPARATOR);
}

/** The name of the data a JSONPath reads: "Trigger event > Title", "Add a Table of Contents > Post id",
 * "<source step> > Result" for `$.output` on a connection. Paths the picker never writes (filters,
 * wildcards) read as "custom data from …". */
export function pathLabel(path: string, workflow: Workflow, catalog: Catalog, outputOf?: string): string {
  const parsed = parsePath(path);
  if (!parsed) {
    const root = /^\$\.(event|state|output|item|last)/.exec(path)?.[1];
    if (root === "item") return `custom data from the ${LOOP_WORDS.item.toLowerCase()}`;
    if (root === "last") return `custom data from the ${LOOP_WORDS.last.toLowerCase()}`;
    if (root === "event") return `custom data from the ${EVENT_TITLE.toLowerCase()}`;
    return "custom data from an earlier step";
  }
  const { root, segments } = parsed;
  if (root === "event") {
    if (segments.length === 0) return EVENT_TITLE;
    const [head, ...rest] = segments;
    if (head === "data") return rest.length ? `${EVENT_TITLE}${SEPARATOR}${segmentsLabel(rest)}` : `${EVENT_TITLE}${SEPARATOR}Data`;
    const first = typeof head === "string" ? (EVENT_FIELDS[head] ?? segmentLabel(head)) : segmentLabel(head);
    return [EVENT_TITLE, first, ...rest.map(segmentLabel)].join(SEPARATOR);
  }
  if (root in LOOP_WORDS) {
    const words = LOOP_WORDS[root as keyof typeof LOOP_WORDS];
    return segments.length ? `${words}${SEPARATOR}${segmentsLabel(segments)}` : words;
  }
  if (root === "output") {
    const source = outputOf ? nodeTitle(outputOf, workflow, catalog) : "The previous step";
    return segments.length ? `${source}${SEPARATOR}${segmentsLabel(segments)}` : `${source}${SEPARATOR}Result`;
  }
  if (root === "state") {
    const [id, ...rest] = segments;
    if (typeof id !== "string") return "Earlier steps";
    const title = nodeTitle(id, workflow, catalog);
    return rest.length ? `${title}${SEPARATOR}${segmentsLabel(rest)}` : `${title}${SEPARATOR}Result`;
  }
  return "custom data";
}

/** A value as an end user reads it: refs in it replaced by the data's name in brackets. */
export function valueText(value: string, workflow: Workflow, catalog: Catalog, outputOf?: string): string {
  const spans = findRefs(value);
  if (!spans.length) return value;
  let text = "";
  let at = 0;
  for (const span of spans) {
    text += value.slice(at, span.start) + `[${pathLabel(span.path, workflow, catalog, outputOf)}]`;
    at = span.end;
  }
  return text + value.slice(at);
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "yes or no",
  array: "a list",
  object: "a group of fields",
  null: "nothing",
  any: "anything",
};

/** A JSON type (or "a | b") in words: "integer" -> "a whole number". */
export function typeWords(type: string): string {
  return type
    .split(/\s*\|\s*|\s+or\s+/)
    .map((t) => TYPE_WORDS[t] ?? t)
    .join(" or ");
}

/** A short type name for a picker row: "text", "number", "yes/no", "list", "group". */
export function typeShort(type: string): string {
  const short: Record<string, string> = {
    string: "text", integer: "number", number: "number", boolean: "yes/no", array: "list", object: "group", null: "empty", any: "any",
  };
  return type
    .split(/\s*\|\s*/)
    .map((t) => short[t] ?? t)
    .filter((t, i, all) => all.indexOf(t) === i)
    .join(" or ");
}
