// The workflow as the canvas draws it: React Flow nodes and edges, positioned from the workflow's
// metadata, and laid out automatically (dagre) where no position was kept.

import dagre from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/react";
import { triggerKind, triggerLabel } from "./cron";
import { triggerPhrase } from "./triggers";
import type { PlacedProblems } from "./forms";
import { actionTitle, nodeTitle } from "./names";
import { edgeId, positionsOf, type Position } from "./workflowOps";
import { SOURCE, type ActionDef, type ActionStatus, type Problem, type Trigger, type Workflow, type WorkflowAction } from "./types";

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
};
export type TriggerNode = Node<TriggerData, "trigger">;
export type ActionNode = Node<ActionData, "action">;
export type FlowNode = TriggerNode | ActionNode;
export type FlowEdge = Edge<{ problems: Problem[]; from: string; to: string; insertable: boolean; fromTitle: string; toTitle: string }>;

export interface FlowOptions {
  catalog: Map<string, ActionDef>;
  /** The workflow's triggers (one to ten), drawn as one node. */
  triggers: Trigger[];
  problems?: PlacedProblems;
  statuses?: Record<string, ActionStatus>;
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
  const out = workflow.edges.filter((e) => e.from === id);
  const named = definition?.edges.edges ?? [];
  if (named.length) {
    const used = new Set(out.map((e) => e.name));
    return named.filter((e) => !used.has(e.name)).map((e) => ({ edge: e.name }));
  }
  return out.length ? [] : [{}];
}

/** Where each node is drawn: its kept position, or (when any is missing) dagre's layout for the others. */
export function placedPositions(workflow: Workflow): Record<string, Position> {
  const kept = positionsOf(workflow);
  const missing = [SOURCE, ...workflow.actions.map((a) => a.id)].some((id) => !kept[id]);
  return missing ? { ...layout(workflow), ...kept } : kept;
}

export function toFlow(workflow: Workflow, options: FlowOptions): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const positions = placedPositions(workflow);
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
    ...workflow.actions.map((action): ActionNode => {
      const definition = options.catalog.get(action.kind);
      const problems = options.problems?.actions[action.id] ?? [];
      const status = options.statuses?.[action.id];
      const slots = options.editable ? addSlots(workflow, action.id, definition) : [];
      return {
        id: action.id,
        type: "action",
        position: positions[action.id] ?? { x: 0, y: 0 },
        data: { action, definition, problems, status, summary: summaries[action.id], slots, hasChildren: workflow.edges.some((e) => e.from === action.id) },
        selected: options.selected === action.id,
        ariaLabel: actionNodeLabel(action, definition, problems, status),
      };
    }),
  ];
  const edges: FlowEdge[] = workflow.edges.map((edge) => {
    const id = edgeId(edge);
    const problems = options.problems?.edges[id] ?? [];
    const status = options.statuses?.[edge.to];
    const fromTitle = nodeTitle(edge.from, workflow, options.catalog);
    const toTitle = nodeTitle(edge.to, workflow, options.catalog);
    return {
      id,
      type: "step",
      source: edge.from,
      target: edge.to,
      label: conditionLabel(edge),
      data: { problems, from: edge.from, to: edge.to, insertable: !!options.editable, fromTitle, toTitle },
      animated: status === "running",
      className: [problems.length ? "wk-edge-problem" : "", status === "skipped" ? "wk-edge-skipped" : ""].join(" ").trim(),
      selected: options.selected === id,
      ariaLabel: `Connection from ${fromTitle} to ${toTitle}${edge.name ? ` (${edge.name})` : ""}${problemsSaid(problems)}`,
    };
  });
  return { nodes, edges };
}

/** Top-to-bottom positions for every node (the trigger first), from dagre. */
export function layout(workflow: Workflow): Record<string, Position> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 60, ranksep: 70 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const id of [SOURCE, ...workflow.actions.map((a) => a.id)]) graph.setNode(id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of workflow.edges) {
    if (graph.hasNode(edge.from) && graph.hasNode(edge.to)) graph.setEdge(edge.from, edge.to);
  }
  dagre.layout(graph);
  const positions: Record<string, Position> = {};
  for (const id of graph.nodes()) {
    const node = graph.node(id);
    positions[id] = { x: Math.round(node.x - NODE_WIDTH / 2), y: Math.round(node.y - NODE_HEIGHT / 2) };
  }
  return positions;
}

/** The room a node needs around it: a new node never comes closer to another than this. */
const STEP_X = NODE_WIDTH + 40;
export const STEP_Y = NODE_HEIGHT + 68;

function overlaps(a: Position, b: Position): boolean {
  return Math.abs(a.x - b.x) < STEP_X && Math.abs(a.y - b.y) < STEP_Y;
}

/** Where to put a new node: below `parent` (or below the lowest node), moved sideways, then further
 * down, until it overlaps no node drawn now. */
export function freePosition(workflow: Workflow, parent?: string): Position {
  const positions = placedPositions(workflow);
  const taken = Object.values(positions);
  const anchor = parent ? positions[parent] : undefined;
  const start = anchor
    ? { x: anchor.x, y: anchor.y + STEP_Y }
    : { x: positions[SOURCE]?.x ?? 0, y: Math.max(0, ...taken.map((p) => p.y)) + STEP_Y };
  for (let row = 0; ; row++) {
    for (const side of [0, 1, -1, 2, -2, 3, -3]) {
      const at = { x: start.x + side * STEP_X, y: start.y + row * STEP_Y };
      if (!taken.some((p) => overlaps(p, at))) return at;
    }
  }
}
