import { useCallback, useEffect, useMemo, useState } from "react";
import type { Api } from "../api";
import { payloadText, sentAt, statusWords, type EventRuns, type RunLink } from "../history";
import { dayAndTime, fullTime, timeAgo } from "../time";
import type { WorkflowRecord } from "../types";
import { useCursorPages } from "./useCursorPages";

/** A run an event links to: the workflow's name and the run's status, opening the run. */
function RunButton({ link, name, onOpen }: { link: RunLink; name: string; onOpen: (link: RunLink) => void }) {
  return (
    <button type="button" className="wk-link" onClick={() => onOpen(link)}>
      {name} <span className={`wk-status-pill ${link.status}`}>{statusWords(link.status)}</span>
      {link.test && <span className="wk-badge warn"> Test</span>}
    </button>
  );
}

/** Every event the tenant received, newest first, each with the runs it started; one opens to its
 * payload and the runs it started or resumed. */
export function EventsPage({ api, onOpenRun, onBack }: { api: Api; onOpenRun: (link: RunLink) => void; onBack: () => void }) {
  const [workflows, setWorkflows] = useState<WorkflowRecord[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [found, setFound] = useState<{ id: string; runs: EventRuns } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [runUpdates, setRunUpdates] = useState(false);
  const system = runUpdates ? undefined : false; // the kit's own "a run ended" events, on request

  const fetchPage = useCallback((cursor?: string) => api.eventPage(cursor ?? null, 50, system), [api, system]);
  const { items: events, hasMore, more } = useCursorPages(fetchPage, setError);
  useEffect(() => {
    api.workflows().then(setWorkflows, (e: Error) => setError(e.message));
  }, [api]);
  useEffect(() => {
    if (!open) return;
    api.eventRuns(open).then(
      (runs) => setFound({ id: open, runs }),
      (e: Error) => setError(e.message),
    );
  }, [api, open]);
  const links = found && found.id === open ? found.runs : null;

  const names = useMemo(() => new Map(workflows.map((w) => [w.id, w.name])), [workflows]);
  const nameOf = (link: RunLink) => names.get(link.workflow_id) ?? "A deleted workflow";
  return (
    <main className="wk-home wk-history" aria-label="Received events">
      <div className="wk-history-head">
        <button type="button" className="wk-link" onClick={onBack}>← Workflows</button>
        <h1>Events</h1>
        <div className="wk-check">
          <label>
            <input type="checkbox" checked={runUpdates} onChange={(e) => setRunUpdates(e.target.checked)} />
            Show run updates (the events sent when a run ends)
          </label>
        </div>
      </div>
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      {events && events.length === 0 && <p className="wk-help">No events received yet.</p>}
      {events && events.length > 0 && (
        <table className="wk-table" aria-label="Events">
          <thead>
            <tr><th>Event</th><th>Received</th><th>Runs it started</th></tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id} className={open === event.id ? "wk-open" : undefined}>
                <td>
                  <button type="button" className="wk-link wk-row-title" aria-expanded={open === event.id} onClick={() => setOpen(open === event.id ? null : event.id)}>
                    {event.name}
                  </button>
                  {event.duplicate && <span className="wk-badge"> Duplicate</span>}
                  {open === event.id && (
                    <div className="wk-event-detail" aria-label="Event details">
                      {sentAt(event.event) !== null && <p className="wk-help">Sent {dayAndTime(sentAt(event.event))}</p>}
                      <h2>What it carried</h2>
                      <pre className="wk-json">{payloadText(event.event)}</pre>
                      <h2>Runs it started</h2>
                      {links === null && <p className="wk-help">Loading…</p>}
                      {links && !links.started?.length && <p className="wk-help">None.</p>}
                      <ul className="wk-plain-list">
                        {links?.started?.map((link) => (
                          <li key={link.id}><RunButton link={link} name={nameOf(link)} onOpen={onOpenRun} /> <span className="wk-help" title={fullTime(link.created_at)}>{dayAndTime(link.created_at)}</span></li>
                        ))}
                      </ul>
                      {!!links?.resumed?.length && (
                        <>
                          <h2>Runs it resumed (they were waiting for it)</h2>
                          <ul className="wk-plain-list">
                            {links.resumed.map((link) => (
                              <li key={link.id}><RunButton link={link} name={nameOf(link)} onOpen={onOpenRun} /></li>
                            ))}
                          </ul>
                        </>
                      )}
                    </div>
                  )}
                </td>
                <td title={fullTime(event.received_at)}>{dayAndTime(event.received_at)} <span className="wk-help">({timeAgo(event.received_at)})</span></td>
                <td>
                  {event.runs?.length ? (
                    <ul className="wk-plain-list">
                      {event.runs.map((link) => (
                        <li key={link.id}><RunButton link={link} name={nameOf(link)} onOpen={onOpenRun} /></li>
                      ))}
                    </ul>
                  ) : (
                    <span className="wk-help">None</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasMore && <button type="button" className="wk-button" onClick={() => void more()}>Load more</button>}
    </main>
  );
}
