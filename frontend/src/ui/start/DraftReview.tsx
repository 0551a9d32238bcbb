// A workflow the AI model drafted, for review before anything changes: what starts it, each step with
// its explanation, for a change what differs from the draft in the editor, and what is left to fix.
// Accept hands it to the editor (unsaved); Discard drops it.

import type { WorkflowDocument } from "../../document";
import { actionTitle, type Catalog } from "../../names";
import { problemView } from "../../problemText";
import { everyAction } from "../../scopes";
import { triggersSentence } from "../../triggers";
import type { DraftProposal } from "../../types";
import { diffVersion } from "../../versions";
import { Changes } from "../Changes";

export interface DraftReviewProps {
  proposal: DraftProposal;
  catalog: Catalog;
  /** For a change: the draft as it is in the editor now. */
  before?: WorkflowDocument;
  busy?: boolean;
  onAccept: () => void;
  onDiscard: () => void;
}

export function proposalDocument(proposal: DraftProposal, before?: WorkflowDocument): WorkflowDocument {
  return { name: before?.name ?? proposal.name, triggers: proposal.triggers, workflow: proposal.workflow, settings: before?.settings ?? {} };
}

export function DraftReview({ proposal, catalog, before, busy = false, onAccept, onDiscard }: DraftReviewProps) {
  const byId = new Map(everyAction(proposal.workflow).map(({ action }) => [action.id, action])); // loops' steps too
  const problems = proposal.problems.map((p) => problemView(p, proposal.workflow, catalog));
  const changes = before ? diffVersion(before, proposalDocument(proposal, before), catalog) : null;
  return (
    <section className="wk-draft-review" aria-label="Review the draft">
      <h2>{before ? "Review the change" : `Review the draft: ${proposal.name}`}</h2>
      {proposal.summary && <p>{proposal.summary}</p>}
      <p className="wk-help">Drafted by an AI model: check each step before you accept it. Nothing is saved until you save.</p>
      {!before && <p><strong>Starts:</strong> {triggersSentence(proposal.triggers)}</p>}
      {changes && (
        <>
          <h3>What changes</h3>
          <Changes changes={changes} label="What the change does" same="The model proposed no change." />
        </>
      )}
      <h3>Steps</h3>
      <ol className="wk-draft-steps" aria-label="Steps, explained">
        {proposal.steps.map((step) => {
          const action = byId.get(step.action_id);
          return (
            <li key={step.action_id}>
              <strong>{action ? actionTitle(action, catalog.get(action.kind)) : "A step"}</strong>
              {step.explanation && <span>: {step.explanation}</span>}
            </li>
          );
        })}
      </ol>
      {problems.length > 0 && (
        <div className="wk-problems" role="note" aria-label="Left to fix">
          <strong>Left to fix after accepting:</strong>
          <ul>
            {problems.map((view, index) => (
              <li key={index}>{view.where}: {view.text}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="wk-row-actions">
        <button type="button" className="wk-button primary" disabled={busy} onClick={onAccept}>Accept</button>
        <button type="button" className="wk-button" disabled={busy} onClick={onDiscard}>Discard</button>
      </div>
    </section>
  );
}
