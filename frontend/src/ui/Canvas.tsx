import {
  applyNodeChanges,
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useState, type DragEvent, type KeyboardEvent } from "react";
import { NODE_HEIGHT, NODE_WIDTH, type FlowEdge, type FlowNode } from "../flow";
import { SOURCE } from "../types";
import { nodeTypes } from "./nodes";

export const DRAG_TYPE = "application/x-workflow-kit-action";

export interface CanvasProps {
  nodes: FlowNode[];
  edges: FlowEdge[];
  readOnly?: boolean;
  onSelect: (id: string | null) => void;
  onConnect?: (from: string, to: string) => void;
  onMove?: (positions: Record<string, { x: number; y: number }>) => void;
  onDeleteNodes?: (ids: string[]) => void;
  onDeleteEdges?: (ids: string[]) => void;
  onDropAction?: (kind: string, position: { x: number; y: number }) => void;
  /** Changed (incremented) to fit the whole graph into view again, e.g. after an automatic layout. */
  fitRequest?: number;
}

const FIT_OPTIONS = { padding: 0.2, maxZoom: 1 };

function Flow(props: CanvasProps) {
  const { screenToFlowPosition, fitView } = useReactFlow();
  const [nodes, setNodes] = useState<FlowNode[]>(props.nodes);
  useEffect(() => setNodes(props.nodes), [props.nodes]);
  useEffect(() => {
    if (!props.fitRequest) return;
    const frame = requestAnimationFrame(() => void fitView({ ...FIT_OPTIONS, duration: 200 }));
    return () => cancelAnimationFrame(frame);
  }, [props.fitRequest, fitView]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), current));
  }, []);

  const onDrop = (event: DragEvent) => {
    const kind = event.dataTransfer.getData(DRAG_TYPE);
    if (!kind || !props.onDropAction) return;
    event.preventDefault();
    const at = screenToFlowPosition({ x: event.clientX, y: event.clientY });
    props.onDropAction(kind, { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 }); // centred where dropped
  };

  return (
    <ReactFlow<FlowNode, FlowEdge>
      nodes={nodes}
      edges={props.edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onConnect={(c: Connection) => c.source && c.target && props.onConnect?.(c.source, c.target)}
      onNodeDragStop={(_, __, dragged) =>
        props.onMove?.(Object.fromEntries(dragged.map((n) => [n.id, n.position])))
      }
      onNodeClick={(_, node) => props.onSelect(node.id)}
      onEdgeClick={(_, edge: Edge) => props.onSelect(edge.id)}
      onPaneClick={() => props.onSelect(null)}
      onNodesDelete={(deleted) => props.onDeleteNodes?.(deleted.map((n) => n.id).filter((id) => id !== "$source"))}
      onEdgesDelete={(deleted) => props.onDeleteEdges?.(deleted.map((e) => e.id))}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes(DRAG_TYPE)) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
        }
      }}
      onDrop={onDrop}
      nodesDraggable={!props.readOnly}
      nodesConnectable={!props.readOnly}
      elementsSelectable
      deleteKeyCode={props.readOnly ? null : ["Delete", "Backspace"]}
      fitView
      fitViewOptions={FIT_OPTIONS}
      proOptions={{ hideAttribution: true }}
      aria-label={props.readOnly ? "The run's workflow" : "Workflow canvas: drop actions here and connect them"}
    >
      <Background />
      <Controls showInteractive={false} />
      <MiniMap pannable zoomable ariaLabel="overview" />
    </ReactFlow>
  );
}

/** The keyboard on a focused node or connection (React Flow makes them focusable, Tab moves between them):
 * Enter or Space opens its panel, as a click does; Delete or Backspace deletes that one element (not
 * whatever else was selected before). */
export function canvasKey(event: KeyboardEvent<HTMLElement>, props: CanvasProps): void {
  const target = event.target as Element;
  const kind = target.classList?.contains("react-flow__node") ? "node" : target.classList?.contains("react-flow__edge") ? "edge" : null;
  const id = kind && target.getAttribute("data-id");
  if (!kind || !id) return;
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    props.onSelect(id);
  } else if ((event.key === "Delete" || event.key === "Backspace") && !props.readOnly) {
    event.preventDefault();
    event.stopPropagation(); // React Flow's own handler would delete the selected elements instead
    if (kind === "node" && id !== SOURCE) props.onDeleteNodes?.([id]);
    if (kind === "edge") props.onDeleteEdges?.([id]);
  }
}

export function Canvas(props: CanvasProps) {
  return (
    <div className="wk-canvas" style={{ width: "100%", height: "100%" }} onKeyDown={(event) => canvasKey(event, props)}>
      <ReactFlowProvider>
        <Flow {...props} />
      </ReactFlowProvider>
    </div>
  );
}
