// The side panel's tabs: the selected step, connection or the trigger ("Edit"), the flow-control
// settings, the runs and the versions. Each tab's content is behind an error boundary: one that fails to
// draw says so, and the canvas, the toolbar and the draft carry on.

import { useEffect, useState } from "react";
import type { Api } from "../../api";
import type { DataGroup } from "../../dataFields";
import type { WorkflowDocument } from "../../document";
import type { PlacedProblems } from "../../forms";
import type { Catalog } from "../../names";
import type { Selection } from "../../selection";
import { settingsSegments } from "../../settingsForm";
import type { Json, JsonObject, Problem, Version, WorkflowRecord } from "../../types";
import { keepSampleOutput } from "../../samples";
import { connectAnywhere, disconnectAnywhere, findAction, findEdge, removeAnywhere, updateActionAnywhere, updateBody, updateEdgeAnywhere } from "../../scopes";
import { edgeId } from "../../workflowOps";
import { ActionPanel } from "../ActionPanel";
import { EdgePanel } from "../EdgePanel";
import { ErrorBoundary } from "../ErrorBoundary";
import { RunsPanel } from "../RunsPanel";
import { SettingsPanel } from "../SettingsPanel";
import { TriggerPanel } from "../TriggerPanel";
import { VersionsPanel } from "../VersionsPanel";
import type { WorkflowDocumentHandle } from "./useWorkflowDocument";

export type Tab = "edit" | "settings" | "runs" | "versions";
const TAB_NAMES: Record<Tab, string> = { edit: "Edit", settings: "Settings", runs: "Runs", versions: "Versions" };

export interface SidePanelProps {
  api: Api;
  /** None for a new workflow not stored yet (no runs, no step tests, no webhook address). */
  workflowId: string | null;
  tab: Tab;
  onTab: (tab: Tab) => void;
  selection: Selection | null;
  document: WorkflowDocument;
  record: WorkflowRecord;
  versions: Version[] | null;
  catalog: Catalog;
  problems: Problem[];
  placed: PlacedProblems;
  groups: DataGroup[];
  sample: string;
  onSample: (sample: string) => void;
  /** The sample event, parsed (null when it is not JSON). */
  sampleEvent: Json | null;
  /** The examples declared for the trigger's event, as events. */
  examples: Array<{ name: string; data: JsonObject }>;
  focus: { field: Array<string | number>; seq: number } | null;
  busy: boolean;
  doc: WorkflowDocumentHandle;
  onSelect: (selection: Selection | null) => void;
  onAddAfter: (id: string, anchor: HTMLElement) => void;
  onAddOnFailure: (id: string, anchor: HTMLElement) => void;
  onOpenRun: (runId: string) => void;
  onTestRun: () => void;
  onPublish: (message: string) => void;
  onRestored: (number: number) => void;
}

export function SidePanel(props: SidePanelProps) {
  const { api, tab, selection, document, catalog, doc } = props;
  const [settingsSchema, setSettingsSchema] = useState<JsonObject | null>(null);
  const [schemaError, setSchemaError] = useState<string | null>(null);
  const wantsSchema = tab === "settings" && !settingsSchema;
  useEffect(() => {
    if (!wantsSchema) return;
    let gone = false;
    api.settingsSchema().then(
      (schema) => !gone && setSettingsSchema(schema),
      (e: Error) => !gone && setSchemaError(e.message),
    );
    return () => {
      gone = true;
    };
  }, [api, wantsSchema]);

  const settingsProblems = props.problems.filter((p) => settingsSegments(p.path) !== null);
  const workflow = document.workflow;
  const action = selection?.kind === "action" ? findAction(workflow, selection.id) : undefined;
  const edge = selection?.kind === "edge" ? findEdge(workflow, selection.from, selection.to) : undefined;
  const boundaryKey = `${tab}:${action?.id ?? (edge ? edgeId(edge) : selection?.kind ?? "")}`;
  return (
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
            onClick={() => props.onTab(t)}
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
        <ErrorBoundary what={tab === "edit" ? "this panel" : `the ${TAB_NAMES[tab]} tab`} resetKey={boundaryKey}>
          {tab === "settings" &&
            (schemaError ? (
              <div className="wk-problems">The settings could not be loaded: {schemaError}</div>
            ) : (
              <SettingsPanel
                schema={settingsSchema}
                value={document.settings}
                problems={settingsProblems}
                onChange={(next) => doc.edit((d) => ({ ...d, settings: next }), "settings")}
              />
            ))}
          {tab === "runs" && <RunsPanel api={api} workflowId={props.workflowId ?? undefined} onOpen={props.onOpenRun} onTest={props.onTestRun} testing={props.busy} />}
          {tab === "versions" && (
            <VersionsPanel
              versions={props.versions}
              document={document}
              catalog={catalog}
              busy={props.busy}
              onPublish={props.onPublish}
              onRestore={(version) => {
                doc.edit((d) => ({ ...d, workflow: version.workflow, triggers: version.triggers, settings: version.settings ?? {} }));
                props.onRestored(version.number ?? 0);
                props.onTab("edit");
              }}
            />
          )}
          {tab === "edit" &&
            (action ? (
              <ActionPanel
                key={action.id}
                api={api}
                workflowId={props.workflowId ?? undefined}
                workflow={workflow}
                catalog={catalog}
                action={action}
                definition={catalog.get(action.kind)}
                problems={props.placed.actions[action.id] ?? []}
                groups={props.groups}
                focus={props.focus}
                onChange={(change, group) => doc.editWorkflow((w) => updateActionAnywhere(w, action.id, change), group)}
                onBody={(change) => doc.editWorkflow((w) => updateBody(w, action.id, change))}
                onConnectFrom={(from) => doc.editWorkflow((w) => connectAnywhere(w, from, action.id))}
                onDisconnect={(from) => doc.editWorkflow((w) => disconnectAnywhere(w, from, action.id))}
                onDelete={() => {
                  doc.editWorkflow((w) => removeAnywhere(w, action.id));
                  props.onSelect(null);
                }}
                onAddAfter={(anchor) => props.onAddAfter(action.id, anchor)}
                onAddOnFailure={(anchor) => props.onAddOnFailure(action.id, anchor)}
                sampleEvent={props.sampleEvent}
                onKeepOutput={(output) => doc.editWorkflow((w) => keepSampleOutput(w, action.id, output))}
              />
            ) : edge ? (
              <EdgePanel
                key={edgeId(edge)}
                edge={edge}
                workflow={workflow}
                catalog={catalog}
                problems={props.placed.edges[edgeId(edge)] ?? []}
                groups={props.groups}
                onChange={(change) => doc.editWorkflow((w) => updateEdgeAnywhere(w, edge.from, edge.to, change), `edge:${edgeId(edge)}`)}
                onDelete={() => {
                  doc.editWorkflow((w) => disconnectAnywhere(w, edge.from, edge.to));
                  props.onSelect(null);
                }}
              />
            ) : (
              <TriggerPanel
                api={api}
                workflowId={props.workflowId ?? undefined}
                triggers={document.triggers}
                problems={props.placed.trigger}
                groups={props.groups}
                nextTickAt={props.doc.dirty ? undefined : props.record.next_tick_at}
                sample={props.sample}
                examples={props.examples}
                onTriggers={(next) => doc.edit((d) => ({ ...d, triggers: next }), "trigger")}
                onSample={props.onSample}
                onAddFirst={(anchor) => props.onAddAfter("$source", anchor)}
              />
            ))}
        </ErrorBoundary>
      </div>
    </aside>
  );
}
