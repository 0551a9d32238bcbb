// The standalone page `workflow-kit serve` serves at /: the token comes from the URL (#token=...),
// from this browser's storage, or (on a demo server) from the demo endpoint; the view is in the hash.

import { useEffect, useMemo, useRef, useState } from "react";
import { Api } from "./api";
import { Studio, type View } from "./ui/Studio";

const TOKEN_KEY = "workflow-kit-token";

export function parseHash(hash: string): { view: View; token: string | null } {
  const [route, query = ""] = hash.replace(/^#/, "").split("?");
  const token = new URLSearchParams(query).get("token");
  const parts = route.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "workflows" && parts[1] && parts[2] === "runs" && parts[3]) {
    return { view: { kind: "run", workflowId: parts[1], runId: parts[3] }, token };
  }
  if (parts[0] === "workflows" && parts[1]) return { view: { kind: "workflow", id: parts[1] }, token };
  if (parts[0] === "runs" && parts.length === 1) return { view: { kind: "runs" }, token };
  if (parts[0] === "events" && parts.length === 1) return { view: { kind: "events" }, token };
  if (parts[0] === "new" && parts.length === 1) return { view: { kind: "new" }, token };
  return { view: { kind: "list" }, token };
}

export function hashFor(view: View): string {
  if (view.kind === "workflow") return `#/workflows/${encodeURIComponent(view.id)}`;
  if (view.kind === "run") return `#/workflows/${encodeURIComponent(view.workflowId)}/runs/${encodeURIComponent(view.runId)}`;
  if (view.kind === "runs") return "#/runs";
  if (view.kind === "events") return "#/events";
  if (view.kind === "new") return "#/new";
  return "#/";
}

async function demoToken(base: string): Promise<string | null> {
  const response = await fetch(`${base}/api/demo/token`, { method: "POST" });
  if (!response.ok) return null;
  return ((await response.json()) as { token: string }).token;
}

export function App({ apiBase = "" }: { apiBase?: string }) {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  const [token, setToken] = useState<string | null>(() => route.token ?? window.localStorage.getItem(TOKEN_KEY));
  const [pasted, setPasted] = useState("");
  const [checked, setChecked] = useState(false);
  const leaveGuard = useRef<(() => boolean) | null>(null);
  const shown = useRef(route.view);
  useEffect(() => {
    shown.current = route.view;
  }, [route.view]);

  // The browser's Back and Forward (and links): the hash changes first, so when the user keeps their
  // unsaved changes, the page's address goes back to the view still shown.
  useEffect(() => {
    const onHash = () => {
      const next = parseHash(window.location.hash);
      const same = hashFor(next.view) === hashFor(shown.current);
      if (!same && leaveGuard.current && !leaveGuard.current()) {
        window.history.pushState(null, "", hashFor(shown.current));
        return;
      }
      if (next.token) setToken(next.token);
      setRoute(next);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    // a token in the address is kept in this browser and taken out of the address
    if (route.token) {
      window.localStorage.setItem(TOKEN_KEY, route.token);
      window.history.replaceState(null, "", hashFor(route.view));
    }
  }, [route]);
  useEffect(() => {
    if (token) return;
    demoToken(apiBase).then(
      (found) => {
        if (found) setToken(found);
        setChecked(true);
      },
      () => setChecked(true),
    );
  }, [apiBase, token]);

  const api = useMemo(() => (token ? new Api(apiBase, token) : null), [apiBase, token]);
  if (!api) {
    return (
      <div className="wk-root">
        <main className="wk-home">
          <h1>workflow-kit</h1>
          {checked && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                window.localStorage.setItem(TOKEN_KEY, pasted.trim());
                setToken(pasted.trim());
              }}
            >
              <div className="wk-field">
                <label htmlFor="wk-token">Editor token (from your product's backend: kit.editor_token)</label>
                <input id="wk-token" value={pasted} onChange={(e) => setPasted(e.target.value)} />
              </div>
              <button type="submit" className="wk-button primary" disabled={!pasted.trim()}>Open the editor</button>
            </form>
          )}
        </main>
      </div>
    );
  }
  return (
    <Studio
      api={api}
      view={route.view}
      leaveGuard={leaveGuard}
      pageTitle
      onNavigate={(view) => {
        window.location.hash = hashFor(view);
      }}
    />
  );
}
