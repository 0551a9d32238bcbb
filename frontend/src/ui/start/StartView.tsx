// Where a new workflow starts: from scratch (a name and what starts it), described in words for the AI
// model to draft (only when the host configured one), or from a template of the gallery. A template or
// an accepted draft opens in the editor unsaved: nothing is stored before the user saves.

import { useEffect, useId, useRef, useState } from "react";
import type { Api } from "../../api";
import type { Catalog } from "../../names";
import type { DraftProposal, TemplateDef, Trigger } from "../../types";
import type { NewWorkflow } from "../editor/useEditorCommands";
import { DescribeForm } from "./DescribeForm";
import { DraftReview, proposalDocument } from "./DraftReview";
import { ScratchForm } from "./ScratchForm";
import { TemplateGallery } from "./TemplateGallery";

export interface StartViewProps {
  api: Api;
  catalog: Catalog;
  /** Drafting from words is available (the host configured an AI model). */
  assistant: boolean;
  /** From scratch: the workflow is created, empty, and opened. */
  onScratch: (name: string, trigger: Trigger) => Promise<void>;
  /** From a template or an accepted draft: opened in the editor, not stored yet. */
  onStart: (start: NewWorkflow) => void;
}

/** A template as a new workflow's first draft (its blanks still to fill). */
export function fromTemplate(template: TemplateDef): NewWorkflow {
  return {
    document: { name: template.name, triggers: [template.trigger], workflow: { ...template.workflow, name: template.name }, settings: template.settings },
    description: template.description,
  };
}

/** An accepted draft as a new workflow's first draft, its summary as the description. */
export function fromProposal(proposal: DraftProposal): NewWorkflow {
  return { document: proposalDocument(proposal), description: proposal.summary };
}

export function StartView({ api, catalog, assistant, onScratch, onStart }: StartViewProps) {
  const [proposal, setProposal] = useState<DraftProposal | null>(null);
  const id = useId(); // the list's first-run start and the dialog may both be on the page
  const ways = useRef<HTMLDivElement>(null);
  const review = useRef<HTMLDivElement>(null);
  // the review replaces the ways to start (kept, hidden: Discard finds the words as they were typed)
  const reviewed = useRef(false);
  useEffect(() => {
    if (proposal) review.current?.focus();
    else if (reviewed.current) ways.current?.querySelector<HTMLElement>("textarea")?.focus(); // after Discard
    reviewed.current = !!proposal;
  }, [proposal]);
  return (
    <>
      {proposal && (
        <div ref={review} tabIndex={-1} className="wk-start-review">
          <DraftReview proposal={proposal} catalog={catalog} onAccept={() => onStart(fromProposal(proposal))} onDiscard={() => setProposal(null)} />
        </div>
      )}
      <div className="wk-start" ref={ways} hidden={!!proposal}>
        <div className={`wk-start-ways${assistant ? " two" : ""}`}>
          <section className="wk-start-way" aria-labelledby={`${id}-scratch`}>
            <h3 id={`${id}-scratch`}>Start from scratch</h3>
            <p className="wk-help">Name it and say what starts it, then add its steps.</p>
            <ScratchForm onCreate={onScratch} />
          </section>
          {assistant && (
            <section className="wk-start-way" aria-labelledby={`${id}-describe`}>
              <h3 id={`${id}-describe`}>Describe it in words</h3>
              <p className="wk-help">An AI model drafts the steps; you review them before anything is made.</p>
              <DescribeForm
                label="Describe what should happen"
                placeholder="When a post is published, write tweets about it"
                submit="Draft it"
                ask={(words) => api.draftFromText(words)}
                onProposal={setProposal}
              />
            </section>
          )}
        </div>
        <h3>Start from a template</h3>
        <TemplateGallery api={api} catalog={catalog} onUse={(template) => onStart(fromTemplate(template))} />
      </div>
    </>
  );
}
