// "Use data from…": the trigger event's fields and earlier steps' outputs, by name, with their type in
// words and a sample value when one is known. Picking one hands the field to the caller, which inserts
// what the input takes (a reference, or a path in a condition).

import { useEffect, useRef, useState } from "react";
import type { DataField, DataGroup } from "../dataFields";
import { typeShort } from "../names";

export interface RefPickerProps {
  /** The field it fills: "Post id". */
  label: string;
  groups: DataGroup[];
  onPick: (field: DataField, group: DataGroup) => void;
  onClose: () => void;
  /** Only fields a condition can read (those with a CEL path). */
  forCondition?: boolean;
}

function sampleText(value: unknown): string | null {
  if (value === undefined) return null;
  const text = typeof value === "string" ? `“${value}”` : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

export function RefPicker({ label, groups, onPick, onClose, forCondition }: RefPickerProps) {
  const [filter, setFilter] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const needle = filter.trim().toLowerCase();
  return (
    <div
      className="wk-picker"
      role="dialog"
      aria-label={`Use data in ${label}`}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <input ref={input} type="search" aria-label="Search data" placeholder="Search data…" value={filter} onChange={(e) => setFilter(e.target.value)} />
      {groups.map((group) => {
        const shown = group.fields.filter(
          (f) => (!forCondition || f.cel) && (!needle || f.label.toLowerCase().includes(needle) || group.title.toLowerCase().includes(needle)),
        );
        if (!shown.length && !group.hint) return null;
        return (
          <div key={group.title} role="group" aria-label={group.title}>
            <h4>{group.title}</h4>
            {group.hint && <div className="wk-help">{group.hint}</div>}
            {shown.map((field) => {
              const sample = sampleText(field.sample);
              return (
                <button
                  type="button"
                  key={field.path}
                  className="wk-target"
                  data-path={field.path}
                  onClick={() => onPick(field, group)}
                  aria-label={`${field.label} (${typeShort(field.type)})${sample ? `, for example ${sample}` : ""}`}
                >
                  <span className="wk-target-name">{field.label}</span>
                  {sample && <span className="wk-target-sample">{sample}</span>}
                  <span className="wk-type">{typeShort(field.type)}</span>
                </button>
              );
            })}
          </div>
        );
      })}
      <button type="button" className="wk-link" onClick={onClose}>Close</button>
    </div>
  );
}
