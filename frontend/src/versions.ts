// Versions in words: where the draft stands against the published versions ("Draft, changed since v3",
// "Published v4"), and what differs between a version and the draft, step by step.

import { sameJson, type WorkflowDocument } from "./document";
import { humanize } from "./forms";
import { actionTitle, nodeTitle, SEPARATOR, valueText, type Catalog } from "./names";
import { fieldTitle } from "./problemText";
import { conditionLabel } from "./flow";
import { triggerLabel } from "./cron";
import type { Json, JsonObject, Version, Workflow, WorkflowAction, WorkflowEdge } from "./types";

export function versionDocument(version: Version, name: string): WorkflowDocument {
  return { name, triggers: version.triggers, workflow: version.workflow, settings: version.settings ?? {} };
}

/** Whether the draft says the same as a version (its name is the record's, not versioned). */
export function sameAsVersion(document: WorkflowDocument, version: Version): boolean {
  return (
    sameJson(document.workflow, version.workflow) &&
    sameJson(normalTriggers(document.triggers), normalTriggers(version.triggers)) &&
    sameJson(document.settings ?? {}, version.settings ?? {})
  );
}

function normalTriggers(triggers: WorkflowDocument["triggers"]): JsonObject[] {
  return triggers.map(normalTrigger);
}

function normalTrigger(trigger: WorkflowDocument["triggers"][number]): JsonObject {
  const out: JsonObject = {};
  for (const key of ["event", "if", "cron"] as const) {
    const value = trigger[key];
    if (value !== undefined && value !== null && value !== "") out[key] = value;
  }
  return out;
}

export interface DraftStatus {
  /** "Not published yet", "Published v4", "Draft, changed since v3". */
  text: string;
  /** Whether publishing would make a new version that differs from the latest. */
  canPublish: boolean;
}

export function draftStatus(document: WorkflowDocument, latest: Version | null | undefined): DraftStatus {
  if (!latest || latest.number === null) return { text: "Draft, not published yet", canPublish: true };
  if (sameAsVersion(document, latest)) return { text: `Published v${latest.number}`, canPublish: false };
  return { text: `Draft, changed since v${latest.number}`, canPublish: true };
}

export type Change =
  | { kind: "added"; text: string }
  | { kind: "removed"; text: string }
  | { kind: "changed"; text: string };

/** What the draft changes against `version`, in words, steps first. An empty list: nothing differs. */
export function diffVersion(version: WorkflowDocument, draft: WorkflowDocument, catalog: Catalog): Change[] {
  const changes: Change[] = [];
  const before = new Map(version.workflow.actions.map((a) => [a.id, a]));
  const after = new Map(draft.workflow.actions.map((a) => [a.id, a]));
  const title = (action: WorkflowAction) => actionTitle(action, catalog.get(action.kind));
  for (const action of draft.workflow.actions) {
    if (!before.has(action.id)) changes.push({ kind: "added", text: `Step added: ${title(action)}` });
  }
  for (const action of version.workflow.actions) {
    if (!after.has(action.id)) changes.push({ kind: "removed", text: `Step removed: ${title(action)}` });
  }
  for (const action of draft.workflow.actions) {
    const old = before.get(action.id);
    if (!old) continue;
    if ((old.name ?? "") !== (action.name ?? "")) changes.push({ kind: "changed", text: `Step renamed: ${title(old)} → ${title(action)}` });
    changes.push(...inputChanges(old, action, version.workflow, draft.workflow, catalog));
  }
  const edgeKey = (e: WorkflowEdge) => `${e.from}\u0000${e.to}`;
  const oldEdges = new Map(version.workflow.edges.map((e) => [edgeKey(e), e]));
  const newEdges = new Map(draft.workflow.edges.map((e) => [edgeKey(e), e]));
  const edgeText = (e: WorkflowEdge, workflow: Workflow) => {
    const label = conditionLabel(e);
    return `${nodeTitle(e.from, workflow, catalog)} → ${nodeTitle(e.to, workflow, catalog)}${label ? ` (${label})` : ""}`;
  };
  for (const [key, edge] of newEdges) {
    const old = oldEdges.get(key);
    if (!old) changes.push({ kind: "added", text: `Connection added: ${edgeText(edge, draft.workflow)}` });
    else if (!sameJson(old, edge)) changes.push({ kind: "changed", text: `Connection changed: ${edgeText(edge, draft.workflow)}` });
  }
  for (const [key, edge] of oldEdges) {
    if (!newEdges.has(key)) changes.push({ kind: "removed", text: `Connection removed: ${edgeText(edge, version.workflow)}` });
  }
  if (!sameJson(normalTriggers(version.triggers), normalTriggers(draft.triggers))) {
    const several = version.triggers.length > 1 || draft.triggers.length > 1;
    changes.push({ kind: "changed", text: `${several ? "Triggers" : "Trigger"}: ${triggersText(version)} → ${triggersText(draft)}` });
  }
  const settingNames = new Set([...Object.keys(version.settings ?? {}), ...Object.keys(draft.settings ?? {})]);
  for (const name of settingNames) {
    if (!sameJson(version.settings?.[name], draft.settings?.[name])) changes.push({ kind: "changed", text: `Setting changed: ${humanize(name)}` });
  }
  return changes;
}

function triggersText(document: WorkflowDocument): string {
  return document.triggers.map(triggerText).join(", or ");
}

function triggerText(trigger: WorkflowDocument["triggers"][number]): string {
  const label = triggerLabel(trigger);
  return trigger.if ? `${label}, only when a condition holds (${trigger.if})` : label;
}

function inputChanges(old: WorkflowAction, next: WorkflowAction, oldWorkflow: Workflow, newWorkflow: Workflow, catalog: Catalog): Change[] {
  const definition = catalog.get(next.kind);
  const title = actionTitle(next, definition);
  const a = old.inputs ?? {};
  const b = next.inputs ?? {};
  const changes: Change[] = [];
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (sameJson(a[name], b[name])) continue;
    const field = fieldTitle(definition, [name]);
    const shown = (value: Json | undefined, workflow: Workflow) =>
      value === undefined ? "empty" : typeof value === "string" ? `"${valueText(value, workflow, catalog)}"` : JSON.stringify(value);
    changes.push({ kind: "changed", text: `${title}${SEPARATOR}${field}: ${shown(a[name], oldWorkflow)} → ${shown(b[name], newWorkflow)}` });
  }
  return changes;
}
