import { useEffect, useState } from "react";
import type { Api } from "../api";
import type { Version, Workflow } from "../types";
import { formatTime } from "./RunsPanel";

export function VersionsPanel({ api, workflowId, published, onRestore }: {
  api: Api;
  workflowId: string;
  published: number | null;
  onRestore: (workflow: Workflow, number: number) => void;
}) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.versions(workflowId).then(setVersions, (e: Error) => setError(e.message));
  }, [api, workflowId, published]);
  return (
    <div aria-label="Version history">
      <div className="wk-help" style={{ marginBottom: 8 }}>Published versions are immutable; runs keep the version they started on.</div>
      {error && <div className="wk-problems">{error}</div>}
      {versions && versions.length === 0 && <div className="wk-help">Not published yet.</div>}
      <ul className="wk-list">
        {versions?.map((version) => (
          <li key={version.number} style={{ display: "flex", gap: 8, alignItems: "center", padding: "6px 0" }}>
            <strong>v{version.number}</strong>
            <span style={{ flex: 1 }} className="wk-help">
              {formatTime(version.created_at)}
              {version.number === published ? " · live" : ""}
            </span>
            <button type="button" className="wk-link" onClick={() => onRestore(version.workflow, version.number ?? 0)}>
              Load into the draft
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
