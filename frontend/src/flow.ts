// The workflow as the canvas draws it: React Flow nodes and edges, positioned from the workflow's
// metadata, and laid out automatically (dagre) where no position was kept.

import dagre from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/react";
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

export function toFlow(workflow: Workflow, options: FlowOptions): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const kept = positionsOf(workflow);
  const missing = [SOURCE, ...workflow.actions.map((a) => a.id)].some((id) => !kept[id]);
  const positions = missing ? { ...layout(workflow), ...kept } : kept;
  const nodes: FlowNode[] = [
    {
      id: SOURCE,
      type: "trigger",
      position: positions[SOURCE] ?? { x: 0, y: 0 },
      data: { trigger: options.trigger, problems: options.problems?.trigger ?? [] },
      deletable: false,
      selected: options.selected === SOURCE,
    },
    ...workflow.actions.map(
      (action): ActionNode => ({
        id: action.id,
        type: "action",
        position: positions[action.id] ?? { x: 0, y: 0 },
        data: {
          action,
          definition: options.catalog.get(action.kind),
          problems: options.problems?.actions[action.id] ?? [],
          status: options.statuses?.[action.id],
        },
        selected: options.selected === action.id,
      }),
    ),
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
      ariaLabel: `connection from ${edge.from} to ${edge.to}${edge.name ? ` (${edge.name})` : ""}`,
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
