import { humanize } from "../forms";
import { isHandled, NOT_RUN, statusTone, statusWords } from "../runs";
import { dayAndTime, durationWords, fullTime, type Clock } from "../time";
import type { ActionRecord, Attempt, RunStatus, StepRecord } from "../types";
import { stepTitle, suspendedWords, type Now } from "../waterfall";

/** An error as an end user reads it: its message, with steps by name (the exception's class name and
 * the ids are for developers). */
export type ErrorText = (error: { message: string }) => string;

export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="wk-pre" aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** A moment with its full date on hover. */
export function Moment({ ms, clock }: { ms: number | null | undefined; clock: Clock }) {
  return <time title={fullTime(ms, clock)}>{dayAndTime(ms, clock)}</time>;
}

function Attempts({ attempts, errorText, clock }: { attempts: Attempt[]; errorText: ErrorText; clock: Clock }) {
  if (attempts.length === 0) return null;
  return (
    <>
      <h4>Attempts</h4>
      <ol className="wk-attempts">
        {attempts.map((a, i) => (
          <li key={i}>
            <Moment ms={a.started_at} clock={clock} /> · {durationWords(a.ended_at - a.started_at)}
            {a.error ? ` — failed: ${errorText(a.error)}` : " — ok"}
            {a.error && attempts[i + 1] && <div className="wk-help">then waited {durationWords(attempts[i + 1].started_at - a.ended_at)} before retrying</div>}
          </li>
        ))}
      </ol>
    </>
  );
}

/** When it ran: "Started Today 14:03:12 · took 1.2 s". */
function When({ start, end, clock }: { start: number | null | undefined; end: number | null | undefined; clock: Clock }) {
  if (!start) return null;
  return (
    <div className="wk-help">
      Started <Moment ms={start} clock={clock} />
      {end ? ` · took ${durationWords(end - start)}` : ""}
    </div>
  );
}

/** A step's details, first what matters: its error, inputs, output and attempts, then its sub-steps. */
export function ActionDetails({ record, title, runStatus, errorText, clock, onSelectStep }: {
  record: ActionRecord;
  title: string;
  runStatus: RunStatus;
  errorText: ErrorText;
  clock: Now;
  onSelectStep: (index: number) => void;
}) {
  const handled = isHandled(record);
  const steps = record.steps ?? [];
  const error = record.error ?? (handled ? (record.output as { error: { message: string } }).error : null);
  const words = statusWords(record, runStatus);
  return (
    <div className="wk-run-details" aria-label={`Timeline of ${title}`}>
      <h3>
        {title} <span className={`wk-status-pill ${statusTone(record, runStatus)}`}>{words}</span>
      </h3>
      {words === NOT_RUN && <div className="wk-help">The run ended before it got to this step.</div>}
      {handled && <div className="wk-help">This step failed, and the workflow handled it: the run went on.</div>}
      <When start={record.started_at ?? record.attempts?.[0]?.started_at} end={record.ended_at} clock={clock} />
      {error && (
        <>
          <h4>Error</h4>
          <div className="wk-problems" role={handled ? undefined : "alert"}>
            {errorText(error)}
          </div>
        </>
      )}
      {record.inputs && (
        <>
          <h4>Inputs</h4>
          <JsonBlock value={record.inputs} label="inputs" />
        </>
      )}
      {record.status === "completed" && (
        <>
          <h4>Output</h4>
          <JsonBlock value={record.output} label="output" />
        </>
      )}
      <Attempts attempts={record.attempts ?? []} errorText={errorText} clock={clock} />
      {steps.length > 0 && (
        <>
          <h4>Steps</h4>
          <ul className="wk-list">
            {steps.map((step, index) => (
              <li key={step.key}>
                <button type="button" className="wk-row" onClick={() => onSelectStep(index)}>
                  <span className={`wk-status-pill ${step.status}`}>{step.status}</span> {stepTitle(step)}
                  <span className="wk-help">{suspendedWords(step, clock) ?? ((step.attempts?.length ?? 0) > 1 ? `${step.attempts?.length} attempts` : "")}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** A sub-step's details (a handler's `ctx.step` call): what it waited for, its error, output and attempts. */
export function StepDetails({ step, actionTitle, errorText, clock, onBack }: {
  step: StepRecord;
  actionTitle: string;
  errorText: ErrorText;
  clock: Now;
  onBack: () => void;
}) {
  const title = stepTitle(step);
  const waiting = suspendedWords(step, clock);
  return (
    <div className="wk-run-details" aria-label={`Timeline of ${title}`}>
      <button type="button" className="wk-link" onClick={onBack}>
        ← {actionTitle}
      </button>
      <h3>
        {title} <span className={`wk-status-pill ${step.status}`}>{step.status}</span>
      </h3>
      <div className="wk-help">A part of “{actionTitle}” ({humanize(step.kind)})</div>
      {waiting && <div>{waiting[0].toUpperCase() + waiting.slice(1)}</div>}
      {step.wait && step.status !== "waiting" && <div className="wk-help">Waited for {step.wait.event}, from <Moment ms={step.wait.registered_at} clock={clock} /></div>}
      {step.error && (
        <>
          <h4>Error</h4>
          <div className="wk-problems">{errorText(step.error)}</div>
        </>
      )}
      {step.status === "completed" && step.output !== undefined && step.output !== null && (
        <>
          <h4>Output</h4>
          <JsonBlock value={step.output} label={`output of ${title}`} />
        </>
      )}
      <Attempts attempts={step.attempts ?? []} errorText={errorText} clock={clock} />
    </div>
  );
}
