// The workflow as the canvas draws it: React Flow nodes and edges, positioned from the workflow's
// metadata, and laid out automatically (dagre) where no position was kept.

import dagre from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/react";
import { triggerKind, triggerLabel } from "./cron";
import { triggerPhrase } from "./triggers";
import type { PlacedProblems } from "./forms";
import { actionTitle, nodeTitle } from "./names";
import { everyAction, graphAt, isFailureEdge, isLoop } from "./scopes";
import { edgeId, positionsOf, setPositions, type Position } from "./workflowOps";
import { FAILED, FOR_EACH, REPEAT_UNTIL, SOURCE, type ActionDef, type ActionStatus, type Problem, type Trigger, type Workflow, type WorkflowAction } from "./types";

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 72;

/** A place to add a step after a node: plainly, or on one of its named branches ("True", "Received"). */
export interface AddSlot {
  edge?: string;
}

export type TriggerData = { triggers: Trigger[]; problems: Problem[]; summary?: string; slots: AddSlot[]; hasChildren: boolean };
export type ActionData = {
  action: WorkflowAction;
  definition: ActionDef | undefined;
  problems: Problem[];
  status?: ActionStatus;
  /** What the step does, in words (an If's condition, a sleep's duration…). */
  summary?: string;
  slots: AddSlot[];
  /** Something follows it already (its "+" then sits aside, off the connection's own "+"). */
  hasChildren: boolean;
  /** The run's status in words, when plain status is not enough ("Failed — handled", "3 of 3 done"). */
  statusText?: string;
  /** Connections may be drawn from it (its "on failure" handle is offered). */
  editable?: boolean;
  /** It failed, and the workflow handled that (the run went on). */
  handled?: boolean;
  /** An "on failure" connection leaves it (its red handle is shown even where nothing can be edited). */
  failureOut?: boolean;
};
export type LoopData = ActionData & {
  /** The "+" at the start of the steps inside (one while editing). */
  bodySlots: AddSlot[];
  /** A step inside runs first already (the start's "+" then sits aside). */
  bodyStarted: boolean;
};
export type TriggerNode = Node<TriggerData, "trigger">;
export type ActionNode = Node<ActionData, "action">;
export type LoopNode = Node<LoopData, "loop">;
export type FlowNode = TriggerNode | ActionNode | LoopNode;
export type FlowEdge = Edge<{ problems: Problem[]; from: string; to: string; insertable: boolean; fromTitle: string; toTitle: string; failure?: boolean }>;

export interface FlowOptions {
  catalog: Map<string, ActionDef>;
  /** The workflow's triggers (one to ten), drawn as one node. */
  triggers: Trigger[];
  problems?: PlacedProblems;
  statuses?: Record<string, ActionStatus>;
  /** Node id -> its run status in words, where the status alone would mislead (see runs.ts). */
  statusTexts?: Record<string, string>;
  /** Node id -> its failure was handled (the run went on). */
  handled?: Record<string, boolean>;
  /** The selected node's or connection's canvas id. */
  selected?: string | null;
  /** Node id -> what it does in words (see summaries.ts). */
  summaries?: Record<string, string>;
  /** Offer "+" buttons to add steps (not in a run's read-only view). */
  editable?: boolean;
}

/** A connection's label on the canvas: its name ("True"), else its condition in short words. */
export function conditionLabel(edge: Workflow["edges"][number]): string | undefined {
  if (edge.name) return edge.name;
  const c = edge.conditional;
  if (!c) return undefined;
  if (c.type === "match") return `= ${JSON.stringify(c.value ?? null)}`;
  if (c.type === "if") return "if yes";
  if (c.type === "else") return "if no";
  if (c.type === FAILED) return "On failure";
  return c.type;
}

/** ", 2 problems" (or nothing): said after a node's or a connection's name. */
function problemsSaid(problems: Problem[]): string {
  return problems.length ? `, ${problems.length} problem${problems.length > 1 ? "s" : ""}` : "";
}

/** The trigger node's accessible name: "Trigger: when app/user.created, only when …" or "Trigger: schedule …";
 * with several, "Triggers: when app/order.created, or every day at 09:00 (UTC)". `summary` is the first
 * trigger's filter in words. */
export function triggerNodeLabel(triggers: Trigger[], problems: Problem[] = [], summary?: string): string {
  if (triggers.length > 1) return `Triggers: ${triggers.map((t, i) => triggerPhrase(t, i === 0 ? summary : undefined)).join(", or ")}${problemsSaid(problems)}`;
  const trigger = triggers[0] ?? {};
  const what =
    triggerKind(trigger) === "cron"
      ? `schedule ${triggerLabel(trigger)}`
      : triggerKind(trigger) === "webhook"
      ? triggerPhrase(trigger, summary)
      : `when ${trigger.event || "no event"}${trigger.if ? `, only when ${summary ?? "a condition holds"}` : ""}`;
  return `Trigger: ${what}${problemsSaid(problems)}`;
}

/** An action node's accessible name: "Step Send email, completed, 1 problem". */
export function actionNodeLabel(action: WorkflowAction, definition: ActionDef | undefined, problems: Problem[] = [], status?: ActionStatus): string {
  return `Step ${actionTitle(action, definition)}${status ? `, ${status}` : ""}${problemsSaid(problems)}`;
}

/** Where "+" buttons go after a node: its named branches not yet used (an If's True and False), or,
 * for a step without named branches, one plain "+" when nothing follows it. The trigger always has one. */
export function addSlots(workflow: Workflow, id: string, definition: ActionDef | undefined): AddSlot[] {
  if (id === SOURCE) return [{}];
  const out = workflow.edges.filter((e) => e.from === id && !isFailureEdge(e));
  const named = definition?.edges.edges ?? [];
  if (named.length) {
    const used = new Set(out.map((e) => e.name));
    return named.filter((e) => !used.has(e.name)).map((e) => ({ edge: e.name }));
  }
  return out.length ? [] : [{}];
}

/** A canvas node's size: a step's fixed one, a loop's box around the steps inside it. */
export interface Size {
  width: number;
  height: number;
}

/** A loop's box: its header (name, what it goes through), then the steps inside, with this padding. */
export const LOOP_HEADER = 76;
export const LOOP_PAD = 28;
/** Where the first step inside a loop goes (below its start's "+"). */
export const BODY_TOP = LOOP_HEADER + 60;
const LOOP_MIN_WIDTH = NODE_WIDTH + 2 * LOOP_PAD + 40;
const EMPTY_BODY_HEIGHT = LOOP_HEADER + 64;
const STEP_SIZE: Size = { width: NODE_WIDTH, height: NODE_HEIGHT };

/** Where every node is drawn (inside a loop, relative to its box) and each loop's size. */
export interface Placement {
  positions: Record<string, Position>;
  sizes: Record<string, Size>;
}

function bodyGraph(action: WorkflowAction, metadata: Workflow["metadata"]): Workflow {
  return { actions: action.body?.actions ?? [], edges: action.body?.edges ?? [], ...(metadata ? { metadata } : {}) };
}

/** The box a loop needs around the steps inside it. */
function boxSize(body: Workflow, placement: Placement): Size {
  if (body.actions.length === 0) return { width: LOOP_MIN_WIDTH, height: EMPTY_BODY_HEIGHT };
  let right = 0;
  let bottom = 0;
  for (const action of body.actions) {
    const at = placement.positions[action.id] ?? { x: 0, y: 0 };
    const size = placement.sizes[action.id] ?? STEP_SIZE;
    right = Math.max(right, at.x + size.width);
    bottom = Math.max(bottom, at.y + size.height);
  }
  // room on the right for a step's "on failure" handle, below for the "+" under the last steps
  return { width: Math.max(LOOP_MIN_WIDTH, right + LOOP_PAD), height: bottom + LOOP_PAD + 24 };
}

/** Every node's place: kept positions, and (for a graph where any is missing) dagre's layout for the
 * rest; loops inside out, so a loop's box is known before the graph around it is laid out. With
 * `fresh`, kept positions are ignored (tidying up). */
export function placeAll(workflow: Workflow, fresh = false): Placement {
  const kept = fresh ? {} : positionsOf(workflow);
  const placement: Placement = { positions: {}, sizes: {} };
  const place = (graph: Workflow, inBody: boolean) => {
    for (const action of graph.actions) {
      if (!isLoop(action)) continue;
      const body = bodyGraph(action, workflow.metadata);
      place(body, true);
      placement.sizes[action.id] = boxSize(body, placement);
    }
    const ids = graph.actions.map((a) => a.id);
    const needed = inBody ? ids : [SOURCE, ...ids];
    const laid = needed.some((id) => !kept[id]) ? layoutGraph(graph, placement.sizes, inBody) : {};
    for (const id of needed) placement.positions[id] = kept[id] ?? laid[id] ?? { x: 0, y: 0 };
  };
  place(workflow, false);
  return placement;
}

/** Where each node is drawn: its kept position, or dagre's layout where positions are missing. Steps
 * inside a loop are placed relative to the loop's box. */
export function placedPositions(workflow: Workflow): Record<string, Position> {
  return placeAll(workflow).positions;
}

/** The start of a loop's steps, as a place to put a step after (its "+" at the top of the box). */
export function bodyStart(): Position {
  return { x: LOOP_PAD, y: BODY_TOP - STEP_Y };
}

/** A loop's summary on the canvas, its steps' count said to assistive technology. */
function loopLabel(action: WorkflowAction, definition: ActionDef | undefined, problems: Problem[], status?: ActionStatus): string {
  const count = action.body?.actions?.length ?? 0;
  const inside = count ? `, ${count} step${count > 1 ? "s" : ""} inside` : ", nothing inside yet";
  return `Step ${actionTitle(action, definition)}${inside}${status ? `, ${status}` : ""}${problemsSaid(problems)}`;
}

export function toFlow(workflow: Workflow, options: FlowOptions): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const placement = placeAll(workflow);
  const positions = placement.positions;
  const triggerProblems = options.problems?.trigger ?? [];
  const summaries = options.summaries ?? {};
  const nodes: FlowNode[] = [
    {
      id: SOURCE,
      type: "trigger",
      position: positions[SOURCE] ?? { x: 0, y: 0 },
      data: {
        triggers: options.triggers,
        problems: triggerProblems,
        summary: summaries[SOURCE],
        slots: options.editable ? addSlots(workflow, SOURCE, undefined) : [],
        hasChildren: workflow.edges.some((e) => e.from === SOURCE),
      },
      deletable: false,
      selected: options.selected === SOURCE,
      ariaLabel: triggerNodeLabel(options.triggers, triggerProblems, summaries[SOURCE]),
    },
  ];
  const edges: FlowEdge[] = [];
  // parents before the nodes inside them (React Flow draws a sub-flow that way)
  const emit = (graph: Workflow, scope: string[]) => {
    const parent = scope[scope.length - 1];
    const titleOf = (id: string) => (id === SOURCE && parent ? `the start of ${nodeTitle(parent, workflow, options.catalog)}` : nodeTitle(id, workflow, options.catalog));
    for (const action of graph.actions) {
      const definition = options.catalog.get(action.kind);
      const problems = options.problems?.actions[action.id] ?? [];
      const status = options.statuses?.[action.id];
      const slots = options.editable ? addSlots(graph, action.id, definition) : [];
      const data: ActionData = {
        action,
        definition,
        problems,
        status,
        statusText: options.statusTexts?.[action.id],
        handled: options.handled?.[action.id],
        summary: summaries[action.id],
        slots,
        hasChildren: graph.edges.some((e) => e.from === action.id && !isFailureEdge(e)),
        editable: !!options.editable,
        failureOut: graph.edges.some((e) => e.from === action.id && isFailureEdge(e)),
      };
      const inside = parent ? { parentId: parent, extent: "parent" as const } : {};
      if (isLoop(action)) {
        const size = placement.sizes[action.id] ?? { width: LOOP_MIN_WIDTH, height: EMPTY_BODY_HEIGHT };
        const body = bodyGraph(action, workflow.metadata);
        nodes.push({
          id: action.id,
          type: "loop",
          position: positions[action.id] ?? { x: 0, y: 0 },
          ...inside,
          width: size.width,
          height: size.height,
          style: { width: size.width, height: size.height },
          data: { ...data, bodySlots: options.editable ? [{}] : [], bodyStarted: body.edges.some((e) => e.from === SOURCE) },
          selected: options.selected === action.id,
          ariaLabel: loopLabel(action, definition, problems, status),
        } as LoopNode);
        emit(body, [...scope, action.id]);
      } else {
        nodes.push({
          id: action.id,
          type: "action",
          position: positions[action.id] ?? { x: 0, y: 0 },
          ...inside,
          data,
          selected: options.selected === action.id,
          ariaLabel: actionNodeLabel(action, definition, problems, status),
        });
      }
    }
    for (const edge of graph.edges) {
      const id = edgeId(edge);
      const problems = options.problems?.edges[id] ?? [];
      const status = options.statuses?.[edge.to];
      const failure = isFailureEdge(edge);
      const fromTitle = titleOf(edge.from);
      const toTitle = titleOf(edge.to);
      const fromStart = edge.from === SOURCE && !!parent;
      edges.push({
        id,
        type: "step",
        source: fromStart ? parent : edge.from,
        sourceHandle: fromStart ? "body" : failure ? "failed" : "next",
        target: edge.to,
        label: conditionLabel(edge),
        data: { problems, from: edge.from, to: edge.to, insertable: !!options.editable && !failure, fromTitle, toTitle, failure },
        animated: status === "running",
        // inside a loop, above the loop's box
        ...(parent ? { zIndex: scope.length } : {}),
        className: [problems.length ? "wk-edge-problem" : "", status === "skipped" ? "wk-edge-skipped" : "", failure ? "wk-edge-failure" : ""].filter(Boolean).join(" "),
        selected: options.selected === id,
        ariaLabel: `Connection from ${fromTitle} to ${toTitle}${edge.name ? ` (${edge.name})` : failure ? " (on failure)" : ""}${problemsSaid(problems)}`,
      });
    }
  };
  emit(workflow, []);
  return { nodes, edges };
}

/** Positions for every node, laid out afresh (tidying up): loops' steps inside their boxes. */
export function layoutAll(workflow: Workflow): Record<string, Position> {
  return placeAll(workflow, true).positions;
}

/** Top-to-bottom positions for every node of the workflow itself (the trigger first), from dagre. */
export function layout(workflow: Workflow): Record<string, Position> {
  const sizes = placeAll(workflow, true).sizes;
  return layoutGraph(workflow, sizes, false);
}

/** dagre's layout of one graph, loops at their sizes; inside a loop, the steps start below its header. */
function layoutGraph(workflow: Workflow, sizes: Record<string, Size>, inBody: boolean): Record<string, Position> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 60, ranksep: 70 });
  graph.setDefaultEdgeLabel(() => ({}));
  const sizeOf = (id: string) => sizes[id] ?? STEP_SIZE;
  for (const id of [SOURCE, ...workflow.actions.map((a) => a.id)]) graph.setNode(id, { ...sizeOf(id) });
  for (const edge of workflow.edges) {
    if (graph.hasNode(edge.from) && graph.hasNode(edge.to)) graph.setEdge(edge.from, edge.to);
  }
  dagre.layout(graph);
  const positions: Record<string, Position> = {};
  for (const id of graph.nodes()) {
    const node = graph.node(id);
    const size = sizeOf(id);
    positions[id] = { x: Math.round(node.x - size.width / 2), y: Math.round(node.y - size.height / 2) };
  }
  if (!inBody) return positions;
  // inside a loop: no start node of its own (the box's header is the start); the steps from the top left
  delete positions[SOURCE];
  const all = Object.values(positions);
  if (!all.length) return positions;
  const dx = LOOP_PAD - Math.min(...all.map((p) => p.x));
  const dy = BODY_TOP - Math.min(...all.map((p) => p.y));
  return Object.fromEntries(Object.entries(positions).map(([id, p]) => [id, { x: p.x + dx, y: p.y + dy }]));
}

/** The room a node needs around it: a new node never comes closer to another than this. */
const GAP_X = 40;
const GAP_Y = 68;
export const STEP_Y = NODE_HEIGHT + GAP_Y;

function overlaps(a: Position, own: Size, b: Position, size: Size): boolean {
  return a.x < b.x + size.width + GAP_X && b.x < a.x + own.width + GAP_X && a.y < b.y + size.height + GAP_Y && b.y < a.y + own.height + GAP_Y;
}

/** The size a new node of `kind` is drawn at (a new loop is an empty box). */
export function newNodeSize(kind: string): Size {
  return kind === FOR_EACH || kind === REPEAT_UNTIL ? { width: LOOP_MIN_WIDTH, height: EMPTY_BODY_HEIGHT } : STEP_SIZE;
}

/** Where a connection from a node leaves it (its bottom), for placing what follows it. */
export function nodeBottom(workflow: Workflow, id: string, scope: string[] = []): number {
  if (id === SOURCE && scope.length) return bodyStart().y + NODE_HEIGHT;
  const placement = placeAll(workflow);
  return (placement.positions[id]?.y ?? 0) + (placement.sizes[id] ?? STEP_SIZE).height;
}

/** After an edit that made loops' boxes taller (a step added inside), the nodes below each such loop in
 * its own graph move down as much, so no box covers them. `before` is the workflow before the edit. */
export function makeRoom(before: Workflow, after: Workflow): Workflow {
  const old = placeAll(before).sizes;
  let next = after;
  const loops = everyAction(after)
    .filter((found) => isLoop(found.action))
    .sort((a, b) => b.scope.length - a.scope.length); // innermost first: their growth grows the outer ones
  for (const { action, scope } of loops) {
    const now = placeAll(next);
    const was = old[action.id];
    const size = now.sizes[action.id];
    if (!was || !size || size.height <= was.height) continue;
    const dy = size.height - was.height;
    const at = now.positions[action.id] ?? { x: 0, y: 0 };
    const positions = { ...now.positions, ...positionsOf(next) };
    for (const other of graphAt(next, scope).actions) {
      const p = now.positions[other.id];
      const width = (now.sizes[other.id] ?? STEP_SIZE).width;
      const beside = p && p.x < at.x + size.width && at.x < p.x + width;
      if (other.id !== action.id && p && beside && p.y >= at.y + was.height) positions[other.id] = { x: p.x, y: p.y + dy };
    }
    next = setPositions(next, positions);
  }
  return next;
}

/** Where to put a new step in the graph at `scope`: below `parent` (or below the lowest node), moved
 * sideways, then further down, until it overlaps no node drawn now. Inside a loop, `$source` is the
 * loop's start, and positions are relative to its box. */
export function freePosition(workflow: Workflow, parent?: string, scope: string[] = [], own: Size = STEP_SIZE, aside = false): Position {
  const placement = placeAll(workflow);
  const graph = graphAt(workflow, scope);
  const inBody = scope.length > 0;
  const ids = [...(inBody ? [] : [SOURCE]), ...graph.actions.map((a) => a.id)];
  const taken = ids.map((id) => ({ at: placement.positions[id] ?? { x: 0, y: 0 }, size: placement.sizes[id] ?? STEP_SIZE }));
  const anchor = parent ? (parent === SOURCE && inBody ? { at: bodyStart(), size: STEP_SIZE } : taken[ids.indexOf(parent)]) : undefined;
  const lowest = Math.max(inBody ? BODY_TOP - STEP_Y : 0, ...taken.map((t) => t.at.y + t.size.height - NODE_HEIGHT));
  const start = anchor
    ? { x: anchor.at.x, y: anchor.at.y + anchor.size.height + GAP_Y }
    : { x: inBody ? LOOP_PAD : placement.positions[SOURCE]?.x ?? 0, y: lowest + STEP_Y };
  for (let row = 0; ; row++) {
    // a step that runs when its parent fails goes to the right of the parent's own next steps
    for (const side of aside ? [1, 2, 3, 0, -1, -2, -3] : [0, 1, -1, 2, -2, 3, -3]) {
      const at = { x: start.x + side * (NODE_WIDTH + GAP_X), y: start.y + row * STEP_Y };
      if (inBody && at.x < LOOP_PAD) continue; // inside a loop's box, never left of it
      if (!taken.some((t) => overlaps(at, own, t.at, t.size))) return at;
    }
  }
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Whether `bounds` (in the graph's coordinates) is all within a canvas of `size` (pixels) shown at
 * `viewport` (its pan and zoom), give or take a pixel. */
export function inView(bounds: Rect, viewport: { x: number; y: number; zoom: number }, size: { width: number; height: number }): boolean {
  const left = bounds.x * viewport.zoom + viewport.x;
  const top = bounds.y * viewport.zoom + viewport.y;
  const right = (bounds.x + bounds.width) * viewport.zoom + viewport.x;
  const bottom = (bounds.y + bounds.height) * viewport.zoom + viewport.y;
  return left >= -1 && top >= -1 && right <= size.width + 1 && bottom <= size.height + 1;
}
