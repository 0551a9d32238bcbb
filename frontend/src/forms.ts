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
const IN_BODY = /^actions\[(\d+)\]\.body\.((?:actions|edges)\[\d+\].*)$/;

/** A problem's path inside the loops it is in: `actions[2].body.actions[0].inputs.sku` is
 * `actions[0].inputs.sku` of the graph inside the loop `actions[2]`. A path about the loop's body as a
 * whole (`actions[2].body`, `.body.result`, `.body.edges`) stays the loop's. */
export function scopedPath(workflow: Workflow, path: string): { graph: Workflow; scope: string[]; rest: string } {
  let graph = workflow;
  let rest = path;
  const scope: string[] = [];
  for (let found = IN_BODY.exec(rest); found; found = IN_BODY.exec(rest)) {
    const loop = graph.actions[Number(found[1])];
    if (!loop?.body) break;
    scope.push(loop.id);
    graph = { actions: loop.body.actions ?? [], edges: loop.body.edges ?? [] };
    rest = found[2];
  }
  return { graph, scope, rest };
}

/** Where each problem belongs: an action (by id, inside loops too), an edge ("from->to"), the trigger,
 * or the workflow. */
export function placeProblems(problems: Problem[], workflow: Workflow): PlacedProblems {
  const placed: PlacedProblems = { actions: {}, edges: {}, trigger: [], workflow: [] };
  for (const problem of problems) {
    const { graph, rest } = scopedPath(workflow, problem.path);
    const match = INDEXED.exec(rest);
    if (match) {
      const index = Number(match[2]);
      if (match[1] === "actions" && graph.actions[index]) {
        const id = graph.actions[index].id;
        (placed.actions[id] ??= []).push(problem);
        continue;
      }
      if (match[1] === "edges" && graph.edges[index]) {
        const edge = graph.edges[index];
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
  const match = /^(?:actions\[\d+\]\.body\.)*actions\[\d+\]\.inputs(.*)$/.exec(path);
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

/** The input schema as the form shows it: `$defs` kept for references; a choice among plain values
 * (`str | int`, `Duration | None`) shown as one control (see `collapseUnions`); CEL-or-object
 * conditions shown as the condition (an object value, imported from json-logic, keeps both). */
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
  collapseUnions(copy);
  nameChoices(copy, (copy.$defs ?? copy.definitions ?? {}) as JsonObject);
  return copy;
}

const SCALARS = new Set(["string", "integer", "number", "boolean", "null"]);

function scalarTypes(option: Json): string[] | null {
  if (!option || typeof option !== "object" || Array.isArray(option) || "$ref" in option || "properties" in option) return null;
  const type = option.type;
  const types = Array.isArray(type) ? type : typeof type === "string" ? [type] : [];
  return types.length && types.every((t) => typeof t === "string" && SCALARS.has(t)) ? (types as string[]) : null;
}

/** A choice among plain values becomes one control: `str | None` is an optional text, `str | int` one
 * text box whose value is read as a number when it is one (`x-union` lists the types it may take).
 * The string branch's format and pattern stay (a date-time picker for "ISO time or epoch ms"). Nested
 * properties, list items and definitions are collapsed too, in place. */
export function collapseUnions(schema: Json): void {
  if (!schema || typeof schema !== "object") return;
  if (Array.isArray(schema)) {
    schema.forEach(collapseUnions);
    return;
  }
  for (const key of ["anyOf", "oneOf"]) {
    const options = schema[key];
    if (!Array.isArray(options) || options.length < 2) continue;
    const typed = options.map(scalarTypes);
    if (typed.some((t) => t === null)) continue;
    const types = [...new Set((typed as string[][]).flat())];
    const real = types.filter((t) => t !== "null");
    if (real.length === 0) continue;
    const stringBranch = options.find((o) => (scalarTypes(o) ?? []).includes("string")) as JsonObject | undefined;
    const { [key]: _dropped, ...rest } = schema;
    for (const k of Object.keys(schema)) delete schema[k];
    if (real.length === 1) {
      const only = options.find((o) => (scalarTypes(o) ?? []).includes(real[0])) as JsonObject;
      Object.assign(schema, only, rest, { type: real[0] });
    } else {
      const keep: JsonObject = {};
      for (const k of ["format", "pattern", "description", "examples", "minLength", "maxLength", "errorMessage"]) {
        if (stringBranch && stringBranch[k] !== undefined) keep[k] = stringBranch[k];
      }
      Object.assign(schema, keep, rest, { type: "string", "x-union": real });
    }
  }
  for (const [key, child] of Object.entries(schema)) {
    if (key !== "const" && key !== "default" && key !== "enum" && key !== "examples") collapseUnions(child);
  }
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

/** The widget each kind of input gets, by its schema: a condition builder for CEL, a JSON editor for
 * free-form objects and lists, a date-time picker for times, the workflow and connection pickers, one text box for a
 * choice of plain values, a text area for long text. */
export function widgetFor(property: JsonObject): { widget?: string; field?: string; rows?: number } {
  const declared = property["x-widget"];
  if (declared === "workflow") return { widget: "workflow" };
  if (typeof property["x-connection-type"] === "string") return { widget: "connection" };
  if (declared === "textarea") return { widget: "textarea", rows: 5 };
  if (property.format === "cel") return { widget: "condition" };
  if (isFreeForm(property)) return { field: "json" };
  if (property.format === "date-time") return { widget: "datetime" };
  if (Array.isArray(property["x-union"])) return { widget: "union" };
  if (property.format === "textarea") return { widget: "textarea", rows: 5 };
  return {};
}

/** An object with no declared fields (`dict[str, Any]`), or a list of such: typed in as JSON. */
export function isFreeForm(property: JsonObject): boolean {
  if (property.type === "object") return !property.properties && !property.$ref && !property.anyOf && !property.oneOf;
  if (property.type === "array") {
    const items = property.items;
    if (!items || typeof items !== "object" || Array.isArray(items)) return true;
    return (items as JsonObject).type === "object" ? isFreeForm(items as JsonObject) : !(items as JsonObject).type && !(items as JsonObject).$ref;
  }
  return false;
}

/** The form library's ui schema: each input's widget (`widgetFor`), nested fields included. */
export function uiSchemaFor(schema: JsonObject): JsonObject {
  const ui: JsonObject = { "ui:submitButtonOptions": { norender: true } };
  Object.assign(ui, uiForProperties(schema, schema, 0));
  return ui;
}

function uiForProperties(node: JsonObject, root: JsonObject, depth: number): JsonObject {
  const ui: JsonObject = {};
  const properties = (node.properties ?? {}) as JsonObject;
  for (const [name, raw] of Object.entries(properties)) {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) continue;
    const property = resolveRef(raw as JsonObject, root);
    const choice = widgetFor(property);
    if (choice.field) ui[name] = { "ui:field": choice.field };
    else if (choice.widget) ui[name] = { "ui:widget": choice.widget, ...(choice.rows ? { "ui:options": { rows: choice.rows } } : {}) };
    else if (property.properties && depth < 4) {
      const nested = uiForProperties(property, root, depth + 1);
      if (Object.keys(nested).length) ui[name] = nested;
    }
  }
  return ui;
}

function resolveRef(schema: JsonObject, root: JsonObject): JsonObject {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  let target: Json | undefined = root;
  for (const part of ref.slice(2).split("/")) target = target && typeof target === "object" && !Array.isArray(target) ? target[part] : undefined;
  return target && typeof target === "object" && !Array.isArray(target) ? { ...(target as JsonObject), ...schema } : schema;
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
