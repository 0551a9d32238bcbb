// The walk through the inputs a template left to fill: one at a time, the step and the field named as
// the user sees them, the template's question, and the field opened beside it in the step's panel.

import { blanksHeading, type Blank } from "../../blanks";
import { actionTitle, SEPARATOR, type Catalog } from "../../names";
import { fieldTitle } from "../../problemText";
import { findAction } from "../../scopes";
import type { Workflow } from "../../types";

export interface BlanksGuideProps {
  /** The blanks the walk goes through, in order (those open when it started). */
  blanks: Blank[];
  index: number;
  /** The blanks still empty now. */
  open: Blank[];
  workflow: Workflow;
  catalog: Catalog;
  onIndex: (index: number) => void;
  onClose: () => void;
}

export function blankPlace(blank: Blank, workflow: Workflow, catalog: Catalog): string {
  const action = findAction(workflow, blank.actionId);
  const definition = action ? catalog.get(action.kind) : undefined;
  const step = action ? actionTitle(action, definition) : "A removed step";
  return `${step}${SEPARATOR}${fieldTitle(definition, [blank.input])}`;
}

export function BlanksGuide({ blanks, index, open, workflow, catalog, onIndex, onClose }: BlanksGuideProps) {
  const current = blanks[Math.min(index, blanks.length - 1)];
  if (!current) return null;
  const isOpen = (blank: Blank) => open.some((b) => b.actionId === blank.actionId && b.input === blank.input);
  const last = index >= blanks.length - 1;
  return (
    <section className="wk-banner info wk-blanks" aria-label="Fill in the blanks">
      <strong>{open.length ? blanksHeading(open.length) : "All filled in: save when you are ready."}</strong>
      <span>
        {index + 1} of {blanks.length}: <strong>{blankPlace(current, workflow, catalog)}</strong> · {current.question}
        {!isOpen(current) && <span aria-label="filled in"> ✓</span>}
      </span>
      <span className="wk-spacer" />
      <button type="button" className="wk-button" disabled={index === 0} onClick={() => onIndex(index - 1)}>Back</button>
      {last ? (
        <button type="button" className="wk-button primary" onClick={onClose}>Done</button>
      ) : (
        <button type="button" className="wk-button primary" onClick={() => onIndex(index + 1)}>Next</button>
      )}
    </section>
  );
}
