// What the toolbar does with the server: load the record, save the draft, publish, enable, start a test
// run; and what the editor says about it (the banner). The document itself stays in its reducer.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Api } from "../../api";
import { triggerKind } from "../../cron";
import type { WorkflowDocument } from "../../document";
import { pruneSettings, settingsSegments } from "../../settingsForm";
import { sampleFor } from "../../samples";
import type { Json, Problem, Version, WorkflowRecord } from "../../types";
import { parseSample } from "../TriggerPanel";
import type { WorkflowDocumentHandle } from "./useWorkflowDocument";

export type Banner = { kind: "error" | "info" | "conflict"; text: string };

export function documentOf(record: WorkflowRecord): WorkflowDocument {
  return { name: record.name, triggers: record.triggers, workflow: record.draft, settings: record.settings ?? {} };
}

/** A new workflow the editor holds before its first save: nothing of it is stored yet. */
export interface NewWorkflow {
  document: WorkflowDocument;
  description: string;
}

/** What the editor shows of a workflow not stored yet: no id, no version, never published or enabled. */
export function unstoredRecord(fresh: NewWorkflow): WorkflowRecord {
  const { document } = fresh;
  return {
    id: "",
    name: document.name,
    description: fresh.description,
    triggers: document.triggers,
    trigger: document.triggers[0],
    draft: document.workflow,
    settings: document.settings,
    problems: [],
    enabled: false,
    published_version: null,
    draft_changed: false,
    failures_24h: 0,
    last_run: null,
    created_at: 0,
    updated_at: 0,
    version: 0,
    next_tick_at: null,
  };
}

export { sampleFor };

export interface EditorCommands {
  record: WorkflowRecord | null;
  versions: Version[] | null;
  busy: boolean;
  banner: Banner | null;
  /** Problems the server refused a save or a publish with (shown until the next live check). */
  refusedProblems: Problem[] | null;
  setBanner: (banner: Banner | null) => void;
  reload: () => Promise<void>;
  save: () => Promise<WorkflowRecord | null>;
  publish: (message?: string) => Promise<void>;
  toggleEnabled: () => Promise<void>;
  testRun: (sample: string) => Promise<void>;
  keepMine: () => Promise<void>;
}

export interface NewWorkflowOptions {
  /** The editor starts on this new workflow, not stored yet: the first save creates it. */
  fresh?: NewWorkflow;
  /** The first save stored the new workflow. */
  onCreated?: (record: WorkflowRecord) => void;
}

/** `workflowId`: the stored workflow to load, or null for a new one (`fresh`). Every call to the server
 * uses the record's id, so a new workflow's commands work on it once its first save created it. */
export function useEditorCommands(
  api: Api,
  workflowId: string | null,
  doc: WorkflowDocumentHandle,
  problemCount: number,
  onOpenRun: (runId: string, workflowId: string) => void,
  { fresh, onCreated }: NewWorkflowOptions = {},
): EditorCommands {
  const [record, setRecord] = useState<WorkflowRecord | null>(() => (fresh ? unstoredRecord(fresh) : null));
  const [versions, setVersions] = useState<Version[] | null>(() => (fresh ? [] : null));
  // the stored record the editor already holds: a workflow just created is not loaded again
  const held = useRef<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [banner, setBanner] = useState<Banner | null>(null);
  const [refusedProblems, setRefusedProblems] = useState<Problem[] | null>(null);
  const { load, markSaved } = doc;

  const id = record?.id || null;
  const reload = useCallback(async () => {
    if (!id) return;
    const loaded = await api.workflow(id);
    setRecord(loaded);
    load(documentOf(loaded));
    setBanner(null);
    setRefusedProblems(null);
  }, [api, id, load]);

  useEffect(() => {
    if (!workflowId || held.current === workflowId) return;
    let gone = false;
    api.workflow(workflowId).then(
      (loaded) => {
        if (gone) return;
        setRecord(loaded);
        load(documentOf(loaded));
      },
      (error: Error) => !gone && setBanner({ kind: "error", text: error.message }),
    );
    return () => {
      gone = true;
    };
  }, [api, workflowId, load]);

  // The published versions (newest first): the toolbar compares the draft with the latest.
  const published = record?.published_version ?? null;
  useEffect(() => {
    if (!id) return; // a new workflow: no versions yet
    let gone = false;
    api.versions(id).then(
      (found) => !gone && setVersions(found),
      () => !gone && setVersions([]),
    );
    return () => {
      gone = true;
    };
  }, [api, id, published]);

  const sendDocument = async (sent: WorkflowDocument, version: number, withSettings: boolean) =>
    api.update(
      id ?? "",
      { name: sent.name, triggers: sent.triggers, workflow: sent.workflow, ...(withSettings ? { settings: pruneSettings(sent.settings) } : {}) },
      version,
    );

  /** The document sent to the stored workflow; settings with problems are left out (kept false). */
  const update = async (sent: WorkflowDocument, stored: WorkflowRecord): Promise<{ saved: WorkflowRecord; settingsKept: boolean }> => {
    const settingsChanged = JSON.stringify(sent.settings) !== JSON.stringify(doc.saved?.settings ?? {});
    try {
      return { saved: await sendDocument(sent, stored.version, settingsChanged), settingsKept: true };
    } catch (error) {
      // Settings with problems: the rest is saved; the settings stay here, unsaved, with their problems.
      const settingsOnly = error instanceof ApiError && error.status === 422 && error.problems.length > 0 && error.problems.every((p) => settingsSegments(p.path) !== null);
      if (!settingsOnly) throw error;
      const saved = await sendDocument(sent, stored.version, false);
      setRefusedProblems(error.problems);
      return { saved, settingsKept: false };
    }
  };

  /** The first save of a new workflow: the record is created with the document as its draft. */
  const create = async (sent: WorkflowDocument, fresh: WorkflowRecord): Promise<WorkflowRecord> => {
    const settings = pruneSettings(sent.settings);
    const created = await api.create(sent.name, sent.triggers, sent.workflow, fresh.description, Object.keys(settings).length ? settings : undefined);
    held.current = created.id;
    return created;
  };

  const save = async (): Promise<WorkflowRecord | null> => {
    const sent = doc.document;
    if (!record || !sent) return null;
    setBusy(true);
    try {
      const { saved, settingsKept } = record.id ? await update(sent, record) : { saved: await create(sent, record), settingsKept: true };
      setRecord(saved);
      markSaved(settingsKept ? sent : { ...sent, settings: doc.saved?.settings ?? {} });
      if (!settingsKept) {
        setBanner({ kind: "error", text: "Saved, except the settings: fix the problems in the Settings tab to save them." });
      } else if ((saved.problems?.length ?? problemCount) > 0) {
        // the saved draft's own problems: the live count may still be checking the last keystroke
        const count = saved.problems?.length ?? problemCount;
        setBanner({ kind: "info", text: `Saved as a draft with ${count} problem${count > 1 ? "s" : ""}: fix ${count > 1 ? "them" : "it"} before publishing.` });
      } else setBanner({ kind: "info", text: "Saved." });
      if (settingsKept) setRefusedProblems(null);
      if (!record.id) onCreated?.(saved);
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        setBanner({ kind: "conflict", text: "Someone else changed this workflow since you opened it." });
      } else if (error instanceof ApiError && error.problems.length) {
        setRefusedProblems(error.problems);
        setBanner({ kind: "error", text: "Not saved: fix the problems listed first." });
      } else setBanner({ kind: "error", text: (error as Error).message });
      return null;
    } finally {
      setBusy(false);
    }
  };

  const publish = async (message?: string) => {
    const saved = doc.dirty ? await save() : record;
    if (!saved) return;
    setBusy(true);
    try {
      const version = await api.publish(saved.id, saved.version, message);
      setRecord(await api.workflow(saved.id));
      setBanner({ kind: "info", text: `Published version ${version.number}: new runs use it.` });
    } catch (error) {
      if (error instanceof ApiError && error.problems.length) setRefusedProblems(error.problems);
      const conflict = error instanceof ApiError && error.status === 409;
      const text = error instanceof ApiError && error.status === 422 ? "Not published: fix the problems listed first." : (error as Error).message;
      setBanner({ kind: conflict ? "conflict" : "error", text });
    } finally {
      setBusy(false);
    }
  };

  const toggleEnabled = async () => {
    if (!record) return;
    if (!record.id) {
      setBanner({ kind: "error", text: "Save and publish the workflow before enabling it." });
      return;
    }
    setBusy(true);
    try {
      const updated = await api.setEnabled(record.id, !record.enabled);
      setRecord({ ...record, enabled: updated.enabled, version: updated.version, next_tick_at: updated.next_tick_at });
      const kinds = new Set(updated.triggers.map(triggerKind));
      const starts =
        kinds.size > 1
          ? "each of its triggers now starts runs"
          : kinds.has("cron")
            ? "each tick of its schedule now starts a run"
            : kinds.has("webhook")
              ? "each request to its webhook now starts a run"
              : "matching events now start runs";
      setBanner({ kind: "info", text: updated.enabled ? `Enabled: ${starts}.` : "Disabled: nothing starts new runs." });
    } catch (error) {
      const unpublished = error instanceof ApiError && error.problems.some((p) => p.code === "not_published");
      setBanner({ kind: "error", text: unpublished ? "Publish the workflow before enabling it." : (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const testRun = async (sample: string) => {
    const parsed = parseSample(sample);
    if (parsed.error) {
      setBanner({ kind: "error", text: `The sample event is not valid: ${parsed.error}` });
      return;
    }
    const saved = doc.dirty ? await save() : record;
    if (!saved || !doc.document) return;
    const value = (parsed.value ?? {}) as { name?: string; data?: Json };
    setBusy(true);
    try {
      const eventName = value.name || sampleFor(doc.document.triggers[0]).name || "workflow/test";
      onOpenRun(await api.test(saved.id, { name: eventName, data: value.data ?? {} }), saved.id);
    } catch (error) {
      if (error instanceof ApiError && error.problems.length) setRefusedProblems(error.problems);
      const text = error instanceof ApiError && error.status === 422 ? "The test run cannot start: fix the problems listed first." : (error as Error).message;
      setBanner({ kind: "error", text });
    } finally {
      setBusy(false);
    }
  };

  const keepMine = async () => {
    if (!id) return;
    // busy until their version is known: a save meanwhile would be refused as a conflict again
    setBusy(true);
    try {
      const latest = await api.workflow(id);
      setRecord(latest);
      setBanner({ kind: "info", text: "Your changes are kept: save again to replace theirs." });
    } catch (error) {
      setBanner({ kind: "error", text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return { record, versions, busy, banner, refusedProblems, setBanner, reload, save, publish, toggleEnabled, testRun, keepMine };
}
