import { json, jsonParseLinter } from "@codemirror/lang-json";
import { linter, lintGutter } from "@codemirror/lint";
import { EditorView } from "@codemirror/view";
import type { FieldProps } from "@rjsf/utils";
import CodeMirror from "@uiw/react-codemirror";
import { useMemo, useState } from "react";
import { sameJson } from "../../document";
import { jsonText, readJson } from "./jsonText";

/** A free-form object or list typed as JSON, in CodeMirror with syntax checking as you type. What is
 * not valid JSON yet stays in the box (and is not written to the workflow) until it is. */
export function JsonField({ formData, onChange, schema, fieldPathId, disabled, readonly }: FieldProps) {
  const [text, setText] = useState(() => jsonText(formData));
  const [shownFor, setShownFor] = useState<unknown>(formData);
  // the value changed from outside (undo, a version restored): show it
  if (!sameJson(shownFor, formData) && !sameJson(readJson(text, schema.type).value, formData)) {
    setShownFor(formData);
    setText(jsonText(formData));
  }
  const { error } = readJson(text, schema.type);
  const id = fieldPathId.$id;
  const label = `${typeof schema.title === "string" ? schema.title : "Value"} (JSON)`;
  const extensions = useMemo(
    () => [json(), linter(jsonParseLinter()), lintGutter(), EditorView.lineWrapping, EditorView.contentAttributes.of({ "aria-label": label, id: `${id}-json` })],
    [label, id],
  );
  return (
    <div className="wk-json" data-invalid={error ? "true" : undefined}>
      <CodeMirror
        id={id}
        value={text}
        height="auto"
        minHeight="60px"
        maxHeight="240px"
        basicSetup={{ lineNumbers: false, foldGutter: false, highlightActiveLine: false }}
        extensions={extensions}
        editable={!disabled && !readonly}
        placeholder={schema.type === "array" ? '["a", "b"]' : '{"key": "value"}'}
        onChange={(next) => {
          setText(next);
          const read = readJson(next, schema.type);
          if (!read.error) {
            setShownFor(read.value);
            onChange(read.value, fieldPathId.path);
          }
        }}
      />
      {error && <div className="wk-problems" role="status">{error}</div>}
    </div>
  );
}
