import { useState } from "react";
import type { Conditional, Json, Problem, WorkflowEdge } from "../types";
import { insertRef } from "../refs";
import { RefPicker, type RefGroup } from "./RefPicker";

export interface EdgePanelProps {
  edge: WorkflowEdge;
  problems: Problem[];
  refGroups: RefGroup[];
  onChange: (change: { name?: string | null; conditional?: Conditional | null }) => void;
  onDelete: () => void;
}

export function EdgePanel({ edge, problems, refGroups, onChange, onDelete }: EdgePanelProps) {
  const [picking, setPicking] = useState(false);
  const conditional = edge.conditional;
  const [valueText, setValueText] = useState(JSON.stringify(conditional?.value ?? null));
  const [valueError, setValueError] = useState<string | null>(null);
  const type = conditional?.type ?? "";
  const setConditional = (next: Partial<Conditional> | null) => {
    if (next === null) onChange({ conditional: null });
    else onChange({ conditional: { type: "if", ref: "!ref($.output)", ...(conditional ?? {}), ...next } as Conditional });
  };
  return (
    <div aria-label={`Connection from ${edge.from} to ${edge.to}`}>
      <div className="wk-section">
        <h2>Connection</h2>
        <div className="wk-help">
          {edge.from === "$source" ? "the trigger" : edge.from} → {edge.to}
        </div>
      </div>
      {problems.length > 0 && (
        <ul className="wk-problems">{problems.map((p) => <li key={p.path + p.message}>{p.message}</li>)}</ul>
      )}
      <div className="wk-field">
        <label htmlFor="wk-edge-name">Label</label>
        <input id="wk-edge-name" value={edge.name ?? ""} onChange={(e) => onChange({ name: e.target.value || null })} />
      </div>
      <div className="wk-field">
        <label htmlFor="wk-edge-type">Follow this connection</label>
        <select
          id="wk-edge-type"
          value={type}
          onChange={(e) => setConditional(e.target.value ? { type: e.target.value } : null)}
        >
          <option value="">always</option>
          <option value="if">if the value is truthy</option>
          <option value="else">if the value is falsy</option>
          <option value="match">if the value equals…</option>
        </select>
      </div>
      {conditional && (
        <>
          <div className="wk-field">
            <label htmlFor="wk-edge-ref">Value (a reference)</label>
            <div className="wk-input-row">
              <input id="wk-edge-ref" className="mono" value={conditional.ref} onChange={(e) => setConditional({ ref: e.target.value })} />
              <button type="button" className="wk-button wk-ref-button" onClick={() => setPicking(!picking)} aria-expanded={picking}>
                + ref
              </button>
            </div>
            {picking && (
              <RefPicker
                label="the condition"
                groups={refGroups}
                onPick={(path) => {
                  setConditional({ ref: insertRef("", path) });
                  setPicking(false);
                }}
                onClose={() => setPicking(false)}
              />
            )}
          </div>
          {type === "match" && (
            <div className="wk-field">
              <label htmlFor="wk-edge-value">Equals (JSON, e.g. 42 or "pro")</label>
              <input
                id="wk-edge-value"
                className="mono"
                value={valueText}
                onChange={(e) => {
                  setValueText(e.target.value);
                  try {
                    setConditional({ value: JSON.parse(e.target.value) as Json });
                    setValueError(null);
                  } catch {
                    setValueError("not JSON yet: text needs quotes, e.g. \"pro\"");
                  }
                }}
              />
              {valueError && <div className="wk-problems">{valueError}</div>}
            </div>
          )}
        </>
      )}
      <button type="button" className="wk-button danger" onClick={onDelete}>
        Delete this connection
      </button>
    </div>
  );
}
