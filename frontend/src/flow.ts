// The workflow as the canvas draws it: React Flow nodes and edges, positioned from the workflow's
// metadata, and laid out automatically (dagre) where no position was kept.

import dagre from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/react";
import { triggerKind, triggerLabel } from "./cron";
import type { PlacedProblems } from "./forms";
import { edgeId, positionsOf, type Position } from "./workflowOps";
import { SOURCE, type ActionDef, type ActionStatus, type Problem, type Trigger, type Workflow, type WorkflowAction } from "./types";

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 72;

export type TriggerData = { trigger: Trigger; problems: Problem[] };
export type ActionData = {
  action: WorkflowAction;
  definition: ActionDef | undefined;
  problems: Problem[];
  status?: ActionStatus;
};
export type TriggerNode = Node<TriggerData, "trigger">;
export type ActionNode = Node<ActionData, "action">;
export type FlowNode = TriggerNode | ActionNode;
export type FlowEdge = Edge<{ problems: Problem[] }>;

export interface FlowOptions {
  catalog: Map<string, ActionDef>;
  trigger: Trigger;
  problems?: PlacedProblems;
  statuses?: Record<string, ActionStatus>;
  selected?: string | null;
}

export function conditionLabel(edge: Workflow["edges"][number]): string | undefined {
  if (edge.name) return edge.name;
  const c = edge.conditional;
  if (!c) return undefined;
  if (c.type === "match") return `= ${JSON.stringify(c.value ?? null)}`;
  return c.type;
}

/** ", 2 problems" (or nothing): said after a node's or a connection's name. */
function problemsSaid(problems: Problem[]): string {
  return problems.length ? `, ${problems.length} problem${problems.length > 1 ? "s" : ""}` : "";
}

/** The trigger node's accessible name: "Trigger: when app/user.created, only when …" or "Trigger: schedule …". */
export function triggerNodeLabel(trigger: Trigger, problems: Problem[] = []): string {
  const what =
    triggerKind(trigger) === "cron"
      ? `schedule ${triggerLabel(trigger)}`
      : `when ${trigger.event || "no event"}${trigger.if ? `, only when ${trigger.if}` : ""}`;
  return `Trigger: ${what}${problemsSaid(problems)}`;
}

/** An action node's accessible name: "Action Send email (send_email), completed, 1 problem". */
export function actionNodeLabel(action: WorkflowAction, definition: ActionDef | undefined, problems: Problem[] = [], status?: ActionStatus): string {
  const title = action.name || definition?.name || action.kind;
  return `Action ${title} (${action.id})${status ? `, ${status}` : ""}${problemsSaid(problems)}`;
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
  const nodes: FlowNode[] = [
    {
      id: SOURCE,
      type: "trigger",
      position: positions[SOURCE] ?? { x: 0, y: 0 },
      data: { trigger: options.trigger, problems: triggerProblems },
      deletable: false,
      selected: options.selected === SOURCE,
      ariaLabel: triggerNodeLabel(options.trigger, triggerProblems),
    },
    ...workflow.actions.map((action): ActionNode => {
      const definition = options.catalog.get(action.kind);
      const problems = options.problems?.actions[action.id] ?? [];
      const status = options.statuses?.[action.id];
      return {
        id: action.id,
        type: "action",
        position: positions[action.id] ?? { x: 0, y: 0 },
        data: { action, definition, problems, status },
        selected: options.selected === action.id,
        ariaLabel: actionNodeLabel(action, definition, problems, status),
      };
    }),
  ];
  const edges: FlowEdge[] = workflow.edges.map((edge) => {
    const id = edgeId(edge);
    const problems = options.problems?.edges[id] ?? [];
    const status = options.statuses?.[edge.to];
    return {
      id,
      source: edge.from,
      target: edge.to,
      label: conditionLabel(edge),
      data: { problems },
      animated: status === "running",
      className: [problems.length ? "wk-edge-problem" : "", status === "skipped" ? "wk-edge-skipped" : ""].join(" ").trim(),
      selected: options.selected === id,
      ariaLabel: `connection from ${edge.from} to ${edge.to}${edge.name ? ` (${edge.name})` : ""}${problemsSaid(problems)}`,
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
const STEP_Y = NODE_HEIGHT + 68;

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
