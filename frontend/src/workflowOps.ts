// Pure operations on a workflow instance (the TypeScript Workflow Kit's JSON): every edit the editor
// makes goes through here and returns a new object, so the canvas is a view of the JSON, never the
// other way round. Unknown keys are kept.

import { FOR_EACH, REPEAT_UNTIL, SOURCE, type Conditional, type Json, type JsonObject, type Workflow, type WorkflowAction, type WorkflowEdge } from "./types";

export interface Position {
  x: number;
  y: number;
}

export function emptyWorkflow(name = ""): Workflow {
  return { name, actions: [], edges: [] };
}

/** A new action id from its kind, unique in the workflow (never reusing a deleted one's slot by count). */
export function newActionId(workflow: Workflow, kind: string): string {
  const base = kind.replace(/^builtin:/, "").replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "action";
  const taken = new Set<string>();
  const walk = (actions: WorkflowAction[]) => {
    for (const a of actions) {
      taken.add(a.id);
      if (a.body) walk(a.body.actions ?? []); // ids are unique across loops' steps too
    }
  };
  walk(workflow.actions);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) {
    const candidate = `${base}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export interface AddOptions {
  id?: string;
  name?: string;
  inputs?: JsonObject;
  position?: Position;
  /** Connect from this node ("$source" or an action id). */
  parent?: string;
  /** Name and condition of the edge from the parent (e.g. builtin:if's "True"). */
  edge?: { name?: string; conditional?: Conditional };
}

export function addAction(workflow: Workflow, kind: string, options: AddOptions = {}): { workflow: Workflow; id: string } {
  const id = options.id ?? newActionId(workflow, kind);
  if (workflow.actions.some((a) => a.id === id)) throw new Error(`an action with id "${id}" already exists`);
  const action: WorkflowAction = { id, kind };
  if (options.name) action.name = options.name;
  action.inputs = options.inputs ?? {};
  if (kind === FOR_EACH || kind === REPEAT_UNTIL) action.body = { actions: [], edges: [] }; // the steps inside come next
  let next: Workflow = { ...workflow, actions: [...workflow.actions, action] };
  if (options.position) next = setPosition(next, id, options.position);
  if (options.parent !== undefined) next = connect(next, options.parent, id, options.edge);
  return { workflow: next, id };
}

/** Remove an action and every edge that touches it (its children keep their other parents). */
export function removeAction(workflow: Workflow, id: string): Workflow {
  const positions = { ...(positionsOf(workflow) as unknown as JsonObject) };
  delete positions[id];
  return withPositions(
    {
      ...workflow,
      actions: workflow.actions.filter((a) => a.id !== id),
      edges: workflow.edges.filter((e) => e.from !== id && e.to !== id),
    },
    positions,
  );
}

export function hasEdge(workflow: Workflow, from: string, to: string): boolean {
  return workflow.edges.some((e) => e.from === from && e.to === to);
}

/** Whether an edge from -> to would close a cycle (to reaches from). */
export function wouldCycle(workflow: Workflow, from: string, to: string): boolean {
  if (from === to) return true;
  const children = new Map<string, string[]>();
  for (const e of workflow.edges) children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
  const stack = [to];
  const seen = new Set<string>();
  while (stack.length) {
    const node = stack.pop() as string;
    if (node === from) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(children.get(node) ?? []));
  }
  return false;
}

export class EdgeError extends Error {}

/** Add an edge; throws EdgeError for an edge into the trigger, a duplicate, or a cycle. */
export function connect(
  workflow: Workflow,
  from: string,
  to: string,
  edge: { name?: string; conditional?: Conditional } = {},
): Workflow {
  if (to === SOURCE) throw new EdgeError("nothing can lead into the trigger");
  if (from !== SOURCE && !workflow.actions.some((a) => a.id === from)) throw new EdgeError(`no action "${from}"`);
  if (!workflow.actions.some((a) => a.id === to)) throw new EdgeError(`no action "${to}"`);
  if (hasEdge(workflow, from, to)) throw new EdgeError("these two are already connected");
  if (wouldCycle(workflow, from, to)) throw new EdgeError("that connection would make a loop");
  const added: WorkflowEdge = { from, to };
  if (edge.name) added.name = edge.name;
  if (edge.conditional) added.conditional = { ...edge.conditional };
  return { ...workflow, edges: [...workflow.edges, added] };
}

export function disconnect(workflow: Workflow, from: string, to: string): Workflow {
  return { ...workflow, edges: workflow.edges.filter((e) => !(e.from === from && e.to === to)) };
}

export function updateEdge(
  workflow: Workflow,
  from: string,
  to: string,
  change: { name?: string | null; conditional?: Conditional | null },
): Workflow {
  return {
    ...workflow,
    edges: workflow.edges.map((e) => {
      if (e.from !== from || e.to !== to) return e;
      const next: WorkflowEdge = { ...e };
      if (change.name !== undefined) {
        if (change.name) next.name = change.name;
        else delete next.name;
      }
      if (change.conditional !== undefined) {
        if (change.conditional) next.conditional = change.conditional;
        else delete next.conditional;
      }
      return next;
    }),
  };
}

export function updateAction(workflow: Workflow, id: string, change: Partial<WorkflowAction>): Workflow {
  return { ...workflow, actions: workflow.actions.map((a) => (a.id === id ? { ...a, ...change } : a)) };
}

export function setInputs(workflow: Workflow, id: string, inputs: JsonObject): Workflow {
  return updateAction(workflow, id, { inputs });
}

// -- positions (kept in metadata.positions, so a reload shows the graph as the user left it) ----------

export function positionsOf(workflow: Workflow): Record<string, Position> {
  const raw = (workflow.metadata?.positions ?? {}) as Json;
  const found: Record<string, Position> = {};
  if (raw && typeof raw === "object" && !Array.isArray(raw)) {
    for (const [id, value] of Object.entries(raw)) {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        const { x, y } = value as { x?: Json; y?: Json };
        if (typeof x === "number" && typeof y === "number") found[id] = { x, y };
      }
    }
  }
  return found;
}

function withPositions(workflow: Workflow, positions: JsonObject): Workflow {
  return { ...workflow, metadata: { ...(workflow.metadata ?? {}), positions } };
}

export function setPosition(workflow: Workflow, id: string, position: Position): Workflow {
  const rounded = { x: Math.round(position.x), y: Math.round(position.y) };
  return withPositions(workflow, { ...(positionsOf(workflow) as unknown as JsonObject), [id]: rounded });
}

export function setPositions(workflow: Workflow, positions: Record<string, Position>): Workflow {
  const rounded: JsonObject = {};
  for (const [id, p] of Object.entries(positions)) rounded[id] = { x: Math.round(p.x), y: Math.round(p.y) };
  return withPositions(workflow, rounded);
}

// -- the graph's shape -------------------------------------------------------------------------------

/** Every action upstream of `id` (not itself): their outputs are what its refs may read. */
export function upstreamOf(workflow: Workflow, id: string): string[] {
  const parents = new Map<string, string[]>();
  for (const e of workflow.edges) parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  const found: string[] = [];
  const seen = new Set<string>();
  const stack = [...(parents.get(id) ?? [])];
  while (stack.length) {
    const node = stack.pop() as string;
    if (node === SOURCE || seen.has(node)) continue;
    seen.add(node);
    found.push(node);
    stack.push(...(parents.get(node) ?? []));
  }
  const order = workflow.actions.map((a) => a.id);
  return found.sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

export function incoming(workflow: Workflow, id: string): WorkflowEdge[] {
  return workflow.edges.filter((e) => e.to === id);
}

export function edgeId(edge: { from: string; to: string }): string {
  return `${edge.from}->${edge.to}`;
}

/** Actions with no connection out of them (where a flow ends). */
export function leaves(workflow: Workflow): string[] {
  const from = new Set(workflow.edges.map((e) => e.from));
  return workflow.actions.map((a) => a.id).filter((id) => !from.has(id));
}

/** Every action downstream of `id` (not itself). */
export function downstreamOf(workflow: Workflow, id: string): string[] {
  const children = new Map<string, string[]>();
  for (const e of workflow.edges) children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
  const found = new Set<string>();
  const stack = [...(children.get(id) ?? [])];
  while (stack.length) {
    const node = stack.pop() as string;
    if (found.has(node) || node === id) continue;
    found.add(node);
    stack.push(...(children.get(node) ?? []));
  }
  return [...found];
}

export interface InsertOptions {
  /** The new action's id (by default a new one from its kind). */
  id?: string;
  inputs?: JsonObject;
  position?: Position;
  /** The connection from the new action on to the old target (e.g. an If's "True"). */
  onward?: { name?: string; conditional?: Conditional };
  /** Move the old target and everything after it by this much, to make room. */
  shift?: Position;
}

/** Put a new action on the connection from -> to: from -> new keeps the old connection's label and
 * condition, new -> to is `onward` (plain by default). */
export function insertBetween(
  workflow: Workflow,
  kind: string,
  from: string,
  to: string,
  options: InsertOptions = {},
): { workflow: Workflow; id: string } {
  const old = workflow.edges.find((e) => e.from === from && e.to === to);
  if (!old) throw new EdgeError("those two steps are not connected");
  let next = disconnect(workflow, from, to);
  if (options.shift) {
    const { x, y } = options.shift;
    const positions = positionsOf(next);
    for (const id of [to, ...downstreamOf(next, to)]) {
      const p = positions[id];
      if (p) next = setPosition(next, id, { x: p.x + x, y: p.y + y });
    }
  }
  const added = addAction(next, kind, {
    id: options.id,
    inputs: options.inputs,
    position: options.position,
    parent: from,
    edge: { name: old.name, conditional: old.conditional },
  });
  return { workflow: connect(added.workflow, added.id, to, options.onward), id: added.id };
}
