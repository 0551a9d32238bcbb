import { useMemo, useRef, useState } from "react";
import type { Api } from "../api";
import { fieldsProblem, joinCron, PRESETS, splitCron, switchKind, timerSample, timeZones, triggerKind, type TriggerKind } from "../cron";
import { conditionFields, type DataGroup } from "../dataFields";
import type { Json, Problem, StoredEvent, Trigger } from "../types";
import { ConditionBuilder } from "./ConditionBuilder";

export interface TriggerPanelProps {
  api: Api;
  trigger: Trigger;
  problems: Problem[];
  /** The saved workflow's next tick (a cron trigger, published and enabled). */
  nextTickAt?: number | null;
  sample: string;
  /** The data the filter can test (the trigger event's fields). */
  groups: DataGroup[];
  onTrigger: (trigger: Trigger) => void;
  onSample: (sample: string) => void;
  /** Open the add-step menu after the trigger, beside this button. */
  onAddFirst?: (anchor: HTMLElement) => void;
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

export function TriggerPanel({ api, trigger, problems, nextTickAt, sample, groups, onTrigger, onSample, onAddFirst }: TriggerPanelProps) {
  const [recent, setRecent] = useState<StoredEvent[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const remembered = useRef<Trigger>({}); // what the other kind held, to switch back without losing it
  const parsed = parseSample(sample);
  const kind = triggerKind(trigger);
  const event = trigger.event ?? "";
  const exact = kind === "event" && event && !event.endsWith("*") ? event : undefined;
  const pick = (next: TriggerKind) => {
    remembered.current = { ...remembered.current, ...trigger };
    onTrigger(switchKind(trigger, next, remembered.current));
  };
  const general = problems.filter((p) => p.path !== "trigger.cron" && p.path !== "trigger.if");
  const filterProblems = problems.filter((p) => p.path === "trigger.if").map((p) => p.message);
  const fields = conditionFields(groups, ["event"]);
  return (
    <div aria-label="Trigger settings">
      <div className="wk-section">
        <h2>Trigger</h2>
        <div className="wk-help">What starts this workflow: an event, or a schedule.</div>
        {onAddFirst && (
          <button type="button" className="wk-button" style={{ marginTop: 8 }} onClick={(e) => onAddFirst(e.currentTarget)}>
            + Add a step after the trigger
          </button>
        )}
      </div>
      {general.length > 0 && (
        <ul className="wk-problems">{general.map((p) => <li key={p.path + p.message}>{p.message}</li>)}</ul>
      )}
      <fieldset className="wk-field wk-choice" aria-label="Starts on">
        <label>
          <input type="radio" name="wk-trigger-kind" checked={kind === "event"} onChange={() => pick("event")} /> An event
        </label>
        <label>
          <input type="radio" name="wk-trigger-kind" checked={kind === "cron"} onChange={() => pick("cron")} /> A schedule (cron)
        </label>
      </fieldset>
      {kind === "cron" ? (
        <CronFields
          cron={trigger.cron ?? ""}
          problems={problems.filter((p) => p.path === "trigger.cron")}
          nextTickAt={nextTickAt}
          onChange={(cron) => onTrigger({ cron })}
          onSample={() => onSample(JSON.stringify(timerSample(trigger.cron ?? ""), null, 2))}
        />
      ) : (
        <>
          <div className="wk-field">
            <label htmlFor="wk-trigger-event">Event name</label>
            <input
              id="wk-trigger-event"
              value={event}
              placeholder="app/user.created (or app/*)"
              onChange={(e) => onTrigger({ ...trigger, event: e.target.value })}
            />
          </div>
          <div className="wk-field">
            <ConditionBuilder
              id="wk-trigger-if"
              label="Only when (optional)"
              value={trigger.if ?? ""}
              fields={fields}
              problems={filterProblems}
              emptyText="Every such event starts a run."
              onChange={(cel) => onTrigger({ event, ...(cel ? { if: cel } : {}) })}
            />
          </div>
        </>
      )}
      <div className="wk-section">
        <h3>Sample event</h3>
        <div className="wk-help">An example of the event: its fields are what the steps can use, and a test run starts with it.</div>
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

interface CronFieldsProps {
  cron: string;
  problems: Problem[];
  nextTickAt?: number | null;
  onChange: (cron: string) => void;
  onSample: () => void;
}

/** The schedule: five cron fields and a time zone, kept together as "TZ=Area/City <fields>". */
function CronFields({ cron, problems, nextTickAt, onChange, onSample }: CronFieldsProps) {
  const zones = useMemo(() => timeZones(), []);
  const { zone, fields } = splitCron(cron);
  const local = fieldsProblem(fields);
  return (
    <>
      <div className="wk-field">
        <label htmlFor="wk-trigger-preset">Common schedules</label>
        <select
          id="wk-trigger-preset"
          value={PRESETS.some((p) => p.fields === fields) ? fields : ""}
          onChange={(e) => e.target.value && onChange(joinCron(zone, e.target.value))}
        >
          <option value="">Custom</option>
          {PRESETS.map((p) => <option key={p.fields} value={p.fields}>{p.label}</option>)}
        </select>
      </div>
      <div className="wk-field">
        <label htmlFor="wk-trigger-cron">Cron fields (minute hour day-of-month month day-of-week)</label>
        <input
          id="wk-trigger-cron"
          className="mono"
          value={fields}
          placeholder="0 12 * * 5"
          aria-invalid={problems.length > 0 || local !== null}
          onChange={(e) => onChange(joinCron(zone, e.target.value))}
        />
        <div className="wk-help">e.g. <code>*/15 9-17 * * 1-5</code>: every 15 minutes from 9:00 to 17:45 on weekdays.</div>
        {local && <div className="wk-problems">{local}</div>}
        {problems.length > 0 && (
          <div className="wk-problems" role="alert" aria-label="Problems with the schedule">
            {problems.map((p) => <div key={p.message}>{p.message}</div>)}
          </div>
        )}
      </div>
      <div className="wk-field">
        <label htmlFor="wk-trigger-zone">Time zone</label>
        <input
          id="wk-trigger-zone"
          list="wk-time-zones"
          value={zone}
          placeholder="UTC (or e.g. Europe/Paris)"
          onChange={(e) => onChange(joinCron(e.target.value, fields))}
        />
        <datalist id="wk-time-zones">{zones.map((z) => <option key={z} value={z} />)}</datalist>
      </div>
      <div className="wk-help" aria-label="Next run">
        {nextTickAt ? `Next run: ${new Date(nextTickAt).toLocaleString()}` : "Runs once published and enabled, at each tick."}
      </div>
      <button type="button" className="wk-button" onClick={onSample}>Use a tick's event as the sample</button>
    </>
  );
}
