// Controls of the condition builder that other panels can reuse: a field picker grouped by where the
// values come from, and a value box for a type. Labels are people's words; the CEL paths stay in
// option values, never in visible text.

import { fieldFor, typeInWords, type ConditionField, type FieldType } from "../conditions/model";
import { valueDraft, type ValueDraft } from "../conditions/drafts";

export interface FieldSelectProps {
  id: string;
  /** The accessible name (e.g. "Field", "Field of condition 2"). */
  label: string;
  fields: readonly ConditionField[];
  /** The picked field's CEL path; "" for none yet. */
  value: string;
  onChange: (cel: string) => void;
  placeholder?: string;
  autoFocus?: boolean;
  /** Which of `fields` to offer (all by default); the others still tell same-named fields apart. */
  include?: (field: ConditionField) => boolean;
}

/** Fields by group, in the order groups first appear; a value not among `fields` is shown too. */
function grouped(fields: readonly ConditionField[], value: string): Array<[string, ConditionField[]]> {
  const all = value && !fields.some((f) => f.cel === value) ? [...fields, fieldFor(value, fields)] : fields;
  const groups = new Map<string, ConditionField[]>();
  for (const field of all) groups.set(field.group, [...(groups.get(field.group) ?? []), field]);
  return [...groups];
}

/** "Title"; "Id (Awaited event)" where another field has the same label. The option's title tells its
 * type ("text"), the comparisons offered follow from it. */
function optionText(field: ConditionField, fields: readonly ConditionField[]): string {
  const twins = fields.filter((f) => f.label === field.label && f.cel !== field.cel);
  return twins.length > 0 ? `${field.label} (${field.group})` : field.label;
}

export function FieldSelect({ id, label, fields, value, onChange, placeholder = "Choose a value…", autoFocus, include }: FieldSelectProps) {
  const groups = grouped(include ? fields.filter((f) => f.cel === value || include(f)) : fields, value);
  return (
    <select id={id} aria-label={label} value={value} autoFocus={autoFocus} onChange={(e) => onChange(e.target.value)}>
      {!value && (
        <option value="" disabled>
          {placeholder}
        </option>
      )}
      {groups.map(([group, members]) => (
        <optgroup key={group} label={group}>
          {members.map((field) => (
            <option key={field.cel} value={field.cel} title={typeInWords(field.type)}>
              {optionText(field, fields)}
            </option>
          ))}
        </optgroup>
      ))}
    </select>
  );
}

export interface ValueInputProps {
  id: string;
  /** The accessible name (e.g. "Value", "Value of condition 2"). */
  label: string;
  /** The type of one value. */
  type: FieldType;
  value: ValueDraft;
  onChange: (value: ValueDraft) => void;
  /** A comma-separated list of values ("is one of"). */
  list?: boolean;
}

const HINTS: Partial<Record<FieldType, string>> = {
  any: "Text, a number, true or false.",
  object: 'For example {"name": "Ann"}.',
  array: 'For example ["a", "b"].',
  datetime: "In your time zone.",
};

/** A box for one value (or a comma-separated list) of a type; `value.literal` is what it means,
 * undefined while it means nothing usable. Yes/no is a choice, a date-time a local date and time. */
export function ValueInput({ id, label, type, value, onChange, list = false }: ValueInputProps) {
  const kind = { type, list };
  const change = (text: string) => onChange(valueDraft(kind, text));
  const hint = list ? "Separate values with commas." : HINTS[type];
  const hintId = `${id}-hint`;
  const described = hint ? hintId : undefined;
  let control;
  if (type === "boolean" && !list) {
    control = (
      <select id={id} aria-label={label} value={value.text} onChange={(e) => change(e.target.value)}>
        <option value="" disabled>
          Choose…
        </option>
        <option value="true">yes</option>
        <option value="false">no</option>
      </select>
    );
  } else if ((type === "number" || type === "integer") && !list) {
    control = (
      <input
        id={id}
        aria-label={label}
        type="number"
        step={type === "integer" ? 1 : "any"}
        value={value.text}
        aria-describedby={described}
        onChange={(e) => change(e.target.value)}
      />
    );
  } else if (type === "datetime" && !list) {
    control = (
      <input
        id={id}
        aria-label={label}
        type="datetime-local"
        step={1}
        value={value.text}
        aria-describedby={described}
        onChange={(e) => change(e.target.value)}
      />
    );
  } else {
    control = <input id={id} aria-label={label} type="text" value={value.text} aria-describedby={described} onChange={(e) => change(e.target.value)} />;
  }
  return (
    <div className="wk-cond-value">
      {control}
      {hint && (
        <div id={hintId} className="wk-help">
          {hint}
        </div>
      )}
    </div>
  );
}
