// The server's messages about a condition. In expression mode a message with "line L, column C" also
// shows that line of the text with a caret under the column; in builder mode messages lose the
// expression and position (the builder shows no CEL).

import { errorPosition, withoutExpression } from "../conditions/problems";

export interface ConditionProblemsProps {
  id: string;
  /** The condition's name: the list is "Problems with <label>". */
  label: string;
  problems: readonly string[];
  /** The expression text (expression mode), or null (builder mode). */
  text: string | null;
}

/** The line at a 1-based position and a caret line under its column (tabs kept so it lines up). */
function pointer(text: string, line: number, column: number): string | null {
  const lines = text.split("\n");
  const source = lines[line - 1];
  if (source === undefined) return null;
  const before = source.slice(0, Math.min(column - 1, source.length));
  return `${source}\n${before.replace(/[^\t]/g, " ")}^`;
}

export function ConditionProblems({ id, label, problems, text }: ConditionProblemsProps) {
  if (!problems.length) return null;
  return (
    <ul id={id} className="wk-problems wk-cond-problems" aria-label={`Problems with ${label}`}>
      {problems.map((message, i) => {
        if (text === null) return <li key={i}>{withoutExpression(message)}</li>;
        const position = errorPosition(message);
        const shown = position && pointer(text, position.line, position.column);
        return (
          <li key={i}>
            {message}
            {shown && <pre className="wk-cond-pointer">{shown}</pre>}
          </li>
        );
      })}
    </ul>
  );
}
