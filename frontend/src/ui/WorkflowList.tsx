import { useCallback, useEffect, useState } from "react";
import { ApiError, type Api } from "../api";
import { connectInPopup, usedConnections } from "../connections";
import { triggerKind, triggerLabel } from "../cron";
import type { Catalog } from "../names";
import { triggersSentence } from "../triggers";
import { fullTime, timeAgo } from "../time";
import type { ConnectionRecord, Trigger, WorkflowRecord } from "../types";
import type { NewWorkflow } from "./editor/useEditorCommands";
import { StartDialog } from "./start/StartDialog";
import { StartView } from "./start/StartView";
import { WorkspaceSettings } from "./WorkspaceSettings";

/** How a workflow's triggers read in the list: "When blog-post.updated", "Every day at 09:00 (UTC)";
 * several: "When blog-post.updated, only when a condition holds, or every day at 09:00 (UTC)". */
export function triggerText(record: Pick<WorkflowRecord, "triggers">): string {
  const [trigger = {}] = record.triggers;
  if (record.triggers.length > 1) return triggersSentence(record.triggers);
  const label = triggerLabel(trigger);
  if (triggerKind(trigger) === "cron") return label;
  return `When ${label}${trigger.if ? ", with a condition" : ""}`;
}

/** Where a workflow stands: enabled or not, published or not, unpublished changes. */
export function statusText(record: WorkflowRecord): string {
  const parts = [record.enabled ? "Enabled" : "Disabled"];
  parts.push(record.published_version ? `v${record.published_version}` : "not published yet");
  if (record.published_version && record.draft_changed) parts.push("draft changes");
  return parts.join(" · ");
}

function LastRun({ record }: { record: WorkflowRecord }) {
  const run = record.last_run;
  if (!run) return <span className="wk-help">No runs yet</span>;
  return (
    <span title={fullTime(run.created_at)}>
      <span className={`wk-status-pill ${run.status}`}>{run.status}</span> {timeAgo(run.ended_at ?? run.created_at)}
    </span>
  );
}

export interface WorkflowListProps {
  api: Api;
  catalog: Catalog;
  /** Drafting from words is available (the host configured an AI model). */
  assistant?: boolean;
  onOpen: (id: string) => void;
  /** A new workflow from a template or an accepted draft: the editor opens on it, not stored yet. */
  onNew: (start: NewWorkflow) => void;
}

/** The home: every workflow with its status, its last run and its failures of the last day; "New
 * workflow" (from scratch, from a template, or described in words, in one dialog), duplicate, enable or
 * disable, delete (after a confirmation); the workspace's settings. */
export function WorkflowList({ api, catalog, assistant = false, onOpen, onNew }: WorkflowListProps) {
  const [workflows, setWorkflows] = useState<WorkflowRecord[] | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [workspace, setWorkspace] = useState(false);
  const [broken, setBroken] = useState<ConnectionRecord[]>([]);
  const [brokenLoads, setBrokenLoads] = useState(0);
  useEffect(() => {
    let gone = false;
    api.connections().then(
      (found) => !gone && setBroken(found.filter((c) => c.status === "broken")),
      () => !gone && setBroken([]), // a token without the connections scope: nothing to reconnect from here
    );
    return () => {
      gone = true;
    };
  }, [api, brokenLoads]);
  const brokenIds = new Set(broken.map((c) => c.id));

  const refresh = useCallback(async () => {
    try {
      setWorkflows(await api.workflows());
    } catch (e) {
      setError((e as Error).message);
    }
  }, [api]);
  useEffect(() => {
    let gone = false;
    api.workflows().then(
      (found) => !gone && setWorkflows(found),
      (e: Error) => !gone && setError(e.message),
    );
    return () => {
      gone = true;
    };
  }, [api]);

  /** From scratch: the record is made at once, empty, with its name and trigger. */
  const fromScratch = async (name: string, trigger: Trigger) => {
    const created = await api.create(name, [trigger], { name, actions: [], edges: [] });
    onOpen(created.id);
  };

  const act = async (id: string, what: () => Promise<string | null>) => {
    setBusy(id);
    setError(null);
    try {
      setNotice(await what());
      await refresh();
    } catch (e) {
      const unpublished = e instanceof ApiError && e.problems.some((p) => p.code === "not_published");
      setError(unpublished ? "Publish it first: open it and press Publish." : (e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const duplicate = (record: WorkflowRecord) =>
    act(record.id, async () => {
      const copy = await api.create(`${record.name} (copy)`, record.triggers, record.draft, record.description, record.settings);
      return `Duplicated as “${copy.name}” (a draft, not enabled).`;
    });

  return (
    <main className="wk-home">
      <div className="wk-home-header">
        <h1>Automations</h1>
        <button type="button" className="wk-button wk-workspace-toggle" aria-expanded={workspace} onClick={() => setWorkspace(!workspace)}>
          Workspace settings
        </button>
        <button type="button" className="wk-button primary" aria-haspopup="dialog" onClick={() => setStarting(true)}>
          New workflow
        </button>
      </div>
      {workspace && <WorkspaceSettings api={api} />}
      {starting && (
        <StartDialog title="New workflow" onClose={() => setStarting(false)}>
          <StartView api={api} catalog={catalog} assistant={assistant} onScratch={fromScratch} onStart={onNew} />
        </StartDialog>
      )}
      {workflows?.length === 0 && !starting && (
        // the first run: no workflow yet, the ways to start are on the page itself
        <section className="wk-first-run" aria-labelledby="wk-first-run-title">
          <h2 id="wk-first-run-title">Start your first workflow</h2>
          <StartView api={api} catalog={catalog} assistant={assistant} onScratch={fromScratch} onStart={onNew} />
        </section>
      )}
      {error && <div className="wk-banner error" role="alert">{error}</div>}
      {notice && <div className="wk-banner info" role="status">{notice}</div>}
      {workflows && workflows.length > 0 && (
        <table aria-label="Workflows" className="wk-table">
          <thead>
            <tr><th>Name</th><th>Status</th><th>Last run</th><th>Failures (24 h)</th><th><span className="wk-visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <tr key={w.id}>
                <td>
                  <button type="button" className="wk-link wk-row-title" id={`wk-row-${w.id}`} onClick={() => onOpen(w.id)}>{w.name}</button>
                  <div className="wk-help">{triggerText(w)}</div>
                </td>
                <td>
                  {statusText(w)}
                  {w.problems.length > 0 && <div className="wk-problems">{w.problems.length} problem{w.problems.length > 1 ? "s" : ""} in the draft</div>}
                  {broken
                    .filter((c) => brokenIds.size > 0 && usedConnections(w.draft, brokenIds).has(c.id))
                    .map((c) => (
                      <div className="wk-workflow-reconnect" key={c.id}>
                        <span>{c.name} stopped working</span>
                        <button
                          type="button"
                          className="wk-link"
                          disabled={busy === w.id}
                          aria-describedby={`wk-row-${w.id}`}
                          onClick={() =>
                            void act(w.id, async () => {
                              const report = await connectInPopup(() => api.reconnect(c.id));
                              setBrokenLoads((n) => n + 1);
                              if (report.status !== "ok") throw new Error(report.message ?? "The account was not reconnected.");
                              return `Reconnected ${c.name}.`;
                            })
                          }
                        >
                          Reconnect
                        </button>
                      </div>
                    ))}
                </td>
                <td><LastRun record={w} /></td>
                <td className={w.failures_24h ? "wk-failures" : undefined}>{w.failures_24h ?? 0}</td>
                <td className="wk-row-actions">
                  {confirming === w.id ? (
                    <span className="wk-confirm" role="alertdialog" aria-label="Delete this workflow?">
                      <span>Delete “{w.name}”? Its past runs stay readable.</span>
                      <button
                        type="button"
                        className="wk-button danger"
                        disabled={busy === w.id}
                        onClick={() => {
                          setConfirming(null);
                          void act(w.id, async () => {
                            await api.remove(w.id);
                            return `Deleted “${w.name}”.`;
                          });
                        }}
                      >
                        Delete
                      </button>
                      <button type="button" className="wk-button" onClick={() => setConfirming(null)}>Cancel</button>
                    </span>
                  ) : (
                    <>
                      <button type="button" className="wk-link" disabled={busy === w.id} onClick={() => void duplicate(w)} aria-describedby={`wk-row-${w.id}`}>
                        Duplicate
                      </button>
                      <button
                        type="button"
                        className="wk-link"
                        disabled={busy === w.id}
                        aria-describedby={`wk-row-${w.id}`}
                        onClick={() =>
                          void act(w.id, async () => {
                            const updated = await api.setEnabled(w.id, !w.enabled);
                            return updated.enabled ? `Enabled “${w.name}”.` : `Disabled “${w.name}”: nothing starts new runs.`;
                          })
                        }
                      >
                        {w.enabled ? "Disable" : "Enable"}
                      </button>
                      <button type="button" className="wk-link danger" disabled={busy === w.id} onClick={() => setConfirming(w.id)} aria-describedby={`wk-row-${w.id}`}>
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
