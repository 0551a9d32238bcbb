import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, type Api } from "../api";
import { freePosition, layout, placedPositions, toFlow } from "../flow";
import { defaultInputs, placeProblems } from "../forms";
import { pathFor, samplePaths, schemaPaths } from "../refs";
import { pruneSettings, settingsSegments, unchangedProblems } from "../settingsForm";
import { SOURCE, type ActionDef, type Json, type JsonObject, type Problem, type Trigger, type Workflow, type WorkflowRecord } from "../types";
import {
  addAction,
  connect,
  disconnect,
  EdgeError,
  edgeId,
  removeAction,
  setPosition,
  setPositions,
  updateAction,
  updateEdge,
  upstreamOf,
} from "../workflowOps";
import { ActionPanel } from "./ActionPanel";
import { Canvas } from "./Canvas";
import { EdgePanel } from "./EdgePanel";
import { Palette } from "./Palette";
import type { RefGroup } from "./RefPicker";
import { RunsPanel } from "./RunsPanel";
import { SettingsPanel } from "./SettingsPanel";
import { parseSample, TriggerPanel } from "./TriggerPanel";
import { timerSample, triggerKind } from "../cron";
import { VersionsPanel } from "./VersionsPanel";

type Tab = "edit" | "settings" | "runs" | "versions";

export const LEAVE_QUESTION = "Leave without saving your changes?";

const TAB_NAMES: Record<Tab, string> = { edit: "Edit", settings: "Settings", runs: "Runs", versions: "Versions" };

export interface WorkflowEditorProps {
  api: Api;
  workflowId: string;
  catalog: ActionDef[];
  onOpenRun: (runId: string) => void;
  onBack?: () => void;
  /** Told whether there are unsaved changes (the host asks before it navigates away from them). */
  onDirtyChange?: (dirty: boolean) => void;
}

/** The first predefined edge (e.g. "True", then "False") not yet used from this node. */
function nextPredefinedEdge(workflow: Workflow, from: string, definition: ActionDef | undefined) {
  const used = new Set(workflow.edges.filter((e) => e.from === from).map((e) => e.name));
  return definition?.edges.edges.find((e) => !used.has(e.name)) ?? definition?.edges.edges[0];
}

export function WorkflowEditor({ api, workflowId, catalog, onOpenRun, onBack, onDirtyChange }: WorkflowEditorProps) {
  const byKind = useMemo(() => new Map(catalog.map((a) => [a.kind, a])), [catalog]);
  const [record, setRecord] = useState<WorkflowRecord | null>(null);
  const [draft, setDraft] = useState<Workflow | null>(null);
  const [name, setName] = useState("");
  const [trigger, setTrigger] = useState<Trigger>({ event: "" });
  const [dirty, setDirty] = useState(false);
  const [problems, setProblems] = useState<Problem[]>([]);
  // The flow-control settings: edited here, saved with the draft; the server checks them when saved.
  const [settings, setSettings] = useState<JsonObject>({});
  const [settingsDirty, setSettingsDirty] = useState(false);
  const [settingsProblems, setSettingsProblems] = useState<Problem[]>([]);
  const [settingsSchema, setSettingsSchema] = useState<JsonObject | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>("edit");
  const [sample, setSample] = useState("");
  const [banner, setBanner] = useState<{ kind: "error" | "info" | "conflict"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [fitRequest, setFitRequest] = useState(0);
  const validating = useRef(0);
  // The newest draft, for edits made from handlers created in an earlier render (and several in a row).
  const draftRef = useRef<Workflow | null>(null);
  draftRef.current = draft;

  const load = useCallback(async () => {
    const loaded = await api.workflow(workflowId);
    setRecord(loaded);
    setDraft(loaded.draft);
    setName(loaded.name);
    setTrigger(loaded.trigger);
    setProblems(loaded.problems);
    setSettings(loaded.settings ?? {});
    setSettingsDirty(false);
    setSettingsProblems([]);
    setDirty(false);
    setBanner(null);
    setSample((current) => current || JSON.stringify(sampleFor(loaded.trigger), null, 2));
  }, [api, workflowId]);

  useEffect(() => {
    load().catch((e: Error) => setBanner({ kind: "error", text: e.message }));
  }, [load]);

  // The settings' schema, the first time the settings are shown.
  useEffect(() => {
    if (tab !== "settings" || settingsSchema) return;
    api.settingsSchema().then(setSettingsSchema, (e: Error) => setBanner({ kind: "error", text: e.message }));
  }, [api, tab, settingsSchema]);

  // Live validation: the server's problems for the current draft and trigger, a moment after each edit.
  useEffect(() => {
    if (!draft || !dirty) return;
    const ticket = ++validating.current;
    const timer = setTimeout(() => {
      api.validate(draft, trigger).then(
        (found) => ticket === validating.current && setProblems(found),
        () => undefined,
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [api, draft, trigger, dirty]);

  useEffect(() => onDirtyChange?.(dirty), [onDirtyChange, dirty]);
  useEffect(() => () => onDirtyChange?.(false), [onDirtyChange]);

  // The unsaved-changes guard for the page.
  useEffect(() => {
    if (!dirty) return;
    const guard = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);

  /** The draft becomes `next` (unsaved), at once for handlers that run before the next render. */
  const changeDraft = (next: Workflow) => {
    draftRef.current = next;
    setDraft(next);
    setDirty(true);
  };

  const edit = (change: (workflow: Workflow) => Workflow) => {
    const current = draftRef.current;
    if (!current) return;
    try {
      changeDraft(change(current));
    } catch (error) {
      setBanner({ kind: "error", text: error instanceof EdgeError ? error.message : (error as Error).message });
    }
  };

  /** A rejected change's problems: those of the settings go to the settings' fields, the others to the draft. */
  const showProblems = (found: Problem[]) => {
    const forSettings = found.filter((p) => settingsSegments(p.path) !== null);
    const rest = found.filter((p) => settingsSegments(p.path) === null);
    setSettingsProblems(forSettings);
    if (rest.length || !forSettings.length) setProblems(rest);
    return forSettings.length;
  };

  const editSettings = (next: JsonObject) => {
    setSettingsProblems((current) => unchangedProblems(current, settings, next));
    setSettings(next);
    setSettingsDirty(true);
    setDirty(true);
  };

  const placed = useMemo(() => placeProblems(problems, draft ?? { actions: [], edges: [] }), [problems, draft]);
  const flow = useMemo(
    () => (draft ? toFlow(draft, { catalog: byKind, trigger, problems: placed, selected }) : { nodes: [], edges: [] }),
    [draft, byKind, trigger, placed, selected],
  );

  const sampleEvent = parseSample(sample).value;
  const refGroupsFor = (upstream: string[], outputOf?: string): RefGroup[] => {
    const groups: RefGroup[] = [];
    if (outputOf && outputOf !== SOURCE) {
      const definition = byKind.get(draft?.actions.find((a) => a.id === outputOf)?.kind ?? "");
      if (definition) groups.push({ title: `Output of ${outputOf} (this connection's source)`, targets: schemaPaths(definition.outputs, "$.output", "output") });
    }
    const event = sampleEvent && typeof sampleEvent === "object" && !Array.isArray(sampleEvent) ? sampleEvent : null;
    groups.push(
      event
        ? { title: "Trigger event", targets: samplePaths(event as Json, "$.event", "event").filter((t) => t.path !== "$.event") }
        : {
            title: "Trigger event",
            hint: "Paste or pick a sample event in the trigger's settings to see its fields.",
            targets: [
              { path: "$.event.data", label: "event.data", type: "object" },
              { path: "$.event.name", label: "event.name", type: "string" },
            ],
          },
    );
    for (const id of upstream) {
      const definition = byKind.get(draft?.actions.find((a) => a.id === id)?.kind ?? "");
      if (definition) groups.push({ title: `Output of ${id}`, targets: schemaPaths(definition.outputs, pathFor("$.state", [id]), id) });
    }
    return groups;
  };

  const addKind = (kind: string, position?: { x: number; y: number }) => {
    if (!draftRef.current) return;
    // every node keeps where it is drawn now (dagre placed those without a position), so none moves under the new one
    const draft = setPositions(draftRef.current, placedPositions(draftRef.current));
    const definition = byKind.get(kind);
    const parent = position ? undefined : selected && !selected.includes("->") ? selected : undefined;
    const parentDef = parent && parent !== SOURCE ? byKind.get(draft.actions.find((a) => a.id === parent)?.kind ?? "") : undefined;
    const edge = parent ? nextPredefinedEdge(draft, parent, parentDef) : undefined;
    const at = position ?? freePosition(draft, parent);
    try {
      const result = addAction(draft, kind, {
        position: at,
        parent,
        edge: edge ? { name: edge.name, conditional: edge.conditional } : undefined,
        inputs: definition ? (defaultInputs(definition.inputs) as Record<string, Json>) : {},
      });
      changeDraft(result.workflow);
      setSelected(result.id);
      setTab("edit");
    } catch (error) {
      setBanner({ kind: "error", text: (error as Error).message });
    }
  };

  const save = async (): Promise<WorkflowRecord | null> => {
    if (!record || !draft) return null;
    setBusy(true);
    try {
      const change = settingsDirty ? { settings: pruneSettings(settings) } : {};
      const saved = await api.update(workflowId, { name, trigger, workflow: draft, ...change }, record.version);
      setRecord(saved);
      setProblems(saved.problems);
      setSettings(saved.settings ?? {});
      setSettingsDirty(false);
      setSettingsProblems([]);
      setDirty(false);
      onDirtyChange?.(false); // now, not after the next render: a test run opens its run right after
      setBanner({ kind: "info", text: `Saved (version ${saved.version}).` });
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        setBanner({ kind: "conflict", text: "Someone else changed this workflow since you opened it." });
      } else if (error instanceof ApiError && error.problems.length) {
        const inSettings = showProblems(error.problems);
        const where = inSettings && tab !== "settings" ? " See the Settings tab." : "";
        setBanner({ kind: "error", text: `${error.message}${where}` });
      } else setBanner({ kind: "error", text: (error as Error).message });
      return null;
    } finally {
      setBusy(false);
    }
  };

  const publish = async () => {
    const saved = dirty ? await save() : record;
    if (!saved) return;
    setBusy(true);
    try {
      const version = await api.publish(workflowId, saved.version);
      setRecord(await api.workflow(workflowId));
      setBanner({ kind: "info", text: `Published version ${version.number}.` });
    } catch (error) {
      if (error instanceof ApiError && error.problems.length) showProblems(error.problems);
      setBanner({ kind: error instanceof ApiError && error.status === 409 ? "conflict" : "error", text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const toggleEnabled = async () => {
    if (!record) return;
    setBusy(true);
    try {
      const updated = await api.setEnabled(workflowId, !record.enabled);
      setRecord({ ...record, enabled: updated.enabled, version: updated.version, next_tick_at: updated.next_tick_at });
      const starts = triggerKind(updated.trigger) === "cron" ? "each tick of its schedule now starts a run" : "matching events now start runs";
      setBanner({ kind: "info", text: updated.enabled ? `Enabled: ${starts}.` : "Disabled." });
    } catch (error) {
      setBanner({ kind: "error", text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const testRun = async () => {
    const saved = dirty ? await save() : record;
    if (!saved) return;
    const parsed = parseSample(sample);
    if (parsed.error) {
      setBanner({ kind: "error", text: `The sample event is not JSON: ${parsed.error}` });
      return;
    }
    const value = (parsed.value ?? {}) as { name?: string; data?: Json };
    setBusy(true);
    try {
      const eventName = value.name || sampleFor(trigger).name || "workflow/test";
      onOpenRun(await api.test(workflowId, { name: eventName, data: value.data ?? {} }));
    } catch (error) {
      if (error instanceof ApiError && error.problems.length) showProblems(error.problems);
      setBanner({ kind: "error", text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  // Leaving asks first when there are unsaved changes: the host's guard when it has one (the Studio's
  // covers every way out), this one otherwise.
  const leave = () => {
    if (!onDirtyChange && dirty && !window.confirm(LEAVE_QUESTION)) return;
    onBack?.();
  };

  if (!draft || !record) {
    return (
      <div className="wk-home" role="status">
        {banner ? <div className="wk-banner error">{banner.text}</div> : "Loading…"}
      </div>
    );
  }

  const selectedAction = draft.actions.find((a) => a.id === selected);
  const selectedEdge = draft.edges.find((e) => edgeId(e) === selected);
  const problemCount = problems.length + settingsProblems.length;
  return (
    <>
      <div className="wk-toolbar" role="toolbar" aria-label="Workflow">
        {onBack && (
          <button type="button" className="wk-button" onClick={leave}>← Workflows</button>
        )}
        <label className="wk-visually-hidden" htmlFor="wk-workflow-name">Workflow name</label>
        <input
          id="wk-workflow-name"
          className="wk-title"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setDirty(true);
          }}
        />
        {dirty && <span className="wk-badge warn" role="status">Unsaved changes</span>}
        <span className={`wk-badge ${problemCount ? "danger" : "ok"}`} role="status" aria-live="polite" data-testid="problem-count">
          {problemCount ? `${problemCount} problem${problemCount > 1 ? "s" : ""}` : "No problems"}
        </span>
        <span className="wk-badge" data-testid="published">
          {record.published_version ? `Published v${record.published_version}` : "Not published"}
        </span>
        <span className="wk-spacer" />
        <button type="button" className="wk-button" onClick={() => {
            edit((w) => setPositions(w, layout(w)));
            setFitRequest((n) => n + 1);
          }}>Auto layout</button>
        <button type="button" className="wk-button" onClick={() => void save()} disabled={busy || !dirty}>Save</button>
        <button type="button" className="wk-button primary" onClick={() => void publish()} disabled={busy}>Publish</button>
        <button
          type="button"
          className={`wk-button wk-switch${record.enabled ? " on" : ""}`}
          role="switch"
          aria-checked={record.enabled}
          title={record.enabled ? "Enabled: matching events start runs" : "Disabled: nothing starts runs"}
          onClick={() => void toggleEnabled()}
          disabled={busy}
        >
          <span className="wk-switch-track" aria-hidden="true"><span className="wk-switch-thumb" /></span>
          Enabled
        </button>
      </div>
      {banner && (
        <div className={`wk-banner ${banner.kind}`} role={banner.kind === "info" ? "status" : "alert"}>
          <span>{banner.text}</span>
          {banner.kind === "conflict" && (
            <>
              <button type="button" className="wk-button" onClick={() => void load()}>Reload (discard my changes)</button>
              <button
                type="button"
                className="wk-button"
                onClick={async () => {
                  const latest = await api.workflow(workflowId);
                  setRecord(latest);
                  setBanner({ kind: "info", text: "Your changes are kept; save again to overwrite theirs." });
                }}
              >
                Keep my changes
              </button>
            </>
          )}
          <span className="wk-spacer" />
          <button type="button" className="wk-link" onClick={() => setBanner(null)} aria-label="Dismiss">×</button>
        </div>
      )}
      {placed.workflow.length > 0 && (
        <div className="wk-banner error" aria-label="Problems with the workflow">
          {placed.workflow.map((p) => p.message).join(" · ")}
        </div>
      )}
      <div className="wk-body">
        <Palette actions={catalog} onAdd={(kind) => addKind(kind)} />
        <Canvas
          fitRequest={fitRequest}
          nodes={flow.nodes}
          edges={flow.edges}
          onSelect={(id) => {
            setSelected(id);
            if (id) setTab("edit");
          }}
          onConnect={(from, to) =>
            edit((w) => {
              const fromDef = from === SOURCE ? undefined : byKind.get(w.actions.find((a) => a.id === from)?.kind ?? "");
              const predefined = nextPredefinedEdge(w, from, fromDef);
              return connect(w, from, to, predefined ? { name: predefined.name, conditional: predefined.conditional } : {});
            })
          }
          onMove={(positions) => edit((w) => Object.entries(positions).reduce((acc, [id, p]) => setPosition(acc, id, p), w))}
          onDeleteNodes={(ids) => {
            edit((w) => ids.reduce((acc, id) => removeAction(acc, id), w));
            setSelected(null);
          }}
          onDeleteEdges={(ids) => edit((w) => w.edges.filter((e) => ids.includes(edgeId(e))).reduce((acc, e) => disconnect(acc, e.from, e.to), w))}
          onDropAction={(kind, position) => addKind(kind, position)}
        />
        <aside className="wk-side" aria-label="Details">
          <div className="wk-tabs" role="tablist" aria-label="Panels">
            {(["edit", "settings", "runs", "versions"] as Tab[]).map((t) => (
              <button
                key={t}
                id={`wk-tab-${t}`}
                type="button"
                role="tab"
                aria-selected={tab === t}
                aria-controls="wk-side-panel"
                onClick={() => setTab(t)}
              >
                {TAB_NAMES[t]}
                {t === "settings" && settingsProblems.length > 0 && (
                  <span className="wk-tab-count" aria-label={`, ${settingsProblems.length} problem${settingsProblems.length > 1 ? "s" : ""}`}>
                    {settingsProblems.length}
                  </span>
                )}
              </button>
            ))}
          </div>
          <div role="tabpanel" id="wk-side-panel" aria-labelledby={`wk-tab-${tab}`}>
            {tab === "settings" && (
              <SettingsPanel schema={settingsSchema} value={settings} problems={settingsProblems} onChange={editSettings} />
            )}
            {tab === "runs" && <RunsPanel api={api} workflowId={workflowId} onOpen={onOpenRun} onTest={() => void testRun()} testing={busy} />}
            {tab === "versions" && (
              <VersionsPanel
                api={api}
                workflowId={workflowId}
                published={record.published_version}
                onRestore={(workflow, number) => {
                  changeDraft(workflow);
                  setBanner({ kind: "info", text: `Version ${number} loaded into the draft: save to keep it.` });
                  setTab("edit");
                }}
              />
            )}
            {tab === "edit" &&
              (selectedAction ? (
                <ActionPanel
                  key={selectedAction.id}
                  workflow={draft}
                  action={selectedAction}
                  definition={byKind.get(selectedAction.kind)}
                  problems={placed.actions[selectedAction.id] ?? []}
                  refGroups={refGroupsFor(upstreamOf(draft, selectedAction.id))}
                  onChange={(change) => edit((w) => updateAction(w, selectedAction.id, change))}
                  onConnectFrom={(from) => edit((w) => connect(w, from, selectedAction.id))}
                  onDisconnect={(from) => edit((w) => disconnect(w, from, selectedAction.id))}
                  onDelete={() => {
                    edit((w) => removeAction(w, selectedAction.id));
                    setSelected(null);
                  }}
                />
              ) : selectedEdge ? (
                <EdgePanel
                  key={edgeId(selectedEdge)}
                  edge={selectedEdge}
                  problems={placed.edges[edgeId(selectedEdge)] ?? []}
                  refGroups={refGroupsFor(selectedEdge.from === SOURCE ? [] : [...upstreamOf(draft, selectedEdge.from), selectedEdge.from], selectedEdge.from)}
                  onChange={(change) => edit((w) => updateEdge(w, selectedEdge.from, selectedEdge.to, change))}
                  onDelete={() => {
                    edit((w) => disconnect(w, selectedEdge.from, selectedEdge.to));
                    setSelected(null);
                  }}
                />
              ) : (
                <TriggerPanel
                  api={api}
                  trigger={trigger}
                  problems={placed.trigger}
                  nextTickAt={dirty ? undefined : record.next_tick_at}
                  sample={sample}
                  onTrigger={(next) => {
                    setTrigger(next);
                    setDirty(true);
                  }}
                  onSample={setSample}
                />
              ))}
          </div>
        </aside>
      </div>
    </>
  );
}

/** The sample event a trigger suggests: its event with empty data, or a tick's timer event. */
function sampleFor(trigger: Trigger): { name: string; data: Json } {
  if (triggerKind(trigger) === "cron") return timerSample(trigger.cron ?? "");
  return { name: (trigger.event ?? "").replace(/[./]\*$/, ""), data: {} };
}
