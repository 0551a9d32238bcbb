import {
  applyNodeChanges,
  Background,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type NodeChange,
} from "@xyflow/react";
import { useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { inView, NODE_HEIGHT, NODE_WIDTH, type FlowEdge, type FlowNode } from "../flow";
import { nodeSelection, type Selection } from "../selection";
import { SOURCE } from "../types";
import { useCanvasActions, type CanvasActions } from "./canvasActions";
import { edgeTypes, nodeTypes } from "./nodes";

export const DRAG_TYPE = "application/x-workflow-kit-action";

export interface CanvasProps {
  nodes: FlowNode[];
  edges: FlowEdge[];
  readOnly?: boolean;
  onSelect: (selection: Selection | null) => void;
  /** A connection drawn from a node's handle ("next", "failed", or a loop's inner "body") to a node. */
  onConnect?: (from: string, to: string, handle: string | null) => void;
  onMove?: (positions: Record<string, { x: number; y: number }>) => void;
  onDeleteNodes?: (ids: string[]) => void;
  onDeleteEdges?: (edges: Array<{ from: string; to: string }>) => void;
  onDropAction?: (kind: string, position: { x: number; y: number }) => void;
  /** Changed (incremented) to fit the whole graph into view again, e.g. after an automatic layout. */
  fitRequest?: number;
  /** Bring this node into view (changing `seq` asks again), e.g. a step just added. */
  reveal?: { id: string; seq: number } | null;
}

const FIT_OPTIONS = { padding: 0.2, maxZoom: 1 };

/** The nodes as drawn: the given ones, keeping what React Flow measured of each (so a new array of
 * nodes from the document does not make them flicker while they are measured again). */
function withMeasures(next: FlowNode[], drawn: FlowNode[]): FlowNode[] {
  const measured = new Map(drawn.map((n) => [n.id, n.measured]));
  return next.map((n) => (measured.get(n.id) ? ({ ...n, measured: measured.get(n.id) } as FlowNode) : n));
}

function Flow(props: CanvasProps) {
  const { screenToFlowPosition, fitView, getViewport, setCenter, getInternalNode, getNodes, getNodesBounds } = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const [nodes, setNodes] = useState<FlowNode[]>(props.nodes);
  const [source, setSource] = useState<FlowNode[]>(props.nodes);
  const [overview, setOverview] = useState(false);
  // The document's nodes changed: draw them (React's pattern for state that follows a prop).
  if (source !== props.nodes) {
    setSource(props.nodes);
    setNodes(withMeasures(props.nodes, nodes));
  }

  useEffect(() => {
    if (!props.fitRequest) return;
    const frame = requestAnimationFrame(() => void fitView({ ...FIT_OPTIONS, duration: 200 }));
    return () => cancelAnimationFrame(frame);
  }, [props.fitRequest, fitView]);

  // The canvas changed size (the window, a panel): fit the graph again if the change cut off a graph that
  // was all in view. One that stays in view (a banner took a line of the height) keeps the user's pan and
  // zoom: moving it then would also move a step away from under a click in progress.
  useEffect(() => {
    const element = wrapper.current;
    if (!element || typeof ResizeObserver === "undefined") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled: { width: number; height: number } | null = null; // the size when the graph last settled
    const observer = new ResizeObserver((entries) => {
      const { width, height } = entries[entries.length - 1].contentRect;
      if (!settled) {
        settled = { width, height }; // the first call reports the initial size, which fitView on mount handles
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => {
        const before = settled ?? { width, height };
        settled = { width, height };
        const bounds = getNodesBounds(getNodes());
        const viewport = getViewport();
        if (inView(bounds, viewport, before) && !inView(bounds, viewport, settled)) void fitView({ ...FIT_OPTIONS, duration: 150 });
      }, 150);
    });
    observer.observe(element);
    return () => {
      clearTimeout(timer);
      observer.disconnect();
    };
  }, [fitView, getNodes, getNodesBounds, getViewport]);

  // A step just added: pan to it when it is not in view.
  const reveal = props.reveal;
  useEffect(() => {
    if (!reveal) return;
    const frame = requestAnimationFrame(() => {
      // where it is on the canvas (a step inside a loop has its position relative to the loop's box)
      const node = getInternalNode(reveal.id);
      const box = wrapper.current?.getBoundingClientRect();
      if (!node || !box) return;
      const position = node.internals.positionAbsolute;
      const { x, y, zoom } = getViewport();
      // its middle and its "+" below it within the canvas: in view enough
      const middleX = (position.x + NODE_WIDTH / 2) * zoom + x;
      const bottom = (position.y + NODE_HEIGHT) * zoom + y + 40;
      const inside = middleX > 0 && middleX < box.width && position.y * zoom + y >= 0 && bottom <= box.height;
      if (!inside) void setCenter(position.x + NODE_WIDTH / 2, position.y + NODE_HEIGHT / 2, { zoom, duration: 200 });
    });
    // the node's position is read when asked (from React Flow, not a dependency): a later move must not pan again
    return () => cancelAnimationFrame(frame);
  }, [reveal, getViewport, setCenter, getInternalNode]);

  const onNodesChange = (changes: NodeChange<FlowNode>[]) => {
    setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== "remove" && c.type !== "select"), current));
  };

  const onDrop = (event: DragEvent) => {
    const kind = event.dataTransfer.getData(DRAG_TYPE);
    if (!kind || !props.onDropAction) return;
    event.preventDefault();
    const at = screenToFlowPosition({ x: event.clientX, y: event.clientY });
    props.onDropAction(kind, { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 }); // centred where dropped
  };

  return (
    <div ref={wrapper} style={{ width: "100%", height: "100%" }}>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={props.edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onConnect={(c: Connection) => c.source && c.target && props.onConnect?.(c.source, c.target, c.sourceHandle ?? null)}
        onNodeDragStop={(_, __, dragged) => props.onMove?.(Object.fromEntries(dragged.map((n) => [n.id, n.position])))}
        onNodeClick={(_, node) => props.onSelect(nodeSelection(node.id))}
        onEdgeClick={(_, edge) => edge.data && props.onSelect({ kind: "edge", from: edge.data.from, to: edge.data.to })}
        onPaneClick={() => props.onSelect(null)}
        onNodesDelete={(deleted) => props.onDeleteNodes?.(deleted.map((n) => n.id).filter((id) => id !== SOURCE))}
        onEdgesDelete={(deleted) => props.onDeleteEdges?.(deleted.flatMap((e) => (e.data ? [{ from: e.data.from, to: e.data.to }] : [])))}
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
        // a selected loop's box must not rise above the steps and connections inside it
        elevateNodesOnSelect={false}
        deleteKeyCode={props.readOnly ? null : ["Delete", "Backspace"]}
        fitView
        fitViewOptions={FIT_OPTIONS}
        proOptions={{ hideAttribution: true }}
        aria-label={props.readOnly ? "The run's workflow" : "Workflow canvas: drop actions here and connect them"}
      >
        <Background />
        <Controls showInteractive={false}>
          <ControlButton
            onClick={() => setOverview(!overview)}
            aria-label={overview ? "Hide the overview map" : "Show the overview map"}
            title={overview ? "Hide the overview map" : "Show the overview map"}
            aria-pressed={overview}
          >
            ▦
          </ControlButton>
        </Controls>
        {overview && <MiniMap pannable zoomable ariaLabel="overview" position="top-right" />}
      </ReactFlow>
    </div>
  );
}

/** The keyboard on a focused node or connection (React Flow makes them focusable, Tab moves between them):
 * Enter or Space opens its panel, as a click does; Delete or Backspace deletes that one element (not
 * whatever else was selected before); "+" opens the add-step menu after a node. */
export function canvasKey(event: KeyboardEvent<HTMLElement>, props: CanvasProps, actions: CanvasActions | null = null): void {
  const target = event.target as HTMLElement;
  const kind = target.classList?.contains("react-flow__node") ? "node" : target.classList?.contains("react-flow__edge") ? "edge" : null;
  const id = kind && target.getAttribute("data-id");
  if (!kind || !id) return;
  const edge = kind === "edge" ? props.edges.find((e) => e.id === id)?.data : undefined;
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    if (kind === "node") props.onSelect(nodeSelection(id));
    else if (edge) props.onSelect({ kind: "edge", from: edge.from, to: edge.to });
  } else if ((event.key === "Delete" || event.key === "Backspace") && !props.readOnly) {
    event.preventDefault();
    event.stopPropagation(); // React Flow's own handler would delete the selected elements instead
    // the focus goes on to what it came from (a step before it, or the trigger), not to the page
    const before = kind === "node" ? props.edges.find((e) => e.data?.to === id)?.source ?? SOURCE : props.edges.find((e) => e.id === id)?.source;
    if (kind === "node" && id !== SOURCE) props.onDeleteNodes?.([id]);
    if (edge) props.onDeleteEdges?.([{ from: edge.from, to: edge.to }]);
    const root = target.closest(".react-flow");
    requestAnimationFrame(() => root?.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(before ?? SOURCE)}"]`)?.focus());
  } else if (event.key === "+" && !props.readOnly && actions) {
    event.preventDefault();
    if (kind === "node") actions.requestAdd({ kind: "after", from: id }, target);
    else if (edge) actions.requestAdd({ kind: "between", from: edge.from, to: edge.to }, target);
  }
}

export function Canvas(props: CanvasProps) {
  const actions = useCanvasActions();
  return (
    <div className="wk-canvas" style={{ width: "100%", height: "100%" }} onKeyDown={(event) => canvasKey(event, props, actions)}>
      <ReactFlowProvider>
        <Flow {...props} />
      </ReactFlowProvider>
    </div>
  );
}
