// One row of the condition builder: Field, Comparison and Value (a fixed value or another field).
// The first row's controls are named "Field", "Comparison operator", "Value" and "Compare with"; row
// N's "Field of condition N", "Comparison operator of condition N", "Value of condition N", "Compare
// condition N with".

import { OPERATORS, effectiveType, fieldFor, type ConditionField, type FieldType, type OperatorId } from "../conditions/model";
import { operatorChoices, rowFromDraft, valueKindFor, withField, withOperator, type DraftRow } from "../conditions/drafts";
import { FieldSelect, ValueInput } from "./conditionControls";

export interface ConditionRowProps {
  id: string;
  /** 0-based position. */
  index: number;
  draft: DraftRow;
  fields: readonly ConditionField[];
  onChange: (draft: DraftRow) => void;
  onRemove: () => void;
  autoFocus?: boolean;
}

function names(index: number) {
  if (index === 0) return { field: "Field", comparison: "Comparison operator", value: "Value", compare: "Compare with" };
  const n = index + 1;
  return {
    field: `Field of condition ${n}`,
    comparison: `Comparison operator of condition ${n}`,
    value: `Value of condition ${n}`,
    compare: `Compare condition ${n} with`,
  };
}

const NUMERIC: FieldType[] = ["number", "integer"];

/** Whether a field can stand on the other side of a comparison on a value of `type`. */
function comparable(type: FieldType, op: OperatorId, other: ConditionField): boolean {
  if (other.type === "any") return true;
  if (op === "includes" || op === "excludes") return other.type !== "array" && other.type !== "object";
  if (type === "any") return true;
  return other.type === type || (NUMERIC.includes(type) && NUMERIC.includes(other.type));
}

function hint(draft: DraftRow): string {
  if (!draft.field) return "Choose what this condition tests.";
  if (draft.compare === "field" && !draft.other) return "Choose the field to compare with.";
  return "Enter a value: until then this condition is not used.";
}

export function ConditionRow({ id, index, draft, fields, onChange, onRemove, autoFocus }: ConditionRowProps) {
  const label = names(index);
  const field = draft.field ? fieldFor(draft.field, fields) : null;
  const def = draft.op ? OPERATORS[draft.op] : null;
  const takesValue = field !== null && def !== null && def.operand !== "none";
  const offered = (other: ConditionField) =>
    field !== null && draft.op !== null && other.cel !== field.cel && comparable(effectiveType(field, draft.op), draft.op, other);
  return (
    <div className="wk-cond-row" role="group" aria-label={`Condition ${index + 1}`}>
      <div className="wk-cond-line">
        <FieldSelect
          id={`${id}-field`}
          label={label.field}
          fields={fields}
          value={draft.field}
          autoFocus={autoFocus}
          onChange={(cel) => onChange(withField(draft, cel, fields))}
        />
        <button type="button" className="wk-button wk-cond-remove" aria-label={`Remove condition ${index + 1}`} title="Remove this condition" onClick={onRemove}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {field && (
        <select
          id={`${id}-op`}
          aria-label={label.comparison}
          value={draft.op ?? ""}
          onChange={(e) => onChange(withOperator(draft, e.target.value as OperatorId, fields))}
        >
          {operatorChoices(field, draft.op).map((op) => (
            <option key={op} value={op}>
              {OPERATORS[op].label}
            </option>
          ))}
        </select>
      )}
      {takesValue && draft.op && (
        <div className="wk-cond-line">
          {def.acceptsField && (
            <select
              id={`${id}-compare`}
              className="wk-cond-compare"
              aria-label={label.compare}
              value={draft.compare}
              onChange={(e) => onChange({ ...draft, compare: e.target.value === "field" ? "field" : "value" })}
            >
              <option value="value">a fixed value</option>
              <option value="field">another field</option>
            </select>
          )}
          {draft.compare === "field" && def.acceptsField ? (
            <FieldSelect
              id={`${id}-other`}
              label={label.value}
              fields={fields}
              include={offered}
              value={draft.other}
              placeholder="Choose a field…"
              onChange={(cel) => onChange({ ...draft, other: cel })}
            />
          ) : (
            <ValueInput
              id={`${id}-value`}
              label={label.value}
              {...valueKindFor(field, draft.op, draft.value.literal)}
              value={draft.value}
              onChange={(value) => onChange({ ...draft, value })}
            />
          )}
        </div>
      )}
      {!rowFromDraft(draft) && <div className="wk-help">{hint(draft)}</div>}
    </div>
  );
}
