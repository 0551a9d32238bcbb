// The editor's toolbar: back to the list, the workflow's name, where the draft stands ("Published v4",
// "Draft, changed since v3"), its problems (a list that takes you to each), undo and redo, layout,
// save, publish and the enabled switch.

import { useEffect, useRef, useState } from "react";
import type { ProblemView } from "../../problemText";
import { happenedIn } from "../eventPath";
import type { DraftStatus } from "../../versions";

export interface EditorToolbarProps {
  name: string;
  onName: (name: string) => void;
  status: DraftStatus;
  dirty: boolean;
  problems: ProblemView[];
  /** The newest change is being checked: the count is not known yet. */
  checking: boolean;
  onProblem: (problem: ProblemView) => void;
  busy: boolean;
  enabled: boolean;
  canUndo: boolean;
  canRedo: boolean;
  onUndo: () => void;
  onRedo: () => void;
  onBack?: () => void;
  onLayout: () => void;
  onSave: () => void;
  onPublish: () => void;
  onToggleEnabled: () => void;
  /** Ask the AI model for a change (only when the host configured one). */
  onAskChange?: () => void;
}

const MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
const MOD = MAC ? "⌘" : "Ctrl+";

export function EditorToolbar(props: EditorToolbarProps) {
  const { problems } = props;
  const [open, setOpen] = useState(false);
  const list = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    list.current?.querySelector<HTMLElement>("button")?.focus();
    const outside = (event: MouseEvent) => {
      if (!happenedIn(event, list.current, button.current)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);
  const count = problems.length;
  const publishTitle = props.status.canPublish ? "Make this draft the version new runs use" : "Nothing to publish: the draft is the latest version";
  return (
    <div className="wk-toolbar" role="toolbar" aria-label="Workflow">
      {props.onBack && (
        <button type="button" className="wk-button" onClick={props.onBack}>← Workflows</button>
      )}
      <label className="wk-visually-hidden" htmlFor="wk-workflow-name">Workflow name</label>
      <input
        id="wk-workflow-name"
        className="wk-title"
        value={props.name}
        style={{ width: `${Math.min(48, Math.max(14, props.name.length + 2))}ch` }}
        title={props.name}
        onChange={(e) => props.onName(e.target.value)}
      />
      <span className={`wk-badge${props.status.canPublish ? " warn" : " ok"}`} data-testid="published" role="status">
        {props.status.text}
      </span>
      {props.dirty && <span className="wk-badge warn" role="status">Unsaved changes</span>}
      <span className="wk-problems-menu">
        <button
          ref={button}
          type="button"
          className={`wk-badge wk-badge-button ${count ? "danger" : "ok"}`}
          data-testid="problem-count"
          aria-haspopup="dialog"
          aria-expanded={open}
          aria-busy={props.checking}
          disabled={count === 0}
          onClick={() => setOpen(!open)}
        >
          {props.checking ? "Checking…" : count ? `${count} problem${count > 1 ? "s" : ""}` : "No problems"}
        </button>
        {open && count > 0 && (
          <div
            ref={list}
            className="wk-popover"
            role="dialog"
            aria-label="Problems"
            onKeyDown={(event) => {
              if (event.key === "Escape") {
                setOpen(false);
                button.current?.focus();
              }
            }}
          >
            <div className="wk-help">Choose a problem to go to it. You can save a draft with problems; publishing needs none.</div>
            <ul className="wk-list">
              {problems.map((view, index) => (
                <li key={`${view.problem.path}-${view.problem.code}-${index}`}>
                  <button
                    type="button"
                    className="wk-row wk-problem-row"
                    onClick={() => {
                      setOpen(false);
                      props.onProblem(view);
                    }}
                  >
                    <strong>{view.where}</strong>
                    <span>{view.text}</span>
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </span>
      <span className="wk-spacer" />
      <button type="button" className="wk-button wk-icon-button" onClick={props.onUndo} disabled={!props.canUndo} aria-label="Undo" title={`Undo (${MOD}Z)`}>
        ↶
      </button>
      <button type="button" className="wk-button wk-icon-button" onClick={props.onRedo} disabled={!props.canRedo} aria-label="Redo" title={`Redo (${MAC ? "⇧⌘Z" : "Ctrl+Shift+Z"})`}>
        ↷
      </button>
      {props.onAskChange && (
        <button type="button" className="wk-button" onClick={props.onAskChange} disabled={props.busy} title="Say in words what should change: review the change before it is made">
          Ask for a change
        </button>
      )}
      <button type="button" className="wk-button" onClick={props.onLayout} title="Arrange the steps neatly">Auto layout</button>
      <button type="button" className="wk-button" onClick={props.onSave} disabled={props.busy || !props.dirty} title={`Save the draft (${MOD}S)`}>
        Save
      </button>
      <button type="button" className="wk-button primary" onClick={props.onPublish} disabled={props.busy || !props.status.canPublish} title={publishTitle}>
        Publish
      </button>
      <button
        type="button"
        className={`wk-button wk-switch${props.enabled ? " on" : ""}`}
        role="switch"
        aria-checked={props.enabled}
        title={props.enabled ? "Enabled: matching events start runs" : "Disabled: nothing starts runs"}
        onClick={props.onToggleEnabled}
        disabled={props.busy}
      >
        <span className="wk-switch-track" aria-hidden="true"><span className="wk-switch-thumb" /></span>
        Enabled
      </button>
    </div>
  );
}
