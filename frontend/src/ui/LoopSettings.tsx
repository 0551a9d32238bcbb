// A loop's own settings in its panel, in words: how many items at once, what happens when an item fails,
// and which step inside gives each item's (or round's) result. The list to go through, the condition and
// the number of rounds are inputs, in the form above this.

import { useId } from "react";
import { actionTitle, type Catalog } from "../names";
import { FOR_EACH, type JsonObject, type Problem, type WorkflowAction } from "../types";

export interface LoopSettingsProps {
  loop: WorkflowAction;
  catalog: Catalog;
  problems: string[];
  onInputs: (inputs: JsonObject) => void;
  onResult: (result: string | undefined) => void;
}

/** The inputs a loop's panel shows in words here, not in the form. */
export const LOOP_OWN_INPUTS: Record<string, string[]> = { [FOR_EACH]: ["concurrency", "on_failure"] };

/** Problems about what this section shows: the body's result, the concurrency, the failure choice. */
export function isLoopSettingsProblem(problem: Problem): boolean {
  return /\.body\.result$|\.inputs\.(concurrency|on_failure)$/.test(problem.path) || problem.code === "unknown_result";
}

export function LoopSettings({ loop, catalog, problems, onInputs, onResult }: LoopSettingsProps) {
  const id = useId();
  const inputs = (loop.inputs ?? {}) as JsonObject;
  const each = loop.kind === FOR_EACH;
  const concurrency = typeof inputs.concurrency === "number" ? inputs.concurrency : 1;
  const several = concurrency > 1;
  const stop = inputs.on_failure !== "continue";
  const steps = loop.body?.actions ?? [];
  const result = loop.body?.result;
  const set = (name: string, value: JsonObject[string] | undefined) => {
    const next = { ...inputs };
    if (value === undefined) delete next[name];
    else next[name] = value;
    onInputs(next);
  };
  return (
    <div className="wk-section wk-loop-settings">
      {each && (
        <>
          <fieldset className="wk-field wk-options" aria-describedby={`${id}-pace-help`}>
            <legend>Go through the items</legend>
            <label>
              <input type="radio" name={`${id}-pace`} checked={!several} onChange={() => set("concurrency", undefined)} />
              One at a time, in order
            </label>
            <label>
              <input type="radio" name={`${id}-pace`} checked={several} onChange={() => set("concurrency", 5)} />
              Several at once
            </label>
            {several && (
              <label className="wk-inline-number">
                How many at once
                <input
                  type="number"
                  min={2}
                  max={100}
                  value={concurrency}
                  onChange={(e) => {
                    const n = Math.round(Number(e.target.value));
                    if (Number.isFinite(n) && n >= 1) set("concurrency", Math.min(100, n));
                  }}
                />
              </label>
            )}
            <div className="wk-help" id={`${id}-pace-help`}>
              {several ? "Faster; the items may finish in any order." : "Each item starts when the one before it is done."}
            </div>
          </fieldset>
          <fieldset className="wk-field wk-options">
            <legend>If an item fails</legend>
            <label>
              <input type="radio" name={`${id}-failure`} checked={stop} onChange={() => set("on_failure", undefined)} />
              Stop: the loop fails
            </label>
            <label>
              <input type="radio" name={`${id}-failure`} checked={!stop} onChange={() => set("on_failure", "continue")} />
              Skip it and go on
            </label>
            <div className="wk-help">
              An item fails when a step inside fails and nothing handles it (a step to run on failure, or “Continue if this step fails”).
            </div>
          </fieldset>
        </>
      )}
      <div className="wk-field">
        <label htmlFor={`${id}-result`}>{each ? "Each item's result" : "Each round's result"}</label>
        <select id={`${id}-result`} value={result ?? ""} onChange={(e) => onResult(e.target.value || undefined)}>
          <option value="">What every step inside gave</option>
          {steps.map((step) => (
            <option key={step.id} value={step.id}>
              What “{actionTitle(step, catalog.get(step.kind))}” gave
            </option>
          ))}
        </select>
        <div className="wk-help">
          {each
            ? "The loop gives the list of these results, one per item, to the steps after it."
            : "The condition reads it as the previous round's result, and the loop gives the last one to the steps after it."}
        </div>
      </div>
      {problems.length > 0 && (
        <ul className="wk-problems" aria-label="Problems with this loop">
          {problems.map((text) => <li key={text}>{text}</li>)}
        </ul>
      )}
    </div>
  );
}
