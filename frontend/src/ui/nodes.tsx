// The canvas's nodes. Their accessible names sit on React Flow's focusable wrapper (flow.ts sets
// `ariaLabel`), so a screen reader names the node it tabs to.
import { BaseEdge, EdgeLabelRenderer, getBezierPath, Handle, Position, type EdgeProps, type NodeProps } from "@xyflow/react";
import { triggerKind, triggerLabel } from "../cron";
import { triggerPhrase, triggersSentence } from "../triggers";
import { LOOP_HEADER, type ActionNode, type AddSlot, type FlowEdge, type LoopNode, type TriggerNode } from "../flow";
import { actionTitle } from "../names";
import { SOURCE } from "../types";
import { useCanvasActions } from "./canvasActions";
import { ErrorBoundary } from "./ErrorBoundary";

// Glyphs every system font has (headless browsers and servers often lack emoji fonts).
const ICONS: Record<string, string> = {
  split: "◇", clock: "◔", calendar: "▦", hourglass: "◷", send: "✉", workflow: "⇄", plus: "+",
  list: "☰", "spell-check": "✓", check: "✓", save: "▣", repeat: "↻", rotate: "⟳", mail: "✉", email: "✉",
};

/** An icon given as an image: an http(s) or data: image URL, or inline SVG markup (the TypeScript kit's
 * two documented forms). SVG is shown through an <img> from a data URL, so any script in it never runs. */
export function iconImage(icon: string | null | undefined): string | null {
  if (!icon) return null;
  const text = icon.trim();
  if (/^https?:\/\//i.test(text) || /^data:image\//i.test(text)) return text;
  if (/^<svg[\s>]/i.test(text)) return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  return null;
}

/** An action's icon as an element: the image for a URL or SVG, otherwise the glyph from `iconFor`. */
export function ActionIcon({ icon }: { icon: string | null | undefined }) {
  const src = iconImage(icon);
  return src ? <img className="wk-icon-image" src={src} alt="" width={18} height={18} /> : <>{iconFor(icon)}</>;
}

/** An action's icon: a known name, a short text or emoji, or nothing. */
export function iconFor(icon: string | null | undefined): string {
  if (!icon) return "•";
  return ICONS[icon] ?? (icon.length <= 2 ? icon : icon.slice(0, 1).toUpperCase());
}

/** The "+" buttons under a node: one per place a step can be added after it. */
function AddButtons({ from, title, slots, aside }: { from: string; title: string; slots: AddSlot[]; aside: boolean }) {
  const actions = useCanvasActions();
  if (!actions || slots.length === 0) return null;
  return (
    <div className={`wk-add-slots nodrag nopan${aside ? " aside" : ""}`}>
      {slots.map((slot) => (
        <button
          key={slot.edge ?? ""}
          type="button"
          className="wk-add-button nodrag nopan"
          aria-label={slot.edge ? `Add a step on the ${slot.edge} branch of ${title}` : `Add a step after ${title}`}
          title={slot.edge ? `Add a step on the ${slot.edge} branch` : "Add a step after this"}
          onClick={(event) => {
            event.stopPropagation();
            actions.requestAdd({ kind: "after", from, edge: slot.edge }, event.currentTarget);
          }}
        >
          +{slot.edge ? <span className="wk-add-branch">{slot.edge}</span> : null}
        </button>
      ))}
    </div>
  );
}

/** A node that failed to draw: its name and a warning, instead of a blank canvas. */
function BrokenNode({ title }: { title: string }) {
  return (
    <div className="wk-node has-problems" role="alert">
      <span className="wk-icon" aria-hidden="true">!</span>
      <div>
        <div className="wk-node-title">{title}</div>
        <div className="wk-node-kind">This step could not be drawn</div>
      </div>
    </div>
  );
}

export function TriggerNodeView({ data }: NodeProps<TriggerNode>) {
  const problems = data.problems.length;
  const [first = {}] = data.triggers;
  const several = data.triggers.length > 1;
  const scheduled = data.triggers.every((t) => triggerKind(t) === "cron");
  // several, as one sentence on two lines: "When app/order.created" / "or every day at 09:00 (UTC)" (their
  // conditions are in the panel)
  const plain = data.triggers.map((t) => ({ ...t, if: undefined }));
  const phrases = plain.map((t) => triggerPhrase(t));
  const sentence = several ? triggersSentence(plain) : undefined;
  const title = several ? triggersSentence(plain.slice(0, 1)) : scheduled ? triggerLabel(first) : `When ${triggerLabel(first)}`;
  const kind = several
    ? `or ${phrases.slice(1).join(", or ")}`
    : first.if ? `Only when ${data.summary ?? "a condition holds"}` : scheduled ? "Schedule" : "Trigger";
  return (
    <ErrorBoundary what="the trigger" fallback={() => <BrokenNode title="Trigger" />}>
      <div className={`wk-node trigger${problems ? " has-problems" : ""}`}>
        <span className="wk-icon" aria-hidden="true">{scheduled ? "◔" : "⚡"}</span>
        <div className="wk-node-text">
          <div className="wk-node-title">{title}</div>
          <div className="wk-node-kind" title={sentence}>{kind}</div>
        </div>
        {problems > 0 && <span className="wk-problem-count">{problems} ⚠</span>}
        <Handle type="source" id="next" position={Position.Bottom} aria-label="connect from the trigger" />
      </div>
      <AddButtons from={SOURCE} title="the trigger" slots={data.slots} aside={data.hasChildren} />
    </ErrorBoundary>
  );
}

/** A step's red "on failure" handle, on its right: a connection drawn from it runs its target only when
 * the step fails (after its retries). */
function FailureHandle({ title, editable, used }: { title: string; editable: boolean; used: boolean }) {
  return (
    <Handle
      type="source"
      id="failed"
      position={Position.Right}
      className={`wk-failure-handle${editable || used ? "" : " unused"}`}
      isConnectable={editable}
      aria-label={`connect from ${title} on failure`}
      title={editable ? "Drag from here to a step that runs if this one fails" : undefined}
    />
  );
}

/** The run status under a step's name: the words given (a handled failure, a loop's count) or the status. */
function StatusLine({ status, text }: { status: string; text?: string }) {
  return <span className={`wk-status${text ? " wk-status-words" : ""}`}>{text ?? status}</span>;
}

export function ActionNodeView({ data }: NodeProps<ActionNode>) {
  const { action, definition, problems, status, summary, slots } = data;
  const title = actionTitle(action, definition);
  const classes = ["wk-node", problems.length ? "has-problems" : "", status ? `status-${status}` : "", data.handled ? "status-handled" : ""].filter(Boolean).join(" ");
  // under the name: the run status, or what the step does, or its action's name when renamed
  const subtitle = status ? null : summary ?? (definition ? (action.name && action.name !== definition.name ? definition.name : null) : "Not available here");
  return (
    <ErrorBoundary what="this step" fallback={() => <BrokenNode title={title} />}>
      <div className={classes}>
        <Handle type="target" position={Position.Top} aria-label={`connect into ${title}`} />
        <span className="wk-icon" aria-hidden="true"><ActionIcon icon={definition?.icon} /></span>
        <div className="wk-node-text">
          <div className="wk-node-title">{title}</div>
          {(status || subtitle) && (
            <div className="wk-node-kind">{status ? <StatusLine status={status} text={data.statusText} /> : subtitle}</div>
          )}
        </div>
        {problems.length > 0 && (
          <span className="wk-problem-count" title={`${problems.length} problem${problems.length > 1 ? "s" : ""}`}>
            {problems.length} ⚠
          </span>
        )}
        <Handle type="source" id="next" position={Position.Bottom} aria-label={`connect from ${title}`} />
        <FailureHandle title={title} editable={!!data.editable} used={!!data.failureOut} />
      </div>
      <AddButtons from={action.id} title={title} slots={slots} aside={data.hasChildren} />
    </ErrorBoundary>
  );
}

/** A loop: a box holding the steps it repeats. Its header says what it goes through; the handle under
 * the header is where the steps inside start (with a "+" to add one there); the bottom handle leads on
 * once every item (or round) is done. */
export function LoopNodeView({ data }: NodeProps<LoopNode>) {
  const { action, definition, problems, status, summary, slots } = data;
  const actions = useCanvasActions();
  const title = actionTitle(action, definition);
  const empty = (action.body?.actions?.length ?? 0) === 0;
  const classes = ["wk-node", "wk-loop", problems.length ? "has-problems" : "", status ? `status-${status}` : "", data.handled ? "status-handled" : ""].filter(Boolean).join(" ");
  const each = action.kind === "builtin:for_each";
  return (
    <ErrorBoundary what="this loop" fallback={() => <BrokenNode title={title} />}>
      <div className={classes}>
        <Handle type="target" position={Position.Top} aria-label={`connect into ${title}`} />
        <div className="wk-loop-header" style={{ height: LOOP_HEADER }}>
          <span className="wk-icon" aria-hidden="true"><ActionIcon icon={definition?.icon} /></span>
          <div className="wk-node-text">
            <div className="wk-node-title">{title}</div>
            <div className="wk-node-kind">
              {status ? <StatusLine status={status} text={data.statusText} /> : summary ?? (each ? "Choose the list to go through" : "Choose when to stop")}
            </div>
          </div>
          {problems.length > 0 && (
            <span className="wk-problem-count" title={`${problems.length} problem${problems.length > 1 ? "s" : ""}`}>
              {problems.length} ⚠
            </span>
          )}
        </div>
        <Handle type="source" id="body" position={Position.Bottom} className="wk-body-handle" style={{ top: LOOP_HEADER }} aria-label={`connect from the start of ${title}`} />
        {actions && data.bodySlots.length > 0 && (
          <div className={`wk-loop-start nodrag nopan${data.bodyStarted ? " aside" : ""}`} style={{ top: LOOP_HEADER + 10 }}>
            <button
              type="button"
              className="wk-add-button nodrag nopan"
              aria-label={`Add a step inside ${title}`}
              title={each ? "Add a step to do for each item" : "Add a step to do in each round"}
              onClick={(event) => {
                event.stopPropagation();
                actions.requestAdd({ kind: "start", loop: action.id }, event.currentTarget);
              }}
            >
              +{empty ? <span className="wk-add-branch">{each ? "Add a step to do for each item" : "Add a step to repeat"}</span> : null}
            </button>
          </div>
        )}
        <Handle type="source" id="next" position={Position.Bottom} aria-label={`connect from ${title}`} />
        <FailureHandle title={title} editable={!!data.editable} used={!!data.failureOut} />
      </div>
      <AddButtons from={action.id} title={title} slots={slots} aside={data.hasChildren} />
    </ErrorBoundary>
  );
}

/** A connection: its line, its label, and (while editing) a "+" to put a step between its two ends. */
export function StepEdge(props: EdgeProps<FlowEdge>) {
  const { sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd, style, label, data } = props;
  const actions = useCanvasActions();
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const insertable = !!actions && !!data?.insertable;
  return (
    <>
      <BaseEdge id={props.id} path={path} markerEnd={markerEnd} style={style} />
      {(label || insertable) && (
        <EdgeLabelRenderer>
          <div className="wk-edge-tools nodrag nopan" style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}>
            {label && <span className={`wk-edge-label react-flow__edge-text${data?.failure ? " failure" : ""}`}>{label}</span>}
            {insertable && data && (
              <button
                type="button"
                className="wk-add-button small"
                aria-label={`Add a step between ${data.fromTitle} and ${data.toTitle}`}
                title="Add a step here"
                onClick={(event) => {
                  event.stopPropagation();
                  actions.requestAdd({ kind: "between", from: data.from, to: data.to }, event.currentTarget);
                }}
              >
                +
              </button>
            )}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const nodeTypes = { trigger: TriggerNodeView, action: ActionNodeView, loop: LoopNodeView };
export const edgeTypes = { step: StepEdge };
