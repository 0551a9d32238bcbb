// The canvas's nodes. Their accessible names sit on React Flow's focusable wrapper (flow.ts sets
// `ariaLabel`), so a screen reader names the node it tabs to.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { triggerKind, triggerLabel } from "../cron";
import type { ActionNode, TriggerNode } from "../flow";

// Glyphs every system font has (headless browsers and servers often lack emoji fonts).
const ICONS: Record<string, string> = {
  split: "◇", clock: "◔", calendar: "▦", hourglass: "◷", send: "✉", workflow: "⇄", plus: "+",
  list: "☰", "spell-check": "✓", check: "✓", save: "▣", repeat: "↻", mail: "✉", email: "✉",
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

export function TriggerNodeView({ data }: NodeProps<TriggerNode>) {
  const problems = data.problems.length;
  const scheduled = triggerKind(data.trigger) === "cron";
  return (
    <div className={`wk-node trigger${problems ? " has-problems" : ""}`}>
      <span className="wk-icon" aria-hidden="true">{scheduled ? "◔" : "⚡"}</span>
      <div>
        <div className="wk-node-title">{scheduled ? triggerLabel(data.trigger) : `When ${triggerLabel(data.trigger)}`}</div>
        <div className="wk-node-kind">{data.trigger.if ? `if ${data.trigger.if}` : scheduled ? "Schedule" : "Trigger"}</div>
      </div>
      {problems > 0 && <span className="wk-problem-count">{problems} ⚠</span>}
      <Handle type="source" position={Position.Bottom} aria-label="connect from the trigger" />
    </div>
  );
}

export function ActionNodeView({ data }: NodeProps<ActionNode>) {
  const { action, definition, problems, status } = data;
  const title = action.name || definition?.name || action.kind;
  const classes = ["wk-node", problems.length ? "has-problems" : "", status ? `status-${status}` : ""].filter(Boolean).join(" ");
  return (
    <div className={classes} data-testid={`node-${action.id}`}>
      <Handle type="target" position={Position.Top} aria-label={`connect into ${title}`} />
      <span className="wk-icon" aria-hidden="true"><ActionIcon icon={definition?.icon} /></span>
      <div>
        <div className="wk-node-title">{title}</div>
        <div className="wk-node-kind">
          {status ? <span className="wk-status">{status}</span> : definition ? action.kind : `unknown kind ${action.kind}`}
        </div>
      </div>
      {problems.length > 0 && (
        <span className="wk-problem-count" title={problems.map((p) => p.message).join("\n")}>
          {problems.length} ⚠
        </span>
      )}
      <Handle type="source" position={Position.Bottom} aria-label={`connect from ${title}`} />
    </div>
  );
}

export const nodeTypes = { trigger: TriggerNodeView, action: ActionNodeView };
