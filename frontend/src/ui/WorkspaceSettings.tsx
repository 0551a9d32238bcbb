// The workspace settings panel, opened from the list page: what applies to every workflow of the
// workspace (the tenant). So far: how long run history is kept.

import { useEffect, useState } from "react";
import { ApiError, type Api } from "../api";
import type { TenantSettings } from "../types";
import { durationWords, retentionHelp } from "../workspace";

function problemText(error: unknown): string {
  const text = error instanceof ApiError ? (error.problems[0]?.message ?? error.message) : error instanceof Error ? error.message : String(error);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function savedText(settings: TenantSettings): string {
  if (settings.retention === null) return `Saved: run history is kept for ${durationWords(settings.default_retention)}, the default.`;
  return `Saved: run history is kept for ${durationWords(settings.retention)}.`;
}

export function WorkspaceSettings({ api }: { api: Api }) {
  const [settings, setSettings] = useState<TenantSettings | null>(null);
  const [retention, setRetention] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let gone = false;
    api.tenantSettings().then(
      (found) => {
        if (gone) return;
        setSettings(found);
        setRetention(found.retention ?? "");
      },
      (failed: unknown) => !gone && setError(problemText(failed)),
    );
    return () => {
      gone = true;
    };
  }, [api]);

  const save = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const next = await api.saveTenantSettings(retention.trim() || null);
      setSettings(next);
      setRetention(next.retention ?? "");
      setSaved(savedText(next));
    } catch (failed) {
      setError(problemText(failed));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="wk-workspace" aria-labelledby="wk-workspace-title">
      <h2 id="wk-workspace-title">Workspace settings</h2>
      {settings && (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div className="wk-field">
            <label htmlFor="wk-retention">Keep run history for</label>
            <input
              id="wk-retention"
              value={retention}
              placeholder={`${durationWords(settings.default_retention)} (e.g. 90d, 12h)`}
              aria-describedby="wk-retention-help"
              aria-invalid={error ? true : undefined}
              onChange={(e) => setRetention(e.target.value)}
            />
            <div className="wk-help" id="wk-retention-help">{retentionHelp(settings.default_retention)}</div>
          </div>
          <button type="submit" className="wk-button primary" disabled={busy}>Save</button>
        </form>
      )}
      {error && <div className="wk-problems" role="alert">{error}</div>}
      {saved && <div className="wk-banner info" role="status">{saved}</div>}
    </section>
  );
}
