// What the toolbar does with the server: load the record, save the draft, publish, enable, start a test
// run; and what the editor says about it (the banner). The document itself stays in its reducer.

import { useCallback, useEffect, useState } from "react";
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

export function useEditorCommands(
  api: Api,
  workflowId: string,
  doc: WorkflowDocumentHandle,
  problemCount: number,
  onOpenRun: (runId: string) => void,
): EditorCommands {
  const [record, setRecord] = useState<WorkflowRecord | null>(null);
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [banner, setBanner] = useState<Banner | null>(null);
  const [refusedProblems, setRefusedProblems] = useState<Problem[] | null>(null);
  const { load, markSaved } = doc;

  const reload = useCallback(async () => {
    const loaded = await api.workflow(workflowId);
    setRecord(loaded);
    load(documentOf(loaded));
    setBanner(null);
    setRefusedProblems(null);
  }, [api, workflowId, load]);

  useEffect(() => {
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
    let gone = false;
    api.versions(workflowId).then(
      (found) => !gone && setVersions(found),
      () => !gone && setVersions([]),
    );
    return () => {
      gone = true;
    };
  }, [api, workflowId, published]);

  const sendDocument = async (sent: WorkflowDocument, version: number, withSettings: boolean) =>
    api.update(
      workflowId,
      { name: sent.name, triggers: sent.triggers, workflow: sent.workflow, ...(withSettings ? { settings: pruneSettings(sent.settings) } : {}) },
      version,
    );

  const save = async (): Promise<WorkflowRecord | null> => {
    const sent = doc.document;
    if (!record || !sent) return null;
    setBusy(true);
    try {
      const settingsChanged = JSON.stringify(sent.settings) !== JSON.stringify(doc.saved?.settings ?? {});
      let saved: WorkflowRecord;
      let settingsKept = true;
      try {
        saved = await sendDocument(sent, record.version, settingsChanged);
      } catch (error) {
        // Settings with problems: the rest is saved; the settings stay here, unsaved, with their problems.
        const settingsOnly = error instanceof ApiError && error.status === 422 && error.problems.length > 0 && error.problems.every((p) => settingsSegments(p.path) !== null);
        if (!settingsOnly) throw error;
        saved = await sendDocument(sent, record.version, false);
        settingsKept = false;
        setRefusedProblems(error.problems);
      }
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
      const version = await api.publish(workflowId, saved.version, message);
      setRecord(await api.workflow(workflowId));
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
    setBusy(true);
    try {
      const updated = await api.setEnabled(workflowId, !record.enabled);
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
      onOpenRun(await api.test(workflowId, { name: eventName, data: value.data ?? {} }));
    } catch (error) {
      if (error instanceof ApiError && error.problems.length) setRefusedProblems(error.problems);
      const text = error instanceof ApiError && error.status === 422 ? "The test run cannot start: fix the problems listed first." : (error as Error).message;
      setBanner({ kind: "error", text });
    } finally {
      setBusy(false);
    }
  };

  const keepMine = async () => {
    const latest = await api.workflow(workflowId);
    setRecord(latest);
    setBanner({ kind: "info", text: "Your changes are kept: save again to replace theirs." });
  };

  return { record, versions, busy, banner, refusedProblems, setBanner, reload, save, publish, toggleEnabled, testRun, keepMine };
}
