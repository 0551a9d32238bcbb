import { useState } from "react";
import type { Api } from "../api";
import type { Json, Problem, StoredEvent, Trigger } from "../types";

export interface TriggerPanelProps {
  api: Api;
  trigger: Trigger;
  problems: Problem[];
  sample: string;
  onTrigger: (trigger: Trigger) => void;
  onSample: (sample: string) => void;
}

/** The sample event as parsed JSON, or the reason it is not JSON. */
export function parseSample(text: string): { value: Json | null; error: string | null } {
  if (!text.trim()) return { value: null, error: null };
  try {
    return { value: JSON.parse(text) as Json, error: null };
  } catch (error) {
    return { value: null, error: (error as Error).message };
  }
}

export function TriggerPanel({ api, trigger, problems, sample, onTrigger, onSample }: TriggerPanelProps) {
  const [recent, setRecent] = useState<StoredEvent[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const parsed = parseSample(sample);
  const exact = trigger.event && !trigger.event.endsWith("*") ? trigger.event : undefined;
  return (
    <div aria-label="Trigger settings">
      <div className="wk-section">
        <h2>Trigger</h2>
        <div className="wk-help">The event that starts this workflow.</div>
      </div>
      {problems.length > 0 && (
        <ul className="wk-problems">{problems.map((p) => <li key={p.path + p.message}>{p.message}</li>)}</ul>
      )}
      <div className="wk-field">
        <label htmlFor="wk-trigger-event">Event name</label>
        <input
          id="wk-trigger-event"
          value={trigger.event}
          placeholder="app/user.created (or app/*)"
          onChange={(e) => onTrigger({ ...trigger, event: e.target.value })}
        />
      </div>
      <div className="wk-field">
        <label htmlFor="wk-trigger-if">Only when (CEL, optional)</label>
        <textarea
          id="wk-trigger-if"
          className="mono"
          rows={2}
          value={trigger.if ?? ""}
          placeholder="event.data.plan == 'pro'"
          onChange={(e) => onTrigger({ event: trigger.event, ...(e.target.value ? { if: e.target.value } : {}) })}
        />
      </div>
      <div className="wk-section">
        <h3>Sample event</h3>
        <div className="wk-help">Used to pick references to the event's fields, and by test runs.</div>
        <div className="wk-field">
          <label htmlFor="wk-sample">Sample event (JSON)</label>
          <textarea
            id="wk-sample"
            className="mono"
            rows={6}
            value={sample}
            placeholder={'{"name": "app/user.created", "data": {"id": 1}}'}
            onChange={(e) => onSample(e.target.value)}
          />
          {parsed.error && <div className="wk-problems" role="alert">Not JSON: {parsed.error}</div>}
        </div>
        <button
          type="button"
          className="wk-button"
          onClick={async () => {
            try {
              setRecent(await api.events(exact));
              setLoadError(null);
            } catch (error) {
              setLoadError((error as Error).message);
            }
          }}
        >
          Pick a recent event
        </button>
        {loadError && <div className="wk-problems">{loadError}</div>}
        {recent && (
          <ul className="wk-list" aria-label="Recent events">
            {recent.length === 0 && <li className="wk-help">No events received yet.</li>}
            {recent.map((event) => (
              <li key={event.id}>
                <button
                  type="button"
                  className="wk-row"
                  onClick={() => {
                    const { name, data } = event.event as { name: string; data: Json };
                    onSample(JSON.stringify({ name, data }, null, 2));
                    setRecent(null);
                  }}
                >
                  <span>{event.name}</span>
                  <span className="wk-help">{new Date(event.received_at).toLocaleString()}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
