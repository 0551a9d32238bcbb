// The workflow settings form (flow control): the server's JSON Schema made plain for the form library,
// the values it shows and the JSON it saves, and the server's problems placed on their fields. Pure.

import { humanize, pathSegments } from "./forms";
import type { Json, JsonObject, Problem } from "./types";

type Segments = Array<string | number>;

const MAX_DEPTH = 32;

function isObject(value: unknown): value is JsonObject {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

/** Help text from a docstring: one line, ``rst`` quotes as `markdown` ones. */
export function plainText(text: string): string {
  return text.replace(/\s+/g, " ").replace(/``/g, "`").trim();
}

function typesOf(option: JsonObject): string[] {
  return Array.isArray(option.type) ? (option.type as string[]) : typeof option.type === "string" ? [option.type] : [];
}

/** One schema node, `$ref`s inlined, made plain: an optional value (`anyOf [X, null]`) is X, a duration
 * (`anyOf [string, integer]`) is a text field marked `x-duration`, an enum is a string, every property has a
 * title. The node's own title and description win over its definition's. */
function plain(node: Json, defs: JsonObject, depth: number): JsonObject {
  if (!isObject(node) || depth > MAX_DEPTH) return {};
  let out: JsonObject = {};
  if (typeof node.$ref === "string") {
    const name = node.$ref.replace(/^#\/\$defs\//, "");
    const target = plain(defs[name] ?? {}, defs, depth + 1);
    if (target.title === name) target.title = humanize(name);
    out = target;
  }
  const own: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" || key === "$defs" || key === "anyOf" || key === "oneOf") continue;
    if (key === "default" && value === null) continue;
    own[key] = value;
  }
  const options = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  if (Array.isArray(options)) {
    const kept = options.map((o) => plain(o, defs, depth + 1)).filter((o) => !typesOf(o).includes("null") || typesOf(o).length > 1);
    const types = kept.flatMap(typesOf).sort().join(",");
    if (kept.length === 2 && types === "integer,string") {
      out = { ...out, type: "string", "x-duration": true };
    } else if (kept.length === 1) {
      out = { ...out, ...kept[0] };
    } else {
      out = { ...out, anyOf: kept };
    }
  }
  out = { ...out, ...own };
  if (typeof out.description === "string") out.description = plainText(out.description);
  if (Array.isArray(out.enum) && out.type === undefined && out.enum.every((v) => typeof v === "string")) out.type = "string";
  if (isObject(out.properties)) {
    const properties: JsonObject = {};
    for (const [name, property] of Object.entries(out.properties)) {
      const shown = plain(property, defs, depth + 1);
      if (typeof shown.title !== "string") shown.title = humanize(name);
      properties[name] = shown;
    }
    out.properties = properties;
  }
  if (out.items !== undefined) {
    const items = plain(out.items, defs, depth + 1);
    if (typeof out.title === "string") items.title = out.title.replace(/s$/, "");
    out.items = items;
  }
  return out;
}

/** The settings' JSON Schema (as `GET /api/settings-schema` gives it) as the form shows it. */
export function settingsFormSchema(schema: JsonObject): JsonObject {
  const defs = isObject(schema.$defs) ? schema.$defs : {};
  const root = plain(schema, defs, 0);
  delete root.title;
  delete root.description;
  delete root.$schema;
  return root;
}

/** The sections in the order the panel shows them: what limits starting runs first, then the rest. */
export const SECTION_ORDER = [
  "concurrency", "throttle", "rate_limit", "debounce", "batch_events", "priority", "singleton", "idempotency",
  "cancel_on", "timeouts", "retries", "retention",
];

/** Placeholders for durations and expressions; no reordering or copying of list items; optional
 * sections (objects) are added and removed with a button. */
export function settingsUiSchema(schema: JsonObject): JsonObject {
  const walk = (node: JsonObject): JsonObject => {
    const ui: JsonObject = {};
    if (node["x-duration"]) ui["ui:placeholder"] = "e.g. 30s, 5m, 1h30m";
    else if (node["x-cel"]) ui["ui:placeholder"] = "e.g. event.data.user_id";
    else if (Array.isArray(node.enum)) ui["ui:options"] = { optionValueFormat: "realValue" };  // <option value="workflow">
    if (isObject(node.properties)) {
      for (const [name, property] of Object.entries(node.properties)) {
        if (isObject(property)) ui[name] = walk(property);
      }
    }
    if (isObject(node.items)) {
      ui.items = walk(node.items);
      ui["ui:options"] = { orderable: false, copyable: false };
    }
    return ui;
  };
  const known = Object.keys(isObject(schema.properties) ? schema.properties : {});
  return {
    ...walk(schema),
    "ui:order": [...SECTION_ORDER.filter((name) => known.includes(name)), "*"],
    "ui:submitButtonOptions": { norender: true },
    "ui:globalOptions": { enableOptionalDataFieldForType: ["object"] },
  };
}

/** Stored settings as the form shows them: every field of a present section there (with its default, or
 * undefined: the form library takes an empty section for an absent one), durations given in milliseconds
 * written as text ("1500ms"). */
export function toFormSettings(schema: JsonObject, value: Json): Record<string, unknown> {
  const walk = (node: JsonObject, v: Json, top: boolean): unknown => {
    if (node["x-duration"] && typeof v === "number") return `${v}ms`;
    if (Array.isArray(v)) return isObject(node.items) ? v.map((item) => walk(node.items as JsonObject, item, false)) : v;
    if (!isObject(v) || !isObject(node.properties)) return v;
    const out: Record<string, unknown> = { ...v };
    for (const [name, property] of Object.entries(node.properties)) {
      if (!isObject(property)) continue;
      if (out[name] === undefined) {
        if (!top) out[name] = property.default;
      } else out[name] = walk(property, out[name] as Json, false);
    }
    return out;
  };
  return walk(schema, isObject(value) ? value : {}, true) as Record<string, unknown>;
}

/** The settings to save: blank fields, empty sections and empty lists left out (an entry of a list is kept,
 * so the server's problems keep their index). */
export function pruneSettings(value: Json | undefined): JsonObject {
  const prune = (v: Json | undefined, inList: boolean): Json | undefined => {
    if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) return undefined;
    if (Array.isArray(v)) {
      const items = v.map((item) => prune(item, true) ?? {});
      return items.length ? items : undefined;
    }
    if (isObject(v)) {
      const out: JsonObject = {};
      for (const [key, child] of Object.entries(v)) {
        const kept = prune(child, false);
        if (kept !== undefined) out[key] = kept;
      }
      return Object.keys(out).length || inList ? out : undefined;
    }
    return v;
  };
  const pruned = prune(value, false);
  return isObject(pruned) ? pruned : {};
}

/** The field a settings problem names, as segments of the form's data ("settings.concurrency[0].key" ->
 * ["concurrency", 0, "key"]); null for another part of the workflow. */
export function settingsSegments(path: string): Segments | null {
  const match = /^settings((?:[.[].*)?)$/.exec(path);
  return match ? pathSegments(match[1]) : null;
}

function valueAt(value: Json | undefined, segments: Segments): Json | undefined {
  let node = value;
  for (const segment of segments) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment];
    else if (isObject(node) && typeof segment === "string") node = node[segment];
    else return undefined;
  }
  return node;
}

/** Whether the form shows a field for this problem (else the panel lists it on its own): its section is
 * in the schema, and everything above the field is in the data. */
export function isShownOnField(problem: Problem, schema: JsonObject, value: JsonObject): boolean {
  const segments = settingsSegments(problem.path);
  if (segments === null) return false;
  if (segments.length === 0) return true;
  let node: Json | undefined = schema;
  for (const [index, segment] of segments.entries()) {
    if (!isObject(node)) return false;
    if (typeof segment === "number") node = node.items;
    else node = isObject(node.properties) ? node.properties[segment] : undefined;
    if (node === undefined) return false;
    if (index < segments.length - 1 && valueAt(value, segments.slice(0, index + 1)) === undefined) return false;
  }
  return true;
}

/** The problems still standing after an edit: those whose field (or section) the edit did not change. */
export function unchangedProblems(problems: Problem[], before: JsonObject, after: JsonObject): Problem[] {
  return problems.filter((problem) => {
    const segments = settingsSegments(problem.path);
    if (segments === null) return true;
    return sameJson(valueAt(before, segments) ?? null, valueAt(after, segments) ?? null);
  });
}

/** Deep equality of JSON values (the order of keys aside). */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameJson(a[key], b[key]));
  }
  return false;
}
