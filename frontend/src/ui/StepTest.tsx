// "Test this step": run the selected step alone against the sample event and the earlier steps' sample
// data (or their latest run's), show its output or error and how long it took, and keep the output as
// this step's sample data for the steps after it. A step with real effects says so and asks first.

import { useState } from "react";
import type { Api } from "../api";
import { hasEffects, sampleOutputs, stepTestQuestion } from "../samples";
import type { ActionDef, Json, JsonObject, StepTestResult, Workflow, WorkflowAction } from "../types";

export interface StepTestProps {
  api: Api;
  workflowId: string;
  /** The workflow as edited (unsaved changes included). */
  workflow: Workflow;
  action: WorkflowAction;
  definition: ActionDef;
  /** The trigger's sample event (parsed), or null. */
  sampleEvent: Json | null;
  /** Keep `output` as the step's sample data (undefined: forget it). */
  onKeep: (output: Json | undefined) => void;
  /** A step's name by its id. */
  nameOf: (id: string) => string;
}

/** The sample event to send: `{name, data}` when the sample has them, else none (the server's default). */
export function eventOf(sample: Json | null): { name: string; data: Json } | undefined {
  if (!sample || typeof sample !== "object" || Array.isArray(sample)) return undefined;
  const { name, data } = sample as JsonObject;
  if (typeof name !== "string" || !name) return undefined;
  return { name, data: data && typeof data === "object" && !Array.isArray(data) ? data : {} };
}

/** "12 ms", "1.4 s". */
export function durationText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What a test says of the earlier steps it read without sample data. */
export function unsampledText(names: string[]): string {
  const listed = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}` : names[0];
  const one = names.length === 1;
  return `${listed} ${one ? "has" : "have"} no sample data yet, so ${one ? "its output was" : "their outputs were"} empty here: test ${one ? "it" : "them"} and use the output as sample data, or start a test run.`;
}

export function StepTest({ api, workflowId, workflow, action, definition, sampleEvent, onKeep, nameOf }: StepTestProps) {
  const [asking, setAsking] = useState(false);
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<StepTestResult | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const kept = sampleOutputs(workflow)[action.id];
  const effects = hasEffects(definition);
  const run = async () => {
    setAsking(false);
    setRunning(true);
    setFailure(null);
    try {
      const event = eventOf(sampleEvent);
      setResult(await api.testStep(workflowId, { action_id: action.id, workflow, ...(event ? { event } : {}) }));
    } catch (error) {
      setResult(null);
      setFailure((error as Error).message);
    } finally {
      setRunning(false);
    }
  };
  const output = result && !result.error ? (result.output ?? null) : undefined;
  const keptThis = output !== undefined && kept !== undefined && JSON.stringify(kept) === JSON.stringify(output);
  return (
    <div className="wk-section" aria-label="Test this step">
      <h3>Test this step</h3>
      <div className="wk-help">
        Runs this step alone, with the sample event and the earlier steps' sample data (or their latest run's). It is not saved as a run.
      </div>
      {effects && (
        <div className="wk-help" role="note">This step has real effects: testing it does them for real.</div>
      )}
      {asking ? (
        <div className="wk-confirm" role="alertdialog" aria-label="Test it for real?">
          <span>{stepTestQuestion(definition.description)}</span>
          <button type="button" className="wk-button primary" onClick={() => void run()}>Test it anyway</button>
          <button type="button" className="wk-button" onClick={() => setAsking(false)}>Cancel</button>
        </div>
      ) : (
        <button type="button" className="wk-button" disabled={running} onClick={() => (effects ? setAsking(true) : void run())}>
          {running ? "Testing…" : "Test this step"}
        </button>
      )}
      {failure && <div className="wk-problems" role="alert">The test could not run: {failure}</div>}
      {result && (
        <div role="status" aria-label="Test result" style={{ marginTop: 8 }}>
          <div>
            <strong>{result.error ? "It failed" : "It worked"}</strong>
            <span className="wk-help"> · took {durationText(result.duration_ms)}</span>
          </div>
          {result.error ? (
            <div className="wk-problems">{sentence(result.error)}</div>
          ) : (
            <pre className="wk-pre" aria-label="Output">{JSON.stringify(output, null, 2)}</pre>
          )}
          {!!result.unsampled?.length && <div className="wk-help">{unsampledText(result.unsampled.map(nameOf))}</div>}
          {result.sent_events.length > 0 && (
            <div className="wk-help">
              It would have sent {result.sent_events.length === 1 ? "an event" : `${result.sent_events.length} events`}: a test sends none.
            </div>
          )}
          {output !== undefined && (
            <button type="button" className="wk-button" disabled={keptThis} onClick={() => onKeep(output)}>
              {keptThis ? "Kept as sample data" : "Use as sample data"}
            </button>
          )}
        </div>
      )}
      {kept !== undefined && (
        <div className="wk-help">
          {keptThis ? "The steps after this one now show these values." : "This step has sample data kept from a test: the steps after it show its values."}{" "}
          <button type="button" className="wk-link" onClick={() => onKeep(undefined)}>Forget it</button>
        </div>
      )}
    </div>
  );
}
