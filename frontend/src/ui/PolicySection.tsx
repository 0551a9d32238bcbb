// "If this step fails" in a step's panel: how many more tries, a time limit for each try, whether the run
// goes on when it still fails, and the steps that run when it fails (connections "on failure").

import { useId, useState } from "react";
import type { ActionPolicy } from "../types";

export interface PolicySectionProps {
  policy: ActionPolicy | undefined;
  /** The steps connected to run when this one fails, by name. */
  onFailure: string[];
  problems: string[];
  onChange: (policy: ActionPolicy | undefined) => void;
  onAddOnFailure: (anchor: HTMLElement) => void;
}

/** The policy with `name` set to `value` (removed when undefined); undefined when nothing is left. */
export function withPolicy(policy: ActionPolicy | undefined, name: keyof ActionPolicy, value: ActionPolicy[string]): ActionPolicy | undefined {
  const next: ActionPolicy = { ...(policy ?? {}) };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return Object.keys(next).length ? next : undefined;
}

export function PolicySection({ policy, onFailure, problems, onChange, onAddOnFailure }: PolicySectionProps) {
  const id = useId();
  // what the user is typing in the time limit, kept as typed (a half-written "3" is still theirs)
  const [timeout, setTimeoutText] = useState(policy?.timeout ?? "");
  const retries = policy?.retries;
  return (
    <div className="wk-section wk-policy" role="group" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>If this step fails</h3>
      <div className="wk-field">
        <label htmlFor={`${id}-retries`}>Try again</label>
        <div className="wk-input-row">
          <input
            id={`${id}-retries`}
            type="number"
            min={0}
            max={20}
            value={retries ?? ""}
            placeholder="As usual"
            aria-describedby={`${id}-retries-help`}
            onChange={(e) => {
              const text = e.target.value.trim();
              const n = Math.round(Number(text));
              onChange(withPolicy(policy, "retries", text === "" || !Number.isFinite(n) ? undefined : Math.max(0, Math.min(20, n))));
            }}
          />
          <span className="wk-unit">more times</span>
        </div>
        <div className="wk-help" id={`${id}-retries-help`}>
          Empty: as this kind of step usually does. 0: never try again.
        </div>
      </div>
      <div className="wk-field">
        <label htmlFor={`${id}-timeout`}>Time limit for each try</label>
        <input
          id={`${id}-timeout`}
          value={timeout}
          placeholder="No limit (e.g. 30s, 5m, 1h)"
          aria-describedby={`${id}-timeout-help`}
          onChange={(e) => {
            setTimeoutText(e.target.value);
            onChange(withPolicy(policy, "timeout", e.target.value.trim() || undefined));
          }}
        />
        <div className="wk-help" id={`${id}-timeout-help`}>
          A try that takes longer fails (and is tried again, if tries are left).
        </div>
      </div>
      <div className="wk-field wk-check">
        <label>
          <input
            type="checkbox"
            checked={!!policy?.continue_on_failure}
            onChange={(e) => onChange(withPolicy(policy, "continue_on_failure", e.target.checked ? true : undefined))}
          />
          Continue if this step fails
        </label>
        <div className="wk-help">The run goes on: the steps after it run, and get the error instead of its result.</div>
      </div>
      {problems.length > 0 && (
        <ul className="wk-problems" aria-label="Problems with what happens on failure">
          {problems.map((text) => <li key={text}>{text}</li>)}
        </ul>
      )}
      <div className="wk-field">
        <span className="wk-label">When it fails, run</span>
        {onFailure.length ? (
          <ul className="wk-list" aria-label="When it fails, run">
            {onFailure.map((name) => <li key={name} className="wk-parent"><span className="wk-failure-dot" aria-hidden="true" /> {name}</li>)}
          </ul>
        ) : (
          <div className="wk-help">Nothing yet. The steps you add here run only when this one has failed; then the steps after it do not run, and the run goes on.</div>
        )}
        <button type="button" className="wk-button" onClick={(e) => onAddOnFailure(e.currentTarget)}>
          + Add a step to run if this fails
        </button>
      </div>
    </div>
  );
}
