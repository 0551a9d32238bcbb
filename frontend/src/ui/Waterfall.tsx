import { useState } from "react";
import { dayAndTime, type Clock } from "../time";
import { barLabel, type Bar, type Waterfall as Layout } from "../waterfall";

/** What is selected: a step's record, and one of its sub-steps (null: the step itself). */
export interface BarSelection {
  record: string;
  step: number | null;
}

/** A loop with more iterations than this opens collapsed (as a handler's sub-steps always do). */
const MANY = 10;

const isSelected = (bar: Bar, selected: BarSelection | null) => !!selected && selected.record === bar.record && selected.step === bar.step;

function Track({ bar }: { bar: Bar }) {
  return (
    <span className="wk-wf-track" aria-hidden="true">
      {bar.start !== null && <span className={`wk-wf-span ${bar.tone}`} style={{ left: `${bar.left}%`, width: `${bar.width}%` }} />}
      {bar.segments.map((s, i) => (
        <span key={i} className={`wk-wf-seg ${s.kind}${s.open ? " open" : ""}`} style={{ left: `${s.left}%`, width: `${s.width}%` }} title={s.words} />
      ))}
    </span>
  );
}

function Row({ bar, depth, selected, onSelect, clock }: { bar: Bar; depth: number; selected: BarSelection | null; onSelect: (s: BarSelection) => void; clock: Clock }) {
  // a loop's iterations show (unless there are many); a handler's sub-steps on demand
  // (until the user chooses: the count grows while the run goes on)
  const [choice, setOpen] = useState<boolean | null>(null);
  const open = choice ?? (bar.iterations.length > 0 && bar.iterations.length <= MANY);
  const label = `${barLabel(bar)}${bar.start !== null ? `, started ${dayAndTime(bar.start, clock)}` : ""}`;
  const count = bar.iterations.length;
  const parts = bar.steps.length;
  const units = count
    ? bar.iterations[0]?.label.startsWith("Item")
      ? (count === 1 ? "item" : "items")
      : count === 1 ? "round" : "rounds"
    : parts === 1 ? "sub-step" : "sub-steps";
  return (
    <li>
      <div className="wk-wf-line" style={{ paddingLeft: depth * 14 }}>
        {count > 0 || parts > 0 ? (
          <button type="button" className="wk-wf-toggle" aria-expanded={open} aria-label={`${open ? "Hide" : "Show"} the ${count || parts} ${units} of ${bar.title}`} onClick={() => setOpen(!open)}>
            {open ? "▾" : "▸"}
          </button>
        ) : (
          <span className="wk-wf-toggle" />
        )}
        <button type="button" className={`wk-wf-row${isSelected(bar, selected) ? " selected" : ""}`} aria-label={label} aria-pressed={isSelected(bar, selected)} onClick={() => onSelect({ record: bar.record, step: bar.step })}>
          <span className="wk-wf-name">
            <span className="wk-wf-title">
              <span className={`wk-status-pill ${bar.tone}`}>{bar.status}</span> {bar.title}
            </span>
            <span className="wk-wf-words">{bar.words && bar.words !== bar.status ? bar.words : ""}</span>
          </span>
          <Track bar={bar} />
        </button>
      </div>
      {parts > 0 && open && (
        <ul className="wk-wf-list" aria-label={`Sub-steps of ${bar.title}`}>
          {bar.steps.map((step) => (
            <Row key={step.key} bar={step} depth={depth + 1} selected={selected} onSelect={onSelect} clock={clock} />
          ))}
        </ul>
      )}
      {count > 0 && open && (
        <ol className="wk-wf-list wk-iterations" aria-label={`${count} ${count === 1 ? "iteration" : "iterations"} of ${bar.title}`}>
          {bar.iterations.map((iteration) => (
            <li key={iteration.index} role="group" aria-label={iteration.label}>
              <div className="wk-iteration-title" style={{ paddingLeft: depth * 14 + 22 }}>{iteration.label}</div>
              <ul className="wk-wf-list">
                {iteration.bars.map((child) => (
                  <Row key={child.key} bar={child} depth={depth + 1} selected={selected} onSelect={onSelect} clock={clock} />
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

/** The run's steps on one time axis: each a button (its name, status and words, for a screen reader too)
 * that selects it. */
export function Waterfall({ layout, selected, onSelect, clock }: { layout: Layout; selected: BarSelection | null; onSelect: (s: BarSelection) => void; clock: Clock }) {
  return (
    <section className="wk-waterfall" aria-label="Timeline of the run">
      <div className="wk-wf-line" aria-hidden="true">
        <span className="wk-wf-toggle" />
        <div className="wk-wf-axis">
          <span className="wk-wf-name">{dayAndTime(layout.start, clock)}</span>
          <span className="wk-wf-track">
            {layout.ticks.map((tick) => (
              <span key={tick.left} className="wk-wf-tick" style={{ left: `${tick.left}%` }}>
                {tick.words}
              </span>
            ))}
          </span>
        </div>
      </div>
      <ul className="wk-wf-list" aria-label="Steps of this run">
        {layout.bars.map((bar) => (
          <Row key={bar.key} bar={bar} depth={0} selected={selected} onSelect={onSelect} clock={clock} />
        ))}
      </ul>
      <div className="wk-wf-legend wk-help" aria-hidden="true">
        <span><i className="wk-wf-seg attempt" /> ran</span>
        <span><i className="wk-wf-seg failed" /> failed attempt</span>
        <span><i className="wk-wf-seg backoff" /> waiting to retry</span>
        <span><i className="wk-wf-seg sleep" /> sleeping</span>
        <span><i className="wk-wf-seg wait" /> waiting for an event</span>
      </div>
    </section>
  );
}
