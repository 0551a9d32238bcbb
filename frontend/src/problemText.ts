// Problems as sentences an end user can act on. The server's problems carry a stable code and a path
// (for the API and for placing them on the right field); this turns each into words that name steps
// and fields as the user sees them, and says where it is, so the problems list can take them there.

import { humanize, inputSegments, pathSegments, scopedPath } from "./forms";
import { everyAction, findAction } from "./scopes";
import { actionTitle, pathLabel, SEPARATOR, typeWords, type Catalog } from "./names";
import { findRefs } from "./refs";
import { settingsSegments } from "./settingsForm";
import type { Selection } from "./selection";
import { SOURCE, type ActionDef, type Json, type JsonObject, type Problem, type Workflow } from "./types";
import { triggerProblemPlace } from "./triggers";

export interface ProblemView {
  problem: Problem;
  /** The sentence shown to the user. */
  text: string;
  /** Where it is: "Add a Table of Contents > Post id", "Trigger", "Settings > Concurrency"… */
  where: string;
  /** What to select to fix it, and the field there (input segments), if any. */
  target: { selection: Selection | null; tab: "edit" | "settings"; field?: Array<string | number> };
}

/** The schema of the input at `segments` (following $refs and the first matching branch), if known. */
export function inputSchemaAt(definition: ActionDef | undefined, segments: Array<string | number>): JsonObject | null {
  if (!definition) return null;
  const root = definition.inputs;
  const resolve = (node: Json | undefined): JsonObject | null => {
    let current = node;
    for (let hops = 0; hops < 16; hops++) {
      if (!current || typeof current !== "object" || Array.isArray(current)) return null;
      const ref = (current as JsonObject).$ref;
      if (typeof ref !== "string" || !ref.startsWith("#/")) return current as JsonObject;
      let target: Json | undefined = root;
      for (const part of ref.slice(2).split("/")) target = target && typeof target === "object" && !Array.isArray(target) ? target[part] : undefined;
      current = target;
    }
    return null;
  };
  let node = resolve(root);
  for (const segment of segments) {
    if (!node) return null;
    const branches = [node, ...(((node.anyOf ?? node.oneOf) as Json[] | undefined) ?? []).map(resolve)].filter(Boolean) as JsonObject[];
    let next: JsonObject | null = null;
    for (const branch of branches) {
      const properties = branch.properties as JsonObject | undefined;
      if (typeof segment === "string" && properties && segment in properties) next = resolve(properties[segment]);
      else if (typeof segment === "number" && branch.items) next = resolve(branch.items);
      if (next) break;
    }
    node = next;
  }
  return node;
}

/** A field's name: its schema title, else its name in words ("post_id" -> "Post id"). */
export function fieldTitle(definition: ActionDef | undefined, segments: Array<string | number>): string {
  if (!segments.length) return "Inputs";
  const schema = inputSchemaAt(definition, segments);
  const last = segments[segments.length - 1];
  // a struct's own title is its class name ("ApprovalInput"): not a field's name
  const own = schema && typeof schema.title === "string" && !/^[A-Z][a-z0-9]+[A-Z]\w*$/.test(schema.title) ? schema.title : null;
  if (own) return own;
  return typeof last === "number" ? `item ${last + 1}` : humanize(last);
}

/** The type an input takes, in words, from its schema ("a whole number", "text or a whole number"). */
function takes(definition: ActionDef | undefined, segments: Array<string | number>): string | null {
  const schema = inputSchemaAt(definition, segments);
  if (!schema) return null;
  const options = ((schema.anyOf ?? schema.oneOf) as JsonObject[] | undefined) ?? [schema];
  const types = options.map((o) => (typeof o.type === "string" ? o.type : null)).filter((t): t is string => !!t && t !== "null");
  return types.length ? typeWords(types.join(" | ")) : null;
}

const INDEXED = /^(actions|edges)\[(\d+)\]/;

/** The problem in words, with where it is and what to select to fix it. */
export function problemView(problem: Problem, workflow: Workflow, catalog: Catalog): ProblemView {
  const scrubbed = scrub(problem.message, workflow, catalog);
  const { graph, scope, rest } = scopedPath(workflow, problem.path);
  const indexed = INDEXED.exec(rest);
  if (indexed?.[1] === "actions") {
    const action = graph.actions[Number(indexed[2])];
    if (action) {
      const definition = catalog.get(action.kind);
      const title = actionTitle(action, definition);
      const field = inputSegments(problem.path);
      const selection: Selection = { kind: "action", id: action.id };
      if (field && field.length) {
        const name = fieldTitle(definition, field);
        return {
          problem,
          text: inputProblemText(problem, name, definition, field, scrubbed),
          where: `${title}${SEPARATOR}${name}`,
          target: { selection, tab: "edit", field },
        };
      }
      const own = rest.slice(indexed[0].length);
      return { problem, text: actionProblemText(problem, title, scrubbed, own, scope.length > 0), where: title, target: { selection, tab: "edit" } };
    }
  }
  if (indexed?.[1] === "edges") {
    const edge = graph.edges[Number(indexed[2])];
    if (edge) {
      const loop = scope[scope.length - 1];
      const from = edge.from === SOURCE ? (loop ? `the start of ${titleOf(loop, workflow, catalog)}` : "the trigger") : titleOf(edge.from, workflow, catalog);
      const to = titleOf(edge.to, workflow, catalog);
      return {
        problem,
        text: edgeProblemText(problem, scrubbed),
        where: `Connection from ${from} to ${to}`,
        target: { selection: { kind: "edge", from: edge.from, to: edge.to }, tab: "edit" },
      };
    }
  }
  if (problem.path.startsWith("trigger")) {
    const text = problem.code === "invalid_expression" ? `The filter is not finished: ${lowerFirst(stripExpression(scrubbed))}` : sentence(scrubbed);
    const index = triggerProblemPlace(problem.path)?.index; // with several triggers, say which
    const where = index ? `Trigger ${index + 1}` : "Trigger";
    return { problem, text, where, target: { selection: { kind: "trigger" }, tab: "edit" } };
  }
  const settings = settingsSegments(problem.path);
  if (settings !== null) {
    const where = settings.length ? `Settings${SEPARATOR}${settings.map((s) => (typeof s === "number" ? `item ${s + 1}` : humanize(s))).join(SEPARATOR)}` : "Settings";
    return { problem, text: sentence(scrubbed), where, target: { selection: null, tab: "settings" } };
  }
  return { problem, text: workflowProblemText(problem, workflow, scrubbed), where: "This workflow", target: { selection: null, tab: "edit" } };
}

function titleOf(id: string, workflow: Workflow, catalog: Catalog): string {
  const action = findAction(workflow, id);
  return action ? actionTitle(action, catalog.get(action.kind)) : "a removed step";
}

function inputProblemText(
  problem: Problem,
  name: string,
  definition: ActionDef | undefined,
  field: Array<string | number>,
  scrubbed: string,
): string {
  const type = takes(definition, field);
  switch (problem.code) {
    case "missing_input":
      return `Fill in ${name}.`;
    case "blank": // an input a template left to fill: the server's message carries the template's question
      return `Fill in ${name}: ${problem.message.replace(/^to fill in: /, "")}`;
    case "unknown_input":
      return `${name} is not something this step takes: remove it.`;
    case "invalid_input":
      if (/^expected /.test(problem.message) && type) return `${name} must be ${type}.`;
      // a message the action's developer wrote for the field (its schema's errorMessage) is a sentence already
      if (/^[A-Z]/.test(problem.message)) return sentence(scrubbed);
      return `${name}: ${lowerFirst(sentence(scrubbed))}`;
    case "ref_not_upstream":
      return `${name} uses data from a step that does not run before this one: connect that step first, or choose other data.`;
    case "ref_path_not_in_output":
      return `${name} uses data that the earlier step does not give: choose other data.`;
    case "ref_type_mismatch":
      return `${name} takes ${type ?? "another kind of value"}: choose data of that kind.`;
    case "template_type_mismatch":
      return `${name} takes ${type ?? "a single value"}: use one piece of data on its own, without text around it.`;
    case "unknown_event_field":
      return `${name} reads something events do not have: choose a field of the trigger event's data.`;
    case "malformed_ref":
    case "invalid_ref_root":
      return `${name} has data that cannot be read: choose the data again.`;
    case "invalid_expression":
      return `${name} is not finished: ${lowerFirst(stripExpression(scrubbed))}`;
    case "ref_in_expression":
      return `${name} is a condition: choose the field in the condition instead of inserting data.`;
    default:
      return `${name}: ${lowerFirst(sentence(scrubbed))}`;
  }
}

function actionProblemText(problem: Problem, title: string, scrubbed: string, own = "", inLoop = false): string {
  switch (problem.code) {
    case "unreachable":
      return inLoop
        ? `${title} never runs: connect it after the start of its loop or after another step inside it.`
        : `${title} never runs: connect it after the trigger or after another step.`;
    case "no_start":
      return `${title} has no steps inside yet: add one with the "+" inside it.`;
    case "missing_body":
      return `${title} has no steps inside yet: add one with the "+" inside it.`;
    case "unexpected_body":
      return `${title} holds steps but is not a loop: delete it and add it again.`;
    case "unknown_result":
      return `${title}: the step that gave each item's result is gone: choose another one.`;
    case "loops_too_deep":
      return `${title} is inside too many loops: move its steps out of one of them.`;
    case "invalid_policy":
      return own.includes("timeout") ? `${title}: write the time limit of a try as 30s, 5m or 1h.` : `${title}: ${lowerFirst(sentence(scrubbed))}`;
    case "unknown_kind":
      return `${title} is not available here any more: delete it.`;
    case "duplicate_action_id":
    case "invalid_id":
    case "reserved_id":
      return `${title} cannot be told apart from another step: delete it and add it again.`;
    default:
      return sentence(scrubbed);
  }
}

function edgeProblemText(problem: Problem, scrubbed: string): string {
  switch (problem.code) {
    case "cycle":
      return "These connections go round in a loop: remove one of them.";
    case "missing_match_value":
      return "Choose the value to compare with.";
    case "unknown_conditional_type":
      return "Choose when to follow this connection.";
    case "invalid_failure_edge":
      return "The trigger cannot fail: start this connection from a step.";
    case "missing_ref":
    case "malformed_ref":
    case "invalid_ref_root":
    case "ref_not_upstream":
    case "ref_path_not_in_output":
    case "unknown_event_field":
      return "The condition of this connection reads data that cannot be read here: choose the data again.";
    case "duplicate_edge":
    case "unknown_edge_source":
    case "unknown_edge_target":
    case "edge_into_source":
      return "This connection is broken: delete it.";
    default:
      return sentence(scrubbed);
  }
}

function workflowProblemText(problem: Problem, workflow: Workflow, scrubbed: string): string {
  if (problem.code === "no_start") {
    return workflow.actions.length ? "Nothing runs yet: connect a step after the trigger." : "Add a first step after the trigger.";
  }
  return sentence(scrubbed);
}

/** Whether a problem only says the workflow is empty (shown as an invitation, not as an error). */
export function isEmptyWorkflowProblem(problem: Problem, workflow: Workflow): boolean {
  return problem.code === "no_start" && workflow.actions.length === 0;
}

/** A server message with internal names replaced: refs by the data's name, ids by step names, `$source`
 * by "the trigger", `actions[2]` paths by the step's name. */
export function scrub(message: string, workflow: Workflow, catalog: Catalog): string {
  let text = message;
  for (const span of [...findRefs(text)].reverse()) {
    text = text.slice(0, span.start) + `"${pathLabel(span.path, workflow, catalog)}"` + text.slice(span.end);
  }
  text = text.replace(/'\$source'|"\$source"|\$source/g, "the trigger");
  text = text.replace(/actions\[(\d+)\](\.inputs)?((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)/g, (_match, index: string, _inputs, rest: string) => {
    const action = workflow.actions[Number(index)];
    if (!action) return "a step";
    const definition = catalog.get(action.kind);
    const title = actionTitle(action, definition);
    const segments = pathSegments(rest ?? "");
    return segments.length ? `${title}${SEPARATOR}${fieldTitle(definition, segments)}` : title;
  });
  for (const { action } of everyAction(workflow)) {
    const title = actionTitle(action, catalog.get(action.kind));
    const quoted = new RegExp(`(['"])${escapeRegExp(action.id)}\\1`, "g");
    text = text.replace(quoted, `"${title}"`);
  }
  text = text.replace(/\bbuiltin:[a-z_]+/g, (kind) => catalog.get(kind)?.name ?? "a built-in step");
  return text;
}

/** "unexpected token at line 1, column 5 in expression '…'" -> "unexpected token at line 1, column 5." */
function stripExpression(message: string): string {
  return sentence(message.replace(/\s+in expression\s+(['"]).*\1\s*$/s, ""));
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?:]$/.test(first) ? first : `${first}.`;
}

function lowerFirst(text: string): string {
  return text ? text[0].toLowerCase() + text.slice(1) : text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A run's error as an end user reads it: the step named, not its id or kind ("action 'toc': invalid
 * inputs for action 'add_toc': inputs.post_id: expected integer, got null" -> "Add a Table of Contents:
 * its inputs are not valid: Post id: expected integer, got null"). */
export function runErrorText(message: string, workflow: Workflow, catalog: Catalog): string {
  let text = message.replace(/^action '([^']+)': /, (_match, id: string) => `${titleOf(id, workflow, catalog)}: `);
  text = text.replace(/invalid inputs for action '([^']+)': /g, "its inputs are not valid: ");
  text = text.replace(/\binputs\.([A-Za-z_][\w.[\]]*)/g, (_match, path: string) => {
    const segments = pathSegments(`.${path}`);
    return segments.length ? segments.map((s) => (typeof s === "number" ? `item ${s + 1}` : humanize(s))).join(SEPARATOR) : path;
  });
  for (const definition of catalog.values()) {
    text = text.replace(new RegExp(`(['"])${escapeRegExp(definition.kind)}\\1`, "g"), `"${definition.name}"`);
  }
  return scrub(text, workflow, catalog);
}
