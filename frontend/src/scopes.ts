// Loops hold steps: a loop action's `body` is a graph of its own (its edges start from `$source`, the
// start of one iteration), and loops nest. A scope is the path of loop ids from the workflow down to one
// graph ([] for the workflow's own steps, ["each"] for the steps inside the loop "each"). Action ids are
// unique across the whole workflow, so a step's scope is found from its id alone.
//
// Every edit of a graph goes through `editAt`, which hands the graph to the plain operations of
// workflowOps.ts as a workflow of its own (with the workflow's metadata, where positions are kept: a
// step inside a loop keeps its position relative to the loop's box), and puts the result back.

import {
  FAILED,
  FOR_EACH,
  REPEAT_UNTIL,
  SOURCE,
  type Conditional,
  type Workflow,
  type WorkflowAction,
  type WorkflowBody,
  type WorkflowEdge,
} from "./types";
import { connect, disconnect, EdgeError, positionsOf, removeAction, setPositions, updateAction, updateEdge, type Position } from "./workflowOps";

export type Scope = string[];
export const TOP: Scope = [];

export function isLoop(action: WorkflowAction | undefined): boolean {
  return !!action && (action.kind === FOR_EACH || action.kind === REPEAT_UNTIL);
}

export function isFailureEdge(edge: { conditional?: Conditional }): boolean {
  return edge.conditional?.type === FAILED;
}

export function emptyBody(): WorkflowBody {
  return { actions: [], edges: [] };
}

function bodyOf(action: WorkflowAction): WorkflowBody {
  return action.body ?? emptyBody();
}

/** The graph at `scope`, as a workflow (with the workflow's metadata); throws for a scope that is gone. */
export function graphAt(workflow: Workflow, scope: Scope): Workflow {
  let graph: Workflow = workflow;
  for (const id of scope) {
    const loop = graph.actions.find((a) => a.id === id);
    if (!loop || !isLoop(loop)) throw new EdgeError("that loop is not there any more");
    const body = bodyOf(loop);
    graph = { actions: body.actions ?? [], edges: body.edges ?? [], ...(workflow.metadata ? { metadata: workflow.metadata } : {}) };
  }
  return graph;
}

/** The workflow with the graph at `scope` changed by `change` (which may also change the metadata). */
export function editAt(workflow: Workflow, scope: Scope, change: (graph: Workflow) => Workflow): Workflow {
  if (scope.length === 0) return change(workflow);
  const [head, ...rest] = scope;
  const loop = workflow.actions.find((a) => a.id === head);
  if (!loop || !isLoop(loop)) throw new EdgeError("that loop is not there any more");
  const body = bodyOf(loop);
  const inner: Workflow = { actions: body.actions ?? [], edges: body.edges ?? [], ...(workflow.metadata ? { metadata: workflow.metadata } : {}) };
  const next = editAt(inner, rest, change);
  const actions = workflow.actions.map((a) => (a.id === head ? { ...a, body: { ...body, actions: next.actions, edges: next.edges } } : a));
  return { ...workflow, actions, ...(next.metadata ? { metadata: next.metadata } : {}) };
}

/** Every action with its scope, depth first (a loop before the steps inside it). */
export function everyAction(workflow: Workflow): Array<{ action: WorkflowAction; scope: Scope }> {
  const found: Array<{ action: WorkflowAction; scope: Scope }> = [];
  const walk = (actions: WorkflowAction[], scope: Scope) => {
    for (const action of actions) {
      found.push({ action, scope });
      if (isLoop(action) && action.body) walk(action.body.actions ?? [], [...scope, action.id]);
    }
  };
  walk(workflow.actions, TOP);
  return found;
}

export function findAction(workflow: Workflow, id: string): WorkflowAction | undefined {
  return everyAction(workflow).find((found) => found.action.id === id)?.action;
}

/** The scope the action `id` is in; null when there is no such action. */
export function scopeOf(workflow: Workflow, id: string): Scope | null {
  return everyAction(workflow).find((found) => found.action.id === id)?.scope ?? null;
}

/** The loops around the action `id`, innermost last (empty for a step of the workflow itself). */
export function loopsAround(workflow: Workflow, id: string): WorkflowAction[] {
  const scope = scopeOf(workflow, id) ?? TOP;
  return scope.map((loop) => findAction(workflow, loop)).filter((a): a is WorkflowAction => !!a);
}

export function sameScope(a: Scope | null, b: Scope | null): boolean {
  return !!a && !!b && a.length === b.length && a.every((id, i) => id === b[i]);
}

/** The scope of an edge: the scope of the step it leads to (an edge never leads into `$source`). */
export function edgeScope(workflow: Workflow, edge: { to: string }): Scope | null {
  return scopeOf(workflow, edge.to);
}

export function findEdge(workflow: Workflow, from: string, to: string): WorkflowEdge | undefined {
  const scope = scopeOf(workflow, to);
  if (!scope) return undefined;
  return graphAt(workflow, scope).edges.find((e) => e.from === from && e.to === to);
}

/** Every edge with its scope. */
export function everyEdge(workflow: Workflow): Array<{ edge: WorkflowEdge; scope: Scope }> {
  const found = workflow.edges.map((edge) => ({ edge, scope: TOP }));
  for (const { action, scope } of everyAction(workflow)) {
    if (isLoop(action) && action.body) found.push(...(action.body.edges ?? []).map((edge) => ({ edge, scope: [...scope, action.id] })));
  }
  return found;
}

// -- edits anywhere, by id -----------------------------------------------------------------------------

function scopeOrThrow(workflow: Workflow, id: string): Scope {
  const scope = scopeOf(workflow, id);
  if (!scope) throw new EdgeError("that step is not there any more");
  return scope;
}

export function updateActionAnywhere(workflow: Workflow, id: string, change: Partial<WorkflowAction>): Workflow {
  return editAt(workflow, scopeOrThrow(workflow, id), (graph) => updateAction(graph, id, change));
}

/** Change a loop's body itself (e.g. which step gives each item's result). */
export function updateBody(workflow: Workflow, loop: string, change: Partial<WorkflowBody>): Workflow {
  return editAt(workflow, scopeOrThrow(workflow, loop), (graph) => ({
    ...graph,
    actions: graph.actions.map((a) => {
      if (a.id !== loop) return a;
      const body: WorkflowBody = { ...bodyOf(a), ...change };
      for (const key of Object.keys(change) as Array<keyof WorkflowBody>) if (change[key] === undefined) delete body[key];
      return { ...a, body };
    }),
  }));
}

/** Remove a step wherever it is, with its connections; a loop goes with every step inside it (and their
 * kept positions); a loop whose result it gave then gives every step's output again. */
export function removeAnywhere(workflow: Workflow, id: string): Workflow {
  const scope = scopeOf(workflow, id);
  if (!scope) return workflow;
  const action = findAction(workflow, id);
  let next = editAt(workflow, scope, (graph) => removeAction(graph, id));
  if (action && isLoop(action)) {
    const inside = new Set(everyAction({ actions: [action], edges: [] }).map((found) => found.action.id));
    const kept = Object.fromEntries(Object.entries(positionsOf(next)).filter(([key]) => !inside.has(key)));
    next = setPositions(next, kept);
  }
  const loop = scope[scope.length - 1];
  if (loop && findAction(next, loop)?.body?.result === id) next = updateBody(next, loop, { result: undefined });
  return next;
}

/** The scope a connection from a canvas node's handle starts in, and the node it starts from there: a
 * loop's inner handle ("body") starts its steps (`$source` inside it). */
export function connectionStart(workflow: Workflow, node: string, handle?: string | null): { scope: Scope; from: string } | null {
  if (node === SOURCE) return { scope: TOP, from: SOURCE };
  const scope = scopeOf(workflow, node);
  if (!scope) return null;
  return handle === "body" ? { scope: [...scope, node], from: SOURCE } : { scope, from: node };
}

/** Connect `from` (in `scope`; `$source` is the scope's start) to `to`, which must be in the same scope. */
export function connectAt(
  workflow: Workflow,
  scope: Scope,
  from: string,
  to: string,
  edge: { name?: string; conditional?: Conditional } = {},
): Workflow {
  const target = scopeOf(workflow, to);
  if (!target) throw new EdgeError("that step is not there any more");
  if (!sameScope(scope, target)) {
    throw new EdgeError(target.length > scope.length ? "a step inside a loop only connects to steps inside the same loop" : "a step inside a loop only connects to steps inside the same loop, or from the loop's start");
  }
  if (from === SOURCE && isFailureEdge(edge)) throw new EdgeError("only a step can fail");
  return editAt(workflow, scope, (graph) => connect(graph, from, to, edge));
}

/** Connect `from` to `to` where `to` is (from the trigger, or a loop's start, when `from` is `$source`). */
export function connectAnywhere(workflow: Workflow, from: string, to: string, edge: { name?: string; conditional?: Conditional } = {}): Workflow {
  const scope = from === SOURCE ? scopeOf(workflow, to) ?? TOP : scopeOrThrow(workflow, from);
  return connectAt(workflow, scope, from, to, edge);
}

export function disconnectAnywhere(workflow: Workflow, from: string, to: string): Workflow {
  const scope = scopeOf(workflow, to);
  return scope ? editAt(workflow, scope, (graph) => disconnect(graph, from, to)) : workflow;
}

export function updateEdgeAnywhere(
  workflow: Workflow,
  from: string,
  to: string,
  change: { name?: string | null; conditional?: Conditional | null },
): Workflow {
  const scope = scopeOf(workflow, to);
  return scope ? editAt(workflow, scope, (graph) => updateEdge(graph, from, to, change)) : workflow;
}

/** Every action upstream of `id` that its refs may read: in its own graph, then upstream of each loop
 * around it (outermost first). */
export function upstreamAnywhere(workflow: Workflow, id: string, upstreamOf: (graph: Workflow, id: string) => string[]): string[] {
  const scope = scopeOf(workflow, id);
  if (!scope) return [];
  const found: string[] = [];
  for (let depth = 0; depth < scope.length; depth++) {
    found.push(...upstreamOf(graphAt(workflow, scope.slice(0, depth)), scope[depth]));
  }
  found.push(...upstreamOf(graphAt(workflow, scope), id));
  return found;
}

/** Every position kept, in every scope (inside a loop, relative to its box). */
export function setPositionAnywhere(workflow: Workflow, id: string, position: Position): Workflow {
  return setPositions(workflow, { ...positionsOf(workflow), [id]: position });
}
