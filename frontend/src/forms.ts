// Form state for an action's inputs: schemas made friendly for the form library, defaults, and the
// server's validation problems placed on the node and the field they name.

import type { ErrorSchema } from "@rjsf/utils";
import type { Json, JsonObject, Problem, Workflow } from "./types";

export interface PlacedProblems {
  actions: Record<string, Problem[]>;
  edges: Record<string, Problem[]>;
  trigger: Problem[];
  workflow: Problem[];
}

const INDEXED = /^(actions|edges)\[(\d+)\](.*)$/;

/** Where each problem belongs: an action (by id), an edge ("from->to"), the trigger, or the workflow. */
export function placeProblems(problems: Problem[], workflow: Workflow): PlacedProblems {
  const placed: PlacedProblems = { actions: {}, edges: {}, trigger: [], workflow: [] };
  for (const problem of problems) {
    const match = INDEXED.exec(problem.path);
    if (match) {
      const index = Number(match[2]);
      if (match[1] === "actions" && workflow.actions[index]) {
        const id = workflow.actions[index].id;
        (placed.actions[id] ??= []).push(problem);
        continue;
      }
      if (match[1] === "edges" && workflow.edges[index]) {
        const edge = workflow.edges[index];
        const key = `${edge.from}->${edge.to}`;
        (placed.edges[key] ??= []).push(problem);
        continue;
      }
    }
    if (problem.path.startsWith("trigger")) placed.trigger.push(problem);
    else placed.workflow.push(problem);
  }
  return placed;
}

/** A path's segments: ".address.city[2]" -> ["address", "city", 2]. */
export function pathSegments(rest: string): Array<string | number> {
  const segments: Array<string | number> = [];
  const pattern = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  let found: RegExpExecArray | null;
  while ((found = pattern.exec(rest)) !== null) {
    if (found[1] !== undefined) segments.push(found[1]);
    else if (found[2] !== undefined) segments.push(Number(found[2]));
    else segments.push(found[3].replace(/\\(.)/g, "$1"));
  }
  return segments;
}

/** The part of a problem path below `actions[i].inputs`, as segments: "address.city" -> ["address", "city"]. */
export function inputSegments(path: string): Array<string | number> | null {
  const match = /^actions\[\d+\]\.inputs(.*)$/.exec(path);
  return match ? pathSegments(match[1]) : null;
}

/** The form library's error schema for problems, so each shows on its field: `segmentsOf` gives a problem's
 * field (null: not in this form); by default, the field of an action's inputs. */
export function errorSchemaFor(
  problems: Problem[],
  segmentsOf: (path: string) => Array<string | number> | null = inputSegments,
): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const problem of problems) {
    const segments = segmentsOf(problem.path);
    if (segments === null) continue;
    let node = root;
    for (const segment of segments) {
      const key = String(segment);
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    ((node.__errors ??= []) as string[]).push(problem.message);
  }
  return root as ErrorSchema;
}

/** Default values declared by the schema for the top-level inputs. */
export function defaultInputs(schema: JsonObject): JsonObject {
  const defaults: JsonObject = {};
  const properties = (schema.properties ?? {}) as JsonObject;
  for (const [name, property] of Object.entries(properties)) {
    if (property && typeof property === "object" && !Array.isArray(property) && "default" in property) {
      defaults[name] = (property as JsonObject).default as Json;
    }
  }
  return defaults;
}

/** The input schema as the form shows it: `$defs` kept for references, CEL-or-object conditions shown
 * as the CEL text field (an object value, imported from json-logic, keeps both). */
export function formSchema(schema: JsonObject, value: JsonObject): JsonObject {
  const copy = JSON.parse(JSON.stringify(schema)) as JsonObject;
  delete copy.title;
  const properties = (copy.properties ?? {}) as JsonObject;
  for (const [name, property] of Object.entries(properties)) {
    if (!property || typeof property !== "object" || Array.isArray(property)) continue;
    if (!("title" in property)) (property as JsonObject).title = humanize(name);
    const options = (property as JsonObject).anyOf as JsonObject[] | undefined;
    const cel = options?.find((o) => o && typeof o === "object" && (o as JsonObject).format === "cel");
    if (cel && typeof value[name] !== "object") {
      const { anyOf: _ignored, ...rest } = property as JsonObject;
      properties[name] = { ...rest, ...cel };
    }
  }
  nameChoices(copy, (copy.$defs ?? copy.definitions ?? {}) as JsonObject);
  return copy;
}

/** A choice's name in the form's select: its title, the title of the definition it refers to, "None"
 * for null, "CEL expression", or its type ("Text", "Number"…), instead of the form library's
 * "<field> option 2". */
export function choiceTitle(option: JsonObject, defs: JsonObject): string {
  if (typeof option.title === "string" && option.title) return option.title;
  if (typeof option.$ref === "string") {
    const name = option.$ref.split("/").pop() ?? "";
    const target = defs[name];
    const title = target && typeof target === "object" && !Array.isArray(target) ? (target as JsonObject).title : undefined;
    return typeof title === "string" && title ? title : humanize(name);
  }
  if (option.const !== undefined) return JSON.stringify(option.const);
  if (option.format === "cel") return "CEL expression";
  const types: Record<string, string> = {
    null: "None", string: "Text", integer: "Whole number", number: "Number", boolean: "Yes or no", array: "List", object: "Object",
  };
  const type = Array.isArray(option.type) ? option.type.join(" or ") : option.type;
  return typeof type === "string" ? (types[type] ?? humanize(type)) : "Other";
}

/** Give every anyOf/oneOf option of `schema` a title, and every property a label from its name, nested
 * ones too (in objects, lists and definitions), in place. */
function nameChoices(schema: Json, defs: JsonObject): void {
  if (!schema || typeof schema !== "object") return;
  if (Array.isArray(schema)) {
    schema.forEach((item) => nameChoices(item, defs));
    return;
  }
  const properties = schema.properties;
  if (properties && typeof properties === "object" && !Array.isArray(properties)) {
    for (const [name, property] of Object.entries(properties)) {
      if (property && typeof property === "object" && !Array.isArray(property) && !("title" in property) && !("$ref" in property)) {
        property.title = humanize(name);
      }
    }
  }
  for (const key of ["anyOf", "oneOf"]) {
    const options = schema[key];
    if (!Array.isArray(options)) continue;
    const titles = new Map<string, number>();
    for (const option of options) {
      if (!option || typeof option !== "object" || Array.isArray(option)) continue;
      if (!option.title) {
        let title = choiceTitle(option, defs);
        const seen = titles.get(title) ?? 0;
        titles.set(title, seen + 1);
        if (seen) title = `${title} ${seen + 1}`;
        option.title = title;
      }
    }
  }
  for (const [key, child] of Object.entries(schema)) {
    if (key !== "const" && key !== "default" && key !== "enum" && key !== "examples") nameChoices(child, defs);
  }
}

/** Widgets: CEL expressions and long text get a text area. */
export function uiSchemaFor(schema: JsonObject): JsonObject {
  const ui: JsonObject = { "ui:submitButtonOptions": { norender: true } };
  const properties = (schema.properties ?? {}) as JsonObject;
  for (const [name, property] of Object.entries(properties)) {
    if (!property || typeof property !== "object" || Array.isArray(property)) continue;
    const p = property as JsonObject;
    const widget = p["x-widget"] ?? (p.format === "cel" || p.format === "textarea" ? "textarea" : undefined);
    if (widget === "textarea") ui[name] = { "ui:widget": "textarea", "ui:options": { rows: p.format === "cel" ? 2 : 5 } };
  }
  return ui;
}

/** A copy of `value` with `path` set (or removed when `next` is undefined); containers are created as needed. */
export function setIn(value: Json, path: Array<string | number>, next: Json | undefined): Json {
  if (path.length === 0) return next === undefined ? null : next;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const list = Array.isArray(value) ? [...value] : [];
    const child = setIn(list[head] ?? null, rest, next);
    if (rest.length === 0 && next === undefined) list.splice(head, 1);
    else list[head] = child;
    return list;
  }
  const object: JsonObject = value && typeof value === "object" && !Array.isArray(value) ? { ...value } : {};
  if (rest.length === 0 && next === undefined) {
    delete object[head];
    return object;
  }
  object[head] = setIn(object[head] ?? null, rest, next);
  return object;
}

/** Form data as JSON: the form library leaves `undefined` for emptied fields; drop them. A list keeps
 * its empty items (as null), so an item just added stays on show until it is filled in or removed. */
export function cleanJson(value: unknown): Json {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value && typeof value === "object") {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = cleanJson(v);
    return out;
  }
  return value as Json;
}

/** A field name as a label: "post_id" -> "Post id". */
export function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").trim().toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : name;
}
