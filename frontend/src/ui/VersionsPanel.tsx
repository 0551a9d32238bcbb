import { useState } from "react";
import type { WorkflowDocument } from "../document";
import type { Catalog } from "../names";
import type { Version } from "../types";
import { diffVersion, draftStatus, versionDocument } from "../versions";
import { Changes } from "./Changes";
import { formatTime } from "./RunsPanel";

export interface VersionsPanelProps {
  /** Published versions, newest first (null while loading). */
  versions: Version[] | null;
  document: WorkflowDocument;
  catalog: Catalog;
  busy: boolean;
  onPublish: (message: string) => void;
  onRestore: (version: Version) => void;
}

/** The published versions with who published each, when and why; what the draft changes against any of
 * them; restoring one into the draft (after a confirmation; Undo takes it back); publishing with a note. */
export function VersionsPanel({ versions, document, catalog, busy, onPublish, onRestore }: VersionsPanelProps) {
  const [message, setMessage] = useState("");
  const [comparing, setComparing] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const latest = versions?.[0] ?? null;
  const status = draftStatus(document, versions === null ? undefined : latest);
  return (
    <div aria-label="Version history">
      <div className="wk-section">
        <h2>Versions</h2>
        <div className="wk-help">
          Publishing freezes the draft as a new version: new runs use it; runs already going keep the version they started on.
        </div>
        <div className="wk-help" role="status">{status.text}.</div>
      </div>
      {latest && (
        <div className="wk-section">
          <h3>What the draft changes since v{latest.number}</h3>
          <Changes changes={diffVersion(versionDocument(latest, document.name), document, catalog)} />
        </div>
      )}
      <form
        className="wk-section"
        onSubmit={(event) => {
          event.preventDefault();
          onPublish(message.trim());
          setMessage("");
        }}
      >
        <div className="wk-field">
          <label htmlFor="wk-version-note">Note for the next version (optional)</label>
          <textarea id="wk-version-note" rows={2} value={message} maxLength={500} placeholder="What changed, and why" onChange={(e) => setMessage(e.target.value)} />
        </div>
        <button type="submit" className="wk-button primary" disabled={busy || !status.canPublish}>
          Publish with this note
        </button>
      </form>
      {versions === null && <div className="wk-help">Loading…</div>}
      {versions && versions.length === 0 && <div className="wk-help">Not published yet.</div>}
      <ul className="wk-list wk-versions">
        {versions?.map((version) => {
          const number = version.number ?? 0;
          return (
            <li key={number} className="wk-version">
              <div className="wk-version-head">
                <strong>v{number}</strong>
                {version === latest && <span className="wk-badge ok">live</span>}
                <span className="wk-help">
                  {formatTime(version.created_at)}
                  {version.author ? ` · by ${version.author}` : ""}
                </span>
              </div>
              {version.message && <div className="wk-version-note">{version.message}</div>}
              <div className="wk-version-actions">
                <button type="button" className="wk-link" aria-expanded={comparing === number} onClick={() => setComparing(comparing === number ? null : number)}>
                  {comparing === number ? "Hide the differences" : `Compare v${number} with the draft`}
                </button>
                <button type="button" className="wk-link" onClick={() => setConfirming(number)}>
                  Restore v{number}
                </button>
              </div>
              {comparing === number && <Changes changes={diffVersion(versionDocument(version, document.name), document, catalog)} />}
              {confirming === number && (
                <div className="wk-confirm" role="alertdialog" aria-label={`Restore version ${number}?`}>
                  <span>Replace the draft with version {number}? Undo brings your draft back.</span>
                  <button
                    type="button"
                    className="wk-button primary"
                    onClick={() => {
                      setConfirming(null);
                      onRestore(version);
                    }}
                  >
                    Restore
                  </button>
                  <button type="button" className="wk-button" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
