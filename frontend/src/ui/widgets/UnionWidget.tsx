import type { WidgetProps } from "@rjsf/utils";
import { useState } from "react";
import { readUnion, unionHint } from "./union";

/** A choice of plain values as one text box (see union.ts). */
export function UnionWidget({ id, value, onChange, schema, required, disabled, readonly, onBlur, onFocus }: WidgetProps) {
  const types = Array.isArray(schema["x-union"]) ? (schema["x-union"] as string[]) : ["string"];
  const shown = value === undefined || value === null ? "" : String(value);
  // what was typed, kept while it reads as the same value (so "1.50" is not rewritten to "1.5")
  const [text, setText] = useState(shown);
  const current = readUnion(text, types) === value || (text === "" && (value === undefined || value === null)) ? text : shown;
  return (
    <input
      id={id}
      className="wk-input"
      value={current}
      required={required}
      disabled={disabled || readonly}
      placeholder={unionHint(types)}
      aria-description={`Takes ${unionHint(types)}`}
      onChange={(event) => {
        setText(event.target.value);
        onChange(readUnion(event.target.value, types));
      }}
      onBlur={() => onBlur(id, value)}
      onFocus={() => onFocus(id, value)}
    />
  );
}
