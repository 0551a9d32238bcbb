// A condition (CEL) edited as rows of plain choices, so end users never write CEL; or, for CEL the
// builder cannot show, as an expression.
//
// Incomplete rows (no field picked yet, a value box still empty) live only in this component's state:
// each change writes `toCel` of the complete rows, so the CEL it writes always reads back with
// `fromCel`. A value from outside (another step, undo) replaces the rows; the value this component
// wrote itself, coming back, does not, so the incomplete rows stay while the user works.

import { useRef, useState } from "react";
import { fromCel, toCel } from "../conditions/cel";
import { conditionOf, draftFromRow, EMPTY_VALUE, type DraftRow } from "../conditions/drafts";
import { fieldFor, type ConditionField, type Join } from "../conditions/model";
import { ConditionProblems } from "./ConditionProblems";
import { ConditionRow } from "./ConditionRow";
import { RefPicker } from "./RefPicker";
import type { DataGroup } from "../dataFields";

export { FieldSelect, ValueInput, type FieldSelectProps, type ValueInputProps } from "./conditionControls";

export interface ConditionBuilderProps {
  /** Unique prefix for element ids. */
  id: string;
  /** The accessible name of the group, e.g. "Condition". */
  label: string;
  /** The CEL text; "" means no condition. */
  value: string;
  /** What rows can test (grouped by `group` in the field picker). */
  fields: ConditionField[];
  /** The server's messages for this value. */
  problems: string[];
  onChange: (cel: string) => void;
  /** What an empty condition means, e.g. "Always". */
  emptyText?: string;
}

type Focus = number | "expression" | "toggle" | null;

interface State {
  /** The last `value` rendered. */
  seen: string;
  /** The last CEL written (or the value read). */
  written: string;
  mode: "builder" | "expression";
  join: Join;
  rows: DraftRow[];
  /** The expression mode's text. */
  text: string;
  nextKey: number;
  /** What to focus when it appears: a new row (by key), the text area, the "Edit as expression" button. */
  focus: Focus;
}

const UNREADABLE = "Written as an expression: the builder cannot show it.";

function stateFor(value: string, fields: readonly ConditionField[], focus: Focus = null): State {
  const condition = fromCel(value, fields);
  const rows = condition ? condition.rows.map((row, key) => draftFromRow(row, key, fields)) : [];
  return {
    seen: value,
    written: value,
    mode: condition ? "builder" : "expression",
    join: condition?.join ?? "all",
    rows,
    text: value,
    nextKey: rows.length,
    focus,
  };
}

/** The fields as the data picker lists them (in expression mode, "Insert data" adds a field's path). */
function groupsOf(fields: readonly ConditionField[]): DataGroup[] {
  const groups: DataGroup[] = [];
  for (const field of fields) {
    let group = groups.find((g) => g.title === field.group);
    if (!group) groups.push((group = { title: field.group, fields: [] }));
    group.fields.push({ path: field.cel, cel: field.cel, label: field.label, type: field.type === "datetime" ? "string" : field.type, sample: field.sample as never });
  }
  return groups;
}

/** The fields rows can pick, with any field the rows use that `fields` does not list. */
function fieldsWithRows(fields: readonly ConditionField[], rows: readonly DraftRow[]): ConditionField[] {
  const used = rows.flatMap((row) => [row.field, row.compare === "field" ? row.other : ""]).filter(Boolean);
  const extra = used.map((cel) => fieldFor(cel, fields)).filter((f) => !fields.includes(f));
  const unique = extra.filter((f, i) => extra.findIndex((g) => g.cel === f.cel) === i);
  return [...fields, ...unique];
}

export function ConditionBuilder({ id, label, value, fields, problems, onChange, emptyText }: ConditionBuilderProps) {
  const [stored, setStored] = useState(() => stateFor(value, fields));
  const [picking, setPicking] = useState(false);
  const addButton = useRef<HTMLButtonElement>(null);

  // A new value from outside replaces the rows (derived during render, not in an effect).
  let state = stored;
  if (value !== stored.seen) {
    state = value === stored.written ? { ...stored, seen: value } : stateFor(value, fields);
    setStored(state);
  }

  /** Keep a new state and write its CEL if that changed. */
  function update(next: State) {
    const cel = next.mode === "builder" ? toCel(conditionOf(next.join, next.rows)) : next.text;
    setStored({ ...next, written: cel });
    if (cel !== next.written) onChange(cel);
  }

  const setRow = (key: number, row: DraftRow) =>
    update({ ...state, rows: state.rows.map((r) => (r.key === key ? row : r)), focus: null });
  const addRow = () => {
    const row: DraftRow = { key: state.nextKey, field: "", op: null, compare: "value", value: EMPTY_VALUE, other: "" };
    update({ ...state, rows: [...state.rows, row], nextKey: state.nextKey + 1, focus: row.key });
  };
  const removeRow = (key: number) => {
    update({ ...state, rows: state.rows.filter((r) => r.key !== key), focus: null });
    addButton.current?.focus();
  };
  const toExpression = () => update({ ...state, mode: "expression", text: state.written, focus: "expression" });
  const toBuilder = () => update({ ...stateFor(state.text, fields, "toggle"), seen: state.seen, written: state.written });

  const labelId = `${id}-label`;
  const problemsId = `${id}-problems`;

  if (state.mode === "expression") {
    const readable = fromCel(state.text, fields) !== null;
    return (
      <fieldset className="wk-field wk-cond">
        <legend id={labelId}>{label}</legend>
        <textarea
          id={`${id}-expression`}
          className="mono wk-cond-expression"
          aria-labelledby={labelId}
          aria-invalid={problems.length > 0 || undefined}
          aria-describedby={problems.length ? problemsId : undefined}
          rows={3}
          spellCheck={false}
          autoFocus={state.focus === "expression"}
          value={state.text}
          onChange={(e) => update({ ...state, text: e.target.value, focus: null })}
        />
        <button type="button" className="wk-link wk-insert" aria-label={`Insert data into ${label}`} onClick={() => setPicking(!picking)}>
          + Insert data
        </button>
        {picking && (
          <RefPicker
            label={label}
            groups={groupsOf(fields)}
            forCondition
            onPick={(field) => {
              const text = state.text.trim() ? `${state.text.replace(/\s+$/, "")} ${field.cel}` : (field.cel ?? "");
              update({ ...state, text, focus: "expression" });
              setPicking(false);
            }}
            onClose={() => setPicking(false)}
          />
        )}
        <ConditionProblems id={problemsId} label={label} problems={problems} text={state.text} />
        {!readable && (
          <div id={`${id}-unreadable`} className="wk-help">
            {UNREADABLE}
          </div>
        )}
        <div className="wk-cond-actions">
          <button
            type="button"
            className="wk-button"
            disabled={!readable}
            title={readable ? "Edit this condition as rows of choices" : "The builder cannot show this expression"}
            aria-describedby={readable ? undefined : `${id}-unreadable`}
            onClick={toBuilder}
          >
            Use the builder
          </button>
        </div>
      </fieldset>
    );
  }

  const choices = fieldsWithRows(fields, state.rows);
  return (
    <fieldset className="wk-field wk-cond">
      <legend id={labelId}>{label}</legend>
      {state.rows.length === 0 && emptyText && <div className="wk-help wk-cond-empty">{emptyText}</div>}
      {state.rows.length >= 2 && (
        <div className="wk-cond-join">
          <label htmlFor={`${id}-join`}>Match</label>
          <select
            id={`${id}-join`}
            value={state.join}
            onChange={(e) => update({ ...state, join: e.target.value === "any" ? "any" : "all", focus: null })}
          >
            <option value="all">all of these</option>
            <option value="any">any of these</option>
          </select>
        </div>
      )}
      {state.rows.map((row, index) => (
        <div key={row.key}>
          {index > 0 && <div className="wk-cond-joiner">{state.join === "all" ? "and" : "or"}</div>}
          <ConditionRow
            id={`${id}-${row.key}`}
            index={index}
            draft={row}
            fields={choices}
            autoFocus={state.focus === row.key}
            onChange={(next) => setRow(row.key, next)}
            onRemove={() => removeRow(row.key)}
          />
        </div>
      ))}
      <ConditionProblems id={problemsId} label={label} problems={problems} text={null} />
      <div className="wk-cond-actions">
        <button ref={addButton} type="button" className="wk-button" onClick={addRow}>
          Add a condition
        </button>
        <button type="button" className="wk-link" autoFocus={state.focus === "toggle"} onClick={toExpression}>
          Edit as expression
        </button>
      </div>
    </fieldset>
  );
}
