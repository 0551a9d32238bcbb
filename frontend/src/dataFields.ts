// The data a step can use: the trigger event's fields (from its sample) and the outputs of the steps
// before it (from their types), each with the ref path an input takes, the CEL path a condition takes,
// a name in words and a type. The ref picker and the condition builder both list these.

import { humanize } from "./forms";
import { actionTitle, EVENT_TITLE, LOOP_ROOTS, LOOP_WORDS, segmentLabel, SEPARATOR, type Catalog } from "./names";
import { findRefs, isWholeRef, parsePath, pathFor, samplePaths, schemaPaths } from "./refs";
import { sampleOutputs } from "./samples";
import { findAction, loopsAround, upstreamAnywhere } from "./scopes";
import type { Selection } from "./selection";
import { FOR_EACH, REPEAT_UNTIL, SOURCE, type Json, type JsonObject, type Workflow, type WorkflowAction } from "./types";
import { upstreamOf } from "./workflowOps";

export interface DataField {
  /** The JSONPath a ref reads: "$.event.data.title". */
  path: string;
  /** The CEL a condition reads: "event.data.title" (null where CEL cannot read it, e.g. `$.output`). */
  cel: string | null;
  /** The name in words within its group: "Title", "Author > Name". */
  label: string;
  /** The JSON type ("string", "integer", "array"…, "a | b" for unions, "any" when unknown). */
  type: string;
  /** A value seen in the sample, when there is one. */
  sample?: Json;
}

export interface DataGroup {
  /** "Trigger event", or the step's name. */
  title: string;
  fields: DataField[];
  hint?: string;
}

const CEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CEL_KEYWORDS = new Set(["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);

/** The CEL that reads a JSONPath: `$.state['my-step'].items[0]` -> `state["my-step"].items[0]`. */
const CEL_ROOTS = new Set(["event", "state", "async", ...LOOP_ROOTS]);

export function celPath(path: string): string | null {
  const parsed = parsePath(path);
  if (!parsed || !CEL_ROOTS.has(parsed.root)) return null;
  let text = parsed.root;
  for (const segment of parsed.segments) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (CEL_NAME.test(segment) && !CEL_KEYWORDS.has(segment)) text += `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

function labelOf(segments: Array<string | number>): string {
  return segments.length ? segments.map(segmentLabel).join(SEPARATOR) : "All of it";
}

/** The trigger event's fields, from a sample event ({name, data, …}) and, for fields no sample has, from
 * the event's declared data schema; without either, the data as a whole. */
export function eventGroup(sample: Json | null, root = "$.event", title = EVENT_TITLE, schema?: JsonObject | null): DataGroup {
  const event = sample && typeof sample === "object" && !Array.isArray(sample) ? (sample as JsonObject) : null;
  const data = event?.data;
  const sampled = !!data && typeof data === "object" && !Array.isArray(data) && Object.keys(data).length > 0;
  const declared = schema ? schemaPaths(schema, `${root}.data`, "data").filter((t) => t.path !== `${root}.data`) : [];
  const nameField: DataField = { path: `${root}.name`, cel: celPath(`${root}.name`), label: "Event name", type: "string", ...(typeof event?.name === "string" ? { sample: event.name } : {}) };
  if (!sampled && !declared.length) {
    return {
      title,
      hint: "Choose a sample event in the trigger's panel to see its fields here.",
      fields: [{ path: `${root}.data`, cel: celPath(`${root}.data`), label: "All data", type: "object" }, nameField],
    };
  }
  const fields: DataField[] = [];
  if (sampled) {
    for (const target of samplePaths(data, `${root}.data`, "data")) {
      const segments = parsePath(target.path)?.segments.slice(1) ?? [];
      const value = valueAt(data, segments);
      fields.push({
        path: target.path,
        cel: celPath(target.path),
        label: segments.length ? labelOf(segments) : "All data",
        type: target.type === "number" && Number.isInteger(value) ? "integer" : target.type,
        ...(isScalar(value) ? { sample: value } : {}),
      });
    }
  } else fields.push({ path: `${root}.data`, cel: celPath(`${root}.data`), label: "All data", type: "object" });
  // the declared fields the sample lacks, typed by the schema
  const seen = new Set(fields.map((f) => f.path));
  for (const target of declared) {
    if (seen.has(target.path)) continue;
    const segments = parsePath(target.path)?.segments.slice(1) ?? [];
    fields.push({ path: target.path, cel: celPath(target.path), label: labelOf(segments), type: target.type });
  }
  fields.push(nameField);
  return { title, fields };
}

/** A step's output fields, from its output type and the output kept as its sample (its values shown,
 * and its fields the type does not name added). */
export function outputGroup(workflow: Workflow, catalog: Catalog, id: string, root?: string): DataGroup | null {
  const action = findAction(workflow, id);
  const definition = action && catalog.get(action.kind);
  if (!action || !definition) return null;
  const base = root ?? pathFor("$.state", [id]);
  const kept = sampleOutputs(workflow)[id];
  const relative = (path: string) => parsePath(path)?.segments.slice(root ? 0 : 1) ?? [];
  const withSample = (field: DataField, rest: Array<string | number>): DataField => {
    const value = kept === undefined ? undefined : valueAt(kept, rest);
    return isScalar(value) ? { ...field, sample: value } : field;
  };
  const fields = schemaPaths(definition.outputs, base, "").map((target): DataField => {
    const rest = relative(target.path);
    return withSample({ path: target.path, cel: celPath(target.path), label: labelOf(rest), type: target.type }, rest);
  });
  if (kept !== undefined) {
    const seen = new Set(fields.map((f) => f.path));
    for (const target of samplePaths(kept, base, "")) {
      if (seen.has(target.path)) continue;
      const rest = relative(target.path);
      fields.push(withSample({ path: target.path, cel: celPath(target.path), label: labelOf(rest), type: target.type }, rest));
    }
  }
  // the output as a whole first, then its fields; a step with no output (null) offers nothing
  const useful = fields.filter((f) => f.type !== "null");
  return useful.length ? { title: actionTitle(action, definition), fields: useful } : null;
}

export interface DataContext {
  workflow: Workflow;
  catalog: Catalog;
  /** The sample trigger event (parsed), or null. */
  sample: Json | null;
  /** The JSON Schema of the trigger event's data, when its type is declared. */
  eventSchema?: JsonObject | null;
  /** The steps whose outputs are known here (upstream of the step being edited), in order. */
  upstream: string[];
  /** On a connection: the step it leaves from, whose output is `$.output` there. */
  outputOf?: string;
}

/** Everything a step (or a connection) can read, grouped: the connection's own source first, then the
 * trigger event, then the earlier steps. */
export function dataGroups(context: DataContext): DataGroup[] {
  const groups: DataGroup[] = [];
  if (context.outputOf && context.outputOf !== SOURCE) {
    const own = outputGroup(context.workflow, context.catalog, context.outputOf, "$.output");
    if (own) groups.push({ ...own, title: `${own.title} (the step this connection leaves)` });
  }
  groups.push(eventGroup(context.sample, undefined, undefined, context.eventSchema));
  for (const id of context.upstream) {
    const group = outputGroup(context.workflow, context.catalog, id);
    if (group) groups.push(group);
  }
  return groups;
}

/** What the steps inside a loop read of it: for each, the current item (with the fields an item of
 * its list has, when known from the list's own fields in `outside`) and its number; for repeat until,
 * the round and the previous round's result (with its fields, from the step that gives it). */
export function loopGroup(workflow: Workflow, catalog: Catalog, loop: WorkflowAction, outside: DataGroup[]): DataGroup {
  const title = `${actionTitle(loop, catalog.get(loop.kind))}`;
  if (loop.kind === FOR_EACH) {
    const items = loop.inputs?.items;
    const list = isWholeRef(items) ? findRefs(items)[0].path : null;
    const fields: DataField[] = [{ path: "$.item", cel: "item", label: LOOP_WORDS.item, type: "any" }];
    if (list) {
      const first = `${list}[0]`;
      for (const group of outside) {
        for (const field of group.fields) {
          if (field.path === first) fields[0] = { ...fields[0], type: field.type, ...(field.sample !== undefined ? { sample: field.sample } : {}) };
          else if (field.path.startsWith(first) && /^[.[]/.test(field.path.slice(first.length))) {
            const path = `$.item${field.path.slice(first.length)}`;
            const rest = parsePath(path)?.segments ?? [];
            fields.push({ ...field, path, cel: celPath(path), label: `${LOOP_WORDS.item}${SEPARATOR}${labelOf(rest)}` });
          }
        }
      }
    }
    fields.push({ path: "$.index", cel: "index", label: LOOP_WORDS.index, type: "integer", sample: 0 });
    return { title, fields, hint: list ? undefined : "Choose the list to go through in the loop's panel to see an item's fields here." };
  }
  const fields: DataField[] = [{ path: "$.round", cel: "round", label: LOOP_WORDS.round, type: "integer", sample: 0 }];
  const result = loop.body?.result;
  const last = result ? outputGroup(workflow, catalog, result, "$.last") : null;
  if (last) {
    for (const field of last.fields) {
      const rest = parsePath(field.path)?.segments ?? [];
      fields.push({ ...field, label: rest.length ? `${LOOP_WORDS.last}${SEPARATOR}${labelOf(rest)}` : LOOP_WORDS.last });
    }
  } else fields.push({ path: "$.last", cel: "last", label: LOOP_WORDS.last, type: "any" });
  return { title, fields };
}

/** What the selected step (or connection) can read: the trigger event, the steps before it (also those
 * before the loops around it), and what the loop around it gives (its item, or its round). */
export function groupsAt(workflow: Workflow, catalog: Catalog, sample: Json | null, selection: Selection | null, eventSchema?: JsonObject | null): DataGroup[] {
  const forStep = (id: string, own: boolean): DataGroup[] => {
    const upstream = [...upstreamAnywhere(workflow, id, upstreamOf), ...(own ? [id] : [])];
    const groups = dataGroups({ workflow, catalog, sample, upstream, eventSchema });
    const loops = loopsAround(workflow, id);
    const inner = loops[loops.length - 1];
    if (inner) groups.splice(1, 0, loopGroup(workflow, catalog, inner, forStep(inner.id, false)));
    return groups;
  };
  if (selection?.kind === "action") {
    const groups = forStep(selection.id, false);
    // a repeat until's condition reads its own round and the round's result
    const action = findAction(workflow, selection.id);
    if (action?.kind === REPEAT_UNTIL) groups.splice(1, 0, loopGroup(workflow, catalog, action, groups));
    return groups;
  }
  if (selection?.kind === "edge") {
    const groups = selection.from === SOURCE ? forStep(selection.to, false) : forStep(selection.from, true);
    if (selection.from !== SOURCE) {
      const own = outputGroup(workflow, catalog, selection.from, "$.output");
      if (own) groups.unshift({ ...own, title: `${own.title} (the step this connection leaves)` });
    }
    return groups;
  }
  return dataGroups({ workflow, catalog, sample, upstream: [], eventSchema });
}

/** A group's title with its field's label: "Trigger event > Title". */
export function fieldName(group: DataGroup, field: DataField): string {
  return `${group.title}${SEPARATOR}${field.label}`;
}

function valueAt(value: Json, segments: Array<string | number>): Json | undefined {
  let current: Json | undefined = value;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    current = Array.isArray(current) ? (typeof segment === "number" ? current[segment] : undefined) : (current as JsonObject)[String(segment)];
  }
  return current;
}

function isScalar(value: Json | undefined): value is string | number | boolean | null {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** "post_id" -> "Post id" (re-exported for panels that name a single field). */
export const fieldLabel = humanize;

/** What a condition reads unless its input says otherwise: the trigger event and earlier steps' outputs. */
export const CONDITION_VARIABLES = ["event", "state"];

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The fields a condition over `variables` can test (the condition builder's list): those with a CEL
 * path whose root is one of them, typed for the builder ("datetime" for ISO times in the sample). */
export function conditionFields(
  groups: DataGroup[],
  variables: string[],
): Array<{ cel: string; label: string; group: string; type: "string" | "number" | "integer" | "boolean" | "datetime" | "array" | "object" | "any"; sample?: unknown }> {
  const out: ReturnType<typeof conditionFields> = [];
  for (const group of groups) {
    for (const field of group.fields) {
      if (!field.cel || !variables.includes(field.cel.split(/[.[]/)[0])) continue;
      const type =
        field.type === "string" && typeof field.sample === "string" && ISO_TIME.test(field.sample)
          ? "datetime"
          : (["string", "number", "integer", "boolean", "array", "object"] as const).find((t) => t === field.type) ?? "any";
      out.push({ cel: field.cel, label: field.label, group: group.title, type, ...(field.sample !== undefined ? { sample: field.sample } : {}) });
    }
  }
  return out;
}
