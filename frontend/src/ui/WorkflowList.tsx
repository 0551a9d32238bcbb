import { useEffect, useState } from "react";
import { ApiError, type Api } from "../api";
import type { WorkflowRecord } from "../types";
import { triggerLabel } from "../cron";
import { formatTime } from "./RunsPanel";

export function WorkflowList({ api, onOpen }: { api: Api; onOpen: (id: string) => void }) {
  const [workflows, setWorkflows] = useState<WorkflowRecord[] | null>(null);
  const [name, setName] = useState("");
  const [event, setEvent] = useState("");
  const [kind, setKind] = useState<"event" | "cron">("event");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.workflows().then(setWorkflows, (e: Error) => setError(e.message));
  }, [api]);
  const create = async () => {
    try {
      const trigger = kind === "cron" ? { cron: event.trim() } : { event: event.trim() };
      const created = await api.create(name.trim(), trigger, { name: name.trim(), actions: [], edges: [] });
      onOpen(created.id);
    } catch (e) {
      setError(e instanceof ApiError && e.problems.length ? e.problems.map((p) => `${p.path}: ${p.message}`).join("; ") : (e as Error).message);
    }
  };
  return (
    <main className="wk-home">
      <h1>Automations</h1>
      <form
        className="wk-create"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
        aria-label="New workflow"
      >
        <div className="wk-field">
          <label htmlFor="wk-new-name">Name</label>
          <input id="wk-new-name" value={name} onChange={(e) => setName(e.target.value)} required placeholder="When a post is moved to review" />
        </div>
        <div className="wk-field">
          <label htmlFor="wk-new-kind">Triggered by</label>
          <select id="wk-new-kind" value={kind} onChange={(e) => setKind(e.target.value === "cron" ? "cron" : "event")}>
            <option value="event">an event</option>
            <option value="cron">a schedule (cron)</option>
          </select>
        </div>
        <div className="wk-field">
          <label htmlFor="wk-new-event">{kind === "cron" ? "Schedule" : "Triggered by the event"}</label>
          <input
            id="wk-new-event"
            value={event}
            onChange={(e) => setEvent(e.target.value)}
            required
            placeholder={kind === "cron" ? "TZ=Europe/Paris 0 9 * * 1-5" : "blog-post.updated"}
          />
        </div>
        <button type="submit" className="wk-button primary" disabled={!name.trim() || !event.trim()}>
          New workflow
        </button>
      </form>
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      {workflows && workflows.length === 0 && <p className="wk-help">No workflows yet: create the first one above.</p>}
      {workflows && workflows.length > 0 && (
        <table aria-label="Workflows">
          <thead>
            <tr><th>Name</th><th>Trigger</th><th>Status</th><th>Updated</th></tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <tr key={w.id}>
                <td><button type="button" className="wk-link" onClick={() => onOpen(w.id)}>{w.name}</button></td>
                <td><code>{triggerLabel(w.trigger)}</code></td>
                <td>
                  {w.enabled ? "enabled" : "disabled"} · {w.published_version ? `v${w.published_version}` : "draft"}
                  {w.problems.length > 0 && <span className="wk-problems"> · {w.problems.length} problems</span>}
                </td>
                <td>{formatTime(w.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
