// The trigger's panel: what starts the workflow. A list of one to ten triggers, each an event (with its
// "only when" conditions, built from rows) or a schedule, that end users add, edit and remove; and the
// sample event the steps' data comes from.
import { useMemo, useRef, useState } from "react";
import type { Api } from "../api";
import { fieldsProblem, joinCron, PRESETS, splitCron, switchKind, timerSample, timeZones, triggerKind, type TriggerKind } from "../cron";
import { conditionFields, type DataGroup } from "../dataFields";
import { conditionWords } from "../summaries";
import { addTrigger, MAX_TRIGGERS, problemsOfTrigger, removeTrigger, replaceTrigger, triggerPhrase } from "../triggers";
import type { Json, JsonObject, Problem, StoredEvent, Trigger } from "../types";
import { ConditionBuilder } from "./ConditionBuilder";
import { WebhookFields } from "./WebhookFields";

export interface TriggerPanelProps {
  api: Api;
  /** The saved workflow: a webhook trigger gets its webhook (URL and secret) for it. */
  workflowId?: string;
  triggers: Trigger[];
  /** The problems of the triggers (paths "triggers[1].if", "triggers"; or "trigger.if", the first's). */
  problems: Problem[];
  /** The saved workflow's next tick (the earliest of its schedules, published and enabled). */
  nextTickAt?: number | null;
  sample: string;
  /** The data the filters can test (the trigger event's fields). */
  groups: DataGroup[];
  onTriggers: (triggers: Trigger[]) => void;
  onSample: (sample: string) => void;
  /** The examples the product declares for the trigger's event: each can be the sample. */
  examples?: Array<{ name: string; data: JsonObject }>;
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

/** Stable keys for the triggers' cards while triggers are added and removed here (the list has no ids);
 * renewed when the list changes length from outside (undo, a restored version). */
function useKeys(count: number) {
  const [state, setState] = useState(() => ({ keys: range(0, count), next: count, added: null as number | null }));
  let { keys, next } = state;
  if (keys.length !== count) {
    keys = range(next, count);
    next += count;
    setState({ keys, next, added: null });
  }
  return {
    keys,
    /** The key of the trigger added last here (its first field takes the focus). */
    fresh: state.added,
    added: () => setState({ keys: [...keys, next], next: next + 1, added: next }),
    removed: (index: number) => setState({ keys: keys.filter((_, i) => i !== index), next, added: null }),
  };
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

export function TriggerPanel({ api, workflowId, triggers, problems, nextTickAt, sample, groups, onTriggers, onSample, examples = [], onAddFirst }: TriggerPanelProps) {
  const [recent, setRecent] = useState<StoredEvent[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const { keys, fresh, added, removed } = useKeys(triggers.length);
  const fields = conditionFields(groups, ["event"]);
  const parsed = parseSample(sample);
  const several = triggers.length > 1;
  const full = triggers.length >= MAX_TRIGGERS;
  const crons = triggers.filter((t) => triggerKind(t) === "cron").length;
  // recent events of the one event name the triggers name exactly, if there is one
  const exactNames = [...new Set(triggers.filter((t) => triggerKind(t) === "event" && t.event && !t.event.endsWith("*")).map((t) => t.event ?? ""))];
  const exact = exactNames.length === 1 && !triggers.some((t) => triggerKind(t) === "event" && t.event?.endsWith("*")) ? exactNames[0] : undefined;
  const listProblems = problemsOfTrigger(problems, null);
  const add = (kind: TriggerKind) => {
    if (full) return;
    added();
    onTriggers(addTrigger(triggers, kind));
  };
  return (
    <div aria-label="Trigger settings">
      <div className="wk-section">
        <h2>{several ? "Triggers" : "Trigger"}</h2>
        <div className="wk-help">
          {several
            ? `What starts this workflow: any of these ${triggers.length} triggers starts a run.`
            : "What starts this workflow: an event, a schedule, or a webhook other services call. Add another to start it in more than one way."}
        </div>
        {onAddFirst && (
          <button type="button" className="wk-button" style={{ marginTop: 8 }} onClick={(e) => onAddFirst(e.currentTarget)}>
            + Add a step after the trigger
          </button>
        )}
      </div>
      {listProblems.length > 0 && (
        <ul className="wk-problems" role="alert">{listProblems.map((p) => <li key={p.path + p.message}>{p.message}</li>)}</ul>
      )}
      <ol className="wk-trigger-list" aria-label="Triggers">
        {triggers.map((trigger, index) => (
          <li key={keys[index] ?? index}>
            <TriggerCard
              api={api}
              workflowId={workflowId}
              trigger={trigger}
              index={index}
              several={several}
              idBase={`wk-trigger-${keys[index] ?? index}`}
              fresh={keys[index] === fresh}
              problems={problemsOfTrigger(problems, index)}
              summary={trigger.if ? conditionWords(trigger.if, fields) : undefined}
              fields={fields}
              nextTickAt={nextTickAt}
              showNext={crons === 1}
              onChange={(next) => onTriggers(replaceTrigger(triggers, index, next))}
              onRemove={
                several
                  ? () => {
                      removed(index);
                      onTriggers(removeTrigger(triggers, index));
                    }
                  : undefined
              }
              onSample={onSample}
            />
          </li>
        ))}
      </ol>
      {crons > 1 && (
        <div className="wk-help" aria-label="Next run">
          {nextTickAt ? `Next run (of any schedule): ${new Date(nextTickAt).toLocaleString()}` : "The schedules run once published and enabled, each at its ticks."}
        </div>
      )}
      <div className="wk-trigger-add" role="group" aria-label="Add a trigger">
        <button type="button" className="wk-button" disabled={full} onClick={() => add("event")}>
          + Add an event
        </button>
        <button type="button" className="wk-button" disabled={full} onClick={() => add("cron")}>
          + Add a schedule
        </button>
        <button type="button" className="wk-button" disabled={full} onClick={() => add("webhook")}>
          + Add a webhook
        </button>
        {full && <div className="wk-help">A workflow can have up to {MAX_TRIGGERS} triggers.</div>}
      </div>
      {crons > 0 && <datalist id="wk-time-zones"><TimeZoneOptions /></datalist>}
      <div className="wk-section">
        <h3>Sample event</h3>
        <div className="wk-help">An example of the event: its fields are what the steps can use, and step tests and test runs start with it.</div>
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
        {examples.length > 0 && (
          <ul className="wk-list" aria-label="Examples of this event">
            {examples.map((example, index) => {
              const text = JSON.stringify(example, null, 2);
              return (
                <li key={index}>
                  <button type="button" className="wk-row" aria-pressed={text === sample} onClick={() => onSample(text)}>
                    <span style={{ whiteSpace: "nowrap" }}>Example {index + 1}{text === sample ? " (in use)" : ""}</span>
                    <span className="wk-help">{exampleSummary(example.data)}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}
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

/** An example's data in a line: "id 1, status under review". */
export function exampleSummary(data: JsonObject): string {
  const parts = Object.entries(data).map(([key, value]) => `${key} ${typeof value === "string" ? value : JSON.stringify(value)}`);
  const text = parts.join(", ");
  return text.length > 60 ? `${text.slice(0, 59)}…` : text || "no data";
}

function TimeZoneOptions() {
  const zones = useMemo(() => timeZones(), []);
  return <>{zones.map((z) => <option key={z} value={z} />)}</>;
}

interface TriggerCardProps {
  api: Api;
  workflowId?: string;
  trigger: Trigger;
  index: number;
  /** The workflow has several triggers: the card is numbered and can be removed. */
  several: boolean;
  /** Unique prefix for element ids. */
  idBase: string;
  /** Just added: its first field takes the focus. */
  fresh: boolean;
  problems: Array<Problem & { field: string }>;
  /** The trigger's filter in words. */
  summary?: string;
  fields: ReturnType<typeof conditionFields>;
  nextTickAt?: number | null;
  /** Say when the schedule runs next (the workflow's only schedule: its next tick is the workflow's). */
  showNext: boolean;
  onChange: (trigger: Trigger) => void;
  onRemove?: () => void;
  onSample: (sample: string) => void;
}

/** One trigger: an event with its "only when" filter, a schedule, or a webhook. */
function TriggerCard({ api, workflowId, trigger, index, several, idBase, fresh, problems, summary, fields, nextTickAt, showNext, onChange, onRemove, onSample }: TriggerCardProps) {
  const remembered = useRef<Trigger>({}); // what the other kind held, to switch back without losing it
  const kind = triggerKind(trigger);
  const event = trigger.event ?? "";
  const title = `Trigger ${index + 1}`;
  const pick = (next: TriggerKind) => {
    remembered.current = { ...remembered.current, ...trigger };
    onChange(switchKind(trigger, next, remembered.current));
  };
  const general = problems.filter((p) => p.field !== "cron" && p.field !== "if");
  const body = (
    <>
      {general.length > 0 && (
        <ul className="wk-problems">{general.map((p) => <li key={p.path + p.message}>{p.message}</li>)}</ul>
      )}
      <fieldset className="wk-field wk-choice" aria-label="Starts on">
        <label>
          <input type="radio" name={`${idBase}-kind`} checked={kind === "event"} onChange={() => pick("event")} /> An event
        </label>
        <label>
          <input type="radio" name={`${idBase}-kind`} checked={kind === "cron"} onChange={() => pick("cron")} /> A schedule (cron)
        </label>
        <label>
          <input type="radio" name={`${idBase}-kind`} checked={kind === "webhook"} onChange={() => pick("webhook")} /> A webhook
        </label>
      </fieldset>
      {kind === "webhook" ? (
        <WebhookFields api={api} workflowId={workflowId} trigger={trigger} idBase={idBase} onChange={onChange} />
      ) : kind === "cron" ? (
        <CronFields
          idBase={idBase}
          autoFocus={fresh}
          cron={trigger.cron ?? ""}
          problems={problems.filter((p) => p.field === "cron")}
          nextTickAt={nextTickAt}
          showNext={showNext}
          onChange={(cron) => onChange({ cron })}
          onSample={() => onSample(JSON.stringify(timerSample(trigger.cron ?? ""), null, 2))}
        />
      ) : (
        <>
          <div className="wk-field">
            <label htmlFor={`${idBase}-event`}>Event name</label>
            <input
              id={`${idBase}-event`}
              autoFocus={fresh}
              value={event}
              placeholder="app/user.created (or app/*)"
              aria-invalid={problems.some((p) => p.field === "event") || undefined}
              onChange={(e) => onChange({ ...trigger, event: e.target.value })}
            />
          </div>
          <div className="wk-field">
            <ConditionBuilder
              id={`${idBase}-if`}
              label="Only when (optional)"
              value={trigger.if ?? ""}
              fields={fields}
              problems={problems.filter((p) => p.field === "if").map((p) => p.message)}
              emptyText="Every such event starts a run."
              onChange={(cel) => onChange({ event, ...(cel ? { if: cel } : {}) })}
            />
          </div>
        </>
      )}
    </>
  );
  if (!several) return body;
  const said = triggerPhrase(trigger, summary);
  return (
    <fieldset className={`wk-trigger-card${problems.length ? " has-problems" : ""}`} aria-label={title}>
      <div className="wk-trigger-head">
        <div className="wk-trigger-heading">
          <span className="wk-trigger-number">{title}</span>
          <span className="wk-trigger-said">{said.charAt(0).toUpperCase() + said.slice(1)}</span>
        </div>
        {onRemove && (
          <button type="button" className="wk-button danger" aria-label={`Remove ${title.toLowerCase()}`} title="Remove this trigger" onClick={onRemove}>
            Remove
          </button>
        )}
      </div>
      {body}
    </fieldset>
  );
}

interface CronFieldsProps {
  idBase: string;
  autoFocus: boolean;
  cron: string;
  problems: Problem[];
  nextTickAt?: number | null;
  showNext: boolean;
  onChange: (cron: string) => void;
  onSample: () => void;
}

/** The schedule: five cron fields and a time zone, kept together as "TZ=Area/City <fields>". */
function CronFields({ idBase, autoFocus, cron, problems, nextTickAt, showNext, onChange, onSample }: CronFieldsProps) {
  const { zone, fields } = splitCron(cron);
  const local = fieldsProblem(fields);
  return (
    <>
      <div className="wk-field">
        <label htmlFor={`${idBase}-preset`}>Common schedules</label>
        <select
          id={`${idBase}-preset`}
          autoFocus={autoFocus}
          value={PRESETS.some((p) => p.fields === fields) ? fields : ""}
          onChange={(e) => e.target.value && onChange(joinCron(zone, e.target.value))}
        >
          <option value="">Custom</option>
          {PRESETS.map((p) => <option key={p.fields} value={p.fields}>{p.label}</option>)}
        </select>
      </div>
      <div className="wk-field">
        <label htmlFor={`${idBase}-cron`}>Cron fields (minute hour day-of-month month day-of-week)</label>
        <input
          id={`${idBase}-cron`}
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
        <label htmlFor={`${idBase}-zone`}>Time zone</label>
        <input
          id={`${idBase}-zone`}
          list="wk-time-zones"
          value={zone}
          placeholder="UTC (or e.g. Europe/Paris)"
          onChange={(e) => onChange(joinCron(e.target.value, fields))}
        />
      </div>
      {showNext && (
        <div className="wk-help" aria-label="Next run">
          {nextTickAt ? `Next run: ${new Date(nextTickAt).toLocaleString()}` : "Runs once published and enabled, at each tick."}
        </div>
      )}
      <button type="button" className="wk-button" onClick={onSample}>Use a tick's event as the sample</button>
    </>
  );
}
