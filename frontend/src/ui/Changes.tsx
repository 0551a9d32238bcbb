// What differs between two drafts, in words: steps, fields and connections added (+), removed (−) or
// changed (~). The version history and the review of a change asked for in words both show it.

import type { Change } from "../versions";

const MARK: Record<Change["kind"], string> = { added: "+", removed: "−", changed: "~" };

/** A list of changes in words (+ added, − removed, ~ changed); `label` names the list. */
export function Changes({ changes, label = "Changes in the draft", same = "The draft is the same as this version." }: { changes: Change[]; label?: string; same?: string }) {
  if (!changes.length) return <div className="wk-help">{same}</div>;
  return (
    <ul className="wk-diff" aria-label={label}>
      {changes.map((change, index) => (
        <li key={index} className={`wk-diff-${change.kind}`}>
          <span aria-hidden="true" className="wk-diff-mark">{MARK[change.kind]}</span> {change.text}
        </li>
      ))}
    </ul>
  );
}
