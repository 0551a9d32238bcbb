import { useState } from "react";
import type { DataField, DataGroup } from "../dataFields";
import { nodeTitle, pathLabel, typeShort, type Catalog } from "../names";
import { problemView } from "../problemText";
import { findRefs, insertRef, isWholeRef } from "../refs";
import { scopeOf } from "../scopes";
import { FAILED, SOURCE, type Conditional, type Json, type Problem, type Workflow, type WorkflowEdge } from "../types";

export interface EdgePanelProps {
  edge: WorkflowEdge;
  workflow: Workflow;
  catalog: Catalog;
  problems: Problem[];
  /** The data the condition can test: the step it leaves first, then the trigger event and earlier steps. */
  groups: DataGroup[];
  onChange: (change: { name?: string | null; conditional?: Conditional | null }) => void;
  onDelete: () => void;
}

const COMPARISONS = [
  { type: "if", label: "is true (or has a value)" },
  { type: "else", label: "is false (or empty)" },
  { type: "match", label: "equals" },
];

/** What a typed value reads as for a field of `type`: numbers for numeric fields, true/false for yes/no,
 * otherwise the text as it is (JSON for anything else, when it parses). */
export function readValue(text: string, type: string): Json {
  const trimmed = text.trim();
  if ((type === "integer" || type === "number") && trimmed !== "" && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (type === "boolean" && (trimmed === "true" || trimmed === "false")) return trimmed === "true";
  if (type !== "string") {
    try {
      return JSON.parse(trimmed) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

function valueShown(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A connection: its label, and when to follow it: always, or when a piece of data is true, false or
 * equal to a value (the TypeScript kit's if / else / match conditions), chosen by name. */
export function EdgePanel({ edge, workflow, catalog, problems, groups, onChange, onDelete }: EdgePanelProps) {
  const conditional = edge.conditional;
  const type = conditional?.type ?? "";
  const refPath = conditional && isWholeRef(conditional.ref) ? findRefs(conditional.ref)[0]?.path : undefined;
  const fields: Array<{ group: DataGroup; field: DataField }> = groups.flatMap((group) => group.fields.map((field) => ({ group, field })));
  const chosen = fields.find((f) => f.field.path === refPath);
  const fieldType = chosen?.field.type ?? "any";
  const [valueText, setValueText] = useState(valueShown(conditional?.value));
  const loop = (scopeOf(workflow, edge.to) ?? []).slice(-1)[0];
  const from = edge.from === SOURCE && loop ? `the start of ${nodeTitle(loop, workflow, catalog)}` : nodeTitle(edge.from, workflow, catalog);
  const to = nodeTitle(edge.to, workflow, catalog);
  const setConditional = (next: Partial<Conditional> | null) => {
    if (next === null) onChange({ conditional: null });
    else onChange({ conditional: { type: "if", ref: insertRef(undefined, fields[0]?.field.path ?? "$.output"), ...(conditional ?? {}), ...next } as Conditional });
  };
  const views = problems.map((p) => problemView(p, workflow, catalog));
  const failure = type === FAILED;
  const follow = (
    <div className="wk-field">
      <label htmlFor="wk-edge-type">Follow this connection</label>
      <select
        id="wk-edge-type"
        value={failure ? FAILED : type ? "when" : ""}
        onChange={(e) => {
          if (e.target.value === FAILED) onChange({ conditional: { type: FAILED }, name: null });
          else if (e.target.value === "when") onChange({ conditional: { type: "if", ref: insertRef(undefined, fields[0]?.field.path ?? "$.output") } });
          else onChange({ conditional: null });
        }}
      >
        <option value="">Always</option>
        <option value="when">Only when…</option>
        {edge.from !== SOURCE && <option value={FAILED}>Only if {from} fails</option>}
      </select>
    </div>
  );
  if (failure) {
    return (
      <div aria-label={`Connection from ${from} to ${to}`}>
        <div className="wk-section">
          <h2>
            <span className="wk-failure-dot" aria-hidden="true" /> On failure
          </h2>
          <p className="wk-explain">
            {to} runs only if {from} fails, after its tries are used up. Then the steps that come after {from} do not run,
            and the run goes on: the failure is handled, and {to} can use the error as {from}'s result.
          </p>
          <p className="wk-help">If {from} succeeds, {to} does not run.</p>
        </div>
        {views.length > 0 && (
          <ul className="wk-problems">{views.map((v) => <li key={v.problem.path + v.problem.code}>{v.text}</li>)}</ul>
        )}
        {follow}
        <button type="button" className="wk-button danger" onClick={onDelete}>
          Delete this connection
        </button>
      </div>
    );
  }
  return (
    <div aria-label={`Connection from ${from} to ${to}`}>
      <div className="wk-section">
        <h2>Connection</h2>
        <div className="wk-help">
          From {from} to {to}
        </div>
      </div>
      {views.length > 0 && (
        <ul className="wk-problems">{views.map((v) => <li key={v.problem.path + v.problem.code}>{v.text}</li>)}</ul>
      )}
      <div className="wk-field">
        <label htmlFor="wk-edge-name">Label</label>
        <input id="wk-edge-name" value={edge.name ?? ""} placeholder="Shown on the canvas" onChange={(e) => onChange({ name: e.target.value || null })} />
      </div>
      {follow}
      {conditional && (
        <div className="wk-condition-row">
          <div className="wk-field">
            <label htmlFor="wk-edge-ref">Data</label>
            <select id="wk-edge-ref" value={refPath ?? (conditional.ref ? "__custom" : "")} onChange={(e) => e.target.value !== "__custom" && setConditional({ ref: insertRef(undefined, e.target.value) })}>
              {!chosen && conditional.ref && <option value="__custom">{refPath ? pathLabel(refPath, workflow, catalog, edge.from) : "Custom data"}</option>}
              {groups.map((group) => (
                <optgroup key={group.title} label={group.title}>
                  {group.fields.map((field) => (
                    <option key={field.path} value={field.path}>
                      {field.label} ({typeShort(field.type)})
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          </div>
          <div className="wk-field">
            <label htmlFor="wk-edge-comparison">Comparison</label>
            <select
              id="wk-edge-comparison"
              value={COMPARISONS.some((c) => c.type === type) ? type : "if"}
              onChange={(e) => setConditional(e.target.value === "match" ? { type: "match", value: readValue(valueText, fieldType) } : { type: e.target.value, value: undefined })}
            >
              {COMPARISONS.map((c) => <option key={c.type} value={c.type}>{c.label}</option>)}
            </select>
          </div>
          {type === "match" && (
            <div className="wk-field">
              <label htmlFor="wk-edge-value">Value</label>
              {fieldType === "boolean" ? (
                <select id="wk-edge-value" value={valueShown(conditional.value)} onChange={(e) => setConditional({ value: e.target.value === "true" })}>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : (
                <input
                  id="wk-edge-value"
                  type={fieldType === "integer" || fieldType === "number" ? "number" : "text"}
                  value={valueText}
                  onChange={(e) => {
                    setValueText(e.target.value);
                    setConditional({ value: readValue(e.target.value, fieldType) });
                  }}
                />
              )}
            </div>
          )}
        </div>
      )}
      <button type="button" className="wk-button danger" onClick={onDelete}>
        Delete this connection
      </button>
    </div>
  );
}
