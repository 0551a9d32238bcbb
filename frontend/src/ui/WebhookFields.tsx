// A webhook trigger's card: the URL to copy, how requests are checked (in plain words), the signing secret
// (shown once; a new one on demand), the optional transform, a test request, and the last requests with
// their outcome and why. The webhook's settings are saved on the server as they change; the trigger
// itself (its event name) is saved with the workflow.
import { useEffect, useRef, useState } from "react";
import { ApiError, type Api } from "../api";
import { WEBHOOK_EVENT } from "../cron";
import type { Hook, HookRequest, HookSettings, Trigger, Verification } from "../types";

export const STYLE_LABELS: ReadonlyArray<[NonNullable<Verification["style"]>, string]> = [
  ["none", "No check"],
  ["github", "GitHub signature"],
  ["stripe", "Stripe signature"],
  ["header", "Shared secret in a header"],
  ["hmac", "Another service's signature (HMAC)"],
];

const TRANSFORM_HINT = '{"name": "github/" + headers["x-github-event"], "data": body, "id": headers["x-github-delivery"]}';

export interface WebhookFieldsProps {
  api: Api;
  /** The saved workflow (a webhook is made for it); none: not saved yet. */
  workflowId?: string;
  trigger: Trigger;
  idBase: string;
  onChange: (trigger: Trigger) => void;
}

/** The settings the API takes, from a hook as read. */
export function settingsOf(hook: Hook): HookSettings {
  return { verification: hook.verification, transform: hook.transform ?? null, rate_limit: hook.rate_limit };
}

/** A request's outcome in words: "Accepted", "Refused: the signature does not match". */
export function requestWords(request: Pick<HookRequest, "outcome" | "why" | "status">): string {
  if (request.outcome === "accepted") return "Accepted";
  return `Refused: ${request.why || `status ${request.status}`}`;
}

export function WebhookFields({ api, workflowId, trigger, idBase, onChange }: WebhookFieldsProps) {
  const [hook, setHook] = useState<Hook | null>(null);
  const [settings, setSettings] = useState<HookSettings | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [requests, setRequests] = useState<HookRequest[] | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const making = useRef(false);
  const latest = useRef({ trigger, onChange });
  useEffect(() => {
    latest.current = { trigger, onChange };
  });
  const hookId = trigger.hook ?? null;

  // a new webhook trigger gets its webhook (and its secret, shown once) at once
  useEffect(() => {
    if (hookId || !workflowId || making.current) return;
    making.current = true;
    api.createHook(workflowId).then(
      (made) => {
        setHook(made.hook);
        setSettings(settingsOf(made.hook));
        setSecret(made.secret);
        latest.current.onChange({ ...latest.current.trigger, hook: made.hook.id });
      },
      (failure: Error) => {
        making.current = false;
        setError(failure.message);
      },
    );
  }, [api, hookId, workflowId]);

  useEffect(() => {
    if (!hookId) return;
    let gone = false;
    api.hook(hookId).then(
      (found) => {
        if (gone) return;
        setHook(found);
        setSettings(settingsOf(found));
      },
      (failure: Error) => !gone && setError(failure.message),
    );
    api.hookRequests(hookId).then((found) => !gone && setRequests(found), () => undefined);
    return () => {
      gone = true;
    };
  }, [api, hookId]);

  if (!hookId || !hook || !settings) {
    return (
      <div className="wk-help" aria-live="polite">
        {error ? <span className="wk-problems">The webhook could not be made: {error}</span> : workflowId ? "Making the webhook's URL…" : "Save the workflow to get the webhook's URL."}
      </div>
    );
  }

  const style = settings.verification?.style ?? "none";
  const save = async (next: HookSettings) => {
    setSettings(next);
    try {
      const saved = await api.configureHook(hook.id, next);
      setHook(saved);
      setProblems([]);
      setError(null);
    } catch (failure) {
      if (failure instanceof ApiError && failure.problems.length) setProblems(failure.problems.map((p) => p.message));
      else setError((failure as Error).message);
    }
  };
  const verify = (change: Partial<Verification>): HookSettings => ({ ...settings, verification: { ...hook.verification, ...settings.verification, ...change } });
  const copy = (text: string, what: string) => {
    navigator.clipboard?.writeText(text).then(
      () => setCopied(what),
      () => setCopied(null),
    );
  };
  const refresh = async () => setRequests(await api.hookRequests(hook.id));
  const rotate = async () => {
    if (hook.has_secret && !window.confirm("Make a new secret? The current one stops working at once: the sending service needs the new one.")) return;
    const made = await api.rotateHookSecret(hook.id);
    setHook(made.hook);
    setSecret(made.secret);
  };
  const test = async () => {
    setResult(null);
    try {
      const got = await api.testHook(hook.id);
      if (got.status === 202) setResult("Accepted: the request became an event. It starts a run when the workflow is published and enabled (see the Runs tab).");
      else if (got.status === 404) setResult("Not taken yet: save the workflow first, then its webhook takes requests.");
      else setResult(`Refused: ${got.why || `status ${got.status}`}`);
      await refresh();
    } catch (failure) {
      setResult((failure as Error).message);
    }
  };

  return (
    <div className="wk-webhook">
      <div className="wk-field">
        <label htmlFor={`${idBase}-url`}>Webhook URL</label>
        <div className="wk-copy-row">
          <input id={`${idBase}-url`} className="mono" readOnly value={hook.url} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" className="wk-button" onClick={() => copy(hook.url, "url")}>
            {copied === "url" ? "Copied" : "Copy"}
          </button>
        </div>
        <div className="wk-help">
          {hook.event === null
            ? "Save the workflow: the URL takes requests once this trigger is saved."
            : "Other services send POST requests here (JSON, a form, or text): each one starts a run."}
        </div>
      </div>
      <div className="wk-field">
        <label htmlFor={`${idBase}-event`}>Event name</label>
        <input
          id={`${idBase}-event`}
          value={trigger.event ?? ""}
          placeholder={WEBHOOK_EVENT}
          onChange={(e) => onChange({ ...trigger, event: e.target.value })}
        />
        <div className="wk-help">The name of the event each request becomes (its data is the request's body).</div>
      </div>
      <div className="wk-field">
        <label htmlFor={`${idBase}-style`}>Check that requests are genuine</label>
        <select id={`${idBase}-style`} value={style} onChange={(e) => void save(verify({ style: e.target.value as Verification["style"] }))}>
          {STYLE_LABELS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </select>
        {style === "none" && <div className="wk-help">Anyone who knows the URL can start this workflow.</div>}
      </div>
      {(style === "header" || style === "hmac") && (
        <div className="wk-field">
          <label htmlFor={`${idBase}-header`}>Header name</label>
          <input
            id={`${idBase}-header`}
            value={settings.verification?.header ?? ""}
            placeholder={style === "header" ? "X-Webhook-Secret" : "X-Signature"}
            onChange={(e) => setSettings(verify({ header: e.target.value || null }))}
            onBlur={() => void save(settings)}
          />
        </div>
      )}
      {style === "hmac" && (
        <HmacFields idBase={idBase} verification={settings.verification ?? hook.verification} onChange={(change) => void save(verify(change))} />
      )}
      {style === "stripe" && (
        <div className="wk-field">
          <label htmlFor={`${idBase}-tolerance`}>Refuse signatures older than (seconds)</label>
          <input
            id={`${idBase}-tolerance`}
            type="number"
            min={1}
            value={settings.verification?.tolerance ?? 300}
            onChange={(e) => setSettings(verify({ tolerance: Number(e.target.value) }))}
            onBlur={() => void save(settings)}
          />
        </div>
      )}
      {style !== "none" && (
        <div className="wk-field" aria-label="Signing secret">
          <label htmlFor={`${idBase}-secret`}>Signing secret</label>
          {secret ? (
            <>
              <div className="wk-copy-row">
                <input id={`${idBase}-secret`} className="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
                <button type="button" className="wk-button" onClick={() => copy(secret, "secret")}>
                  {copied === "secret" ? "Copied" : "Copy"}
                </button>
              </div>
              <div className="wk-help">Copy it now into the sending service's settings: it is not shown again.</div>
            </>
          ) : (
            <div className="wk-help" id={`${idBase}-secret`}>
              {hook.has_secret ? "A secret is set. It is not shown again: make a new one if you lost it." : "No secret yet: make one."}
            </div>
          )}
          <button type="button" className="wk-button" onClick={() => void rotate()}>
            Make a new secret
          </button>
        </div>
      )}
      <details className="wk-webhook-advanced">
        <summary>{hook.transform ? "Shape the event (a transform is set)" : "Shape the event (optional)"}</summary>
        <div className="wk-field">
          <label htmlFor={`${idBase}-transform`}>Transform (optional)</label>
          <textarea
            id={`${idBase}-transform`}
            className="mono"
            rows={3}
            value={settings.transform ?? ""}
            placeholder={TRANSFORM_HINT}
            onChange={(e) => setSettings({ ...settings, transform: e.target.value || null })}
            onBlur={() => void save(settings)}
          />
          <div className="wk-help">
            Makes the event from the request, in CEL over method, headers, query and body: a map with a name, data and an id (a repeated id
            is ignored for a day). Empty: the body is the event's data.
          </div>
        </div>
      </details>
      {(problems.length > 0 || error) && (
        <ul className="wk-problems" role="alert">
          {problems.map((p) => <li key={p}>{p}</li>)}
          {error && <li>{error}</li>}
        </ul>
      )}
      <div className="wk-trigger-add">
        <button type="button" className="wk-button" onClick={() => void test()}>
          Send a test request
        </button>
        <button type="button" className="wk-button" onClick={() => void refresh()}>
          Refresh the requests
        </button>
      </div>
      {result && <div className="wk-help" role="status">{result}</div>}
      <h3>Last requests</h3>
      <ul className="wk-list wk-hook-requests" aria-label="Last requests">
        {requests !== null && requests.length === 0 && <li className="wk-help">No requests yet.</li>}
        {(requests ?? []).map((request) => (
          <li key={request.id} className={request.outcome === "accepted" ? "accepted" : "refused"}>
            <span className="wk-help">{new Date(request.received_at).toLocaleString()}</span> <span>{requestWords(request)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function HmacFields({ idBase, verification, onChange }: { idBase: string; verification: Verification; onChange: (change: Partial<Verification>) => void }) {
  return (
    <>
      <div className="wk-field">
        <label htmlFor={`${idBase}-algorithm`}>Hash</label>
        <select id={`${idBase}-algorithm`} value={verification.algorithm ?? "sha256"} onChange={(e) => onChange({ algorithm: e.target.value as Verification["algorithm"] })}>
          <option value="sha256">SHA-256</option>
          <option value="sha1">SHA-1</option>
          <option value="sha512">SHA-512</option>
        </select>
      </div>
      <div className="wk-field">
        <label htmlFor={`${idBase}-encoding`}>Written as</label>
        <select id={`${idBase}-encoding`} value={verification.encoding ?? "hex"} onChange={(e) => onChange({ encoding: e.target.value as Verification["encoding"] })}>
          <option value="hex">Hexadecimal</option>
          <option value="base64">Base64</option>
        </select>
      </div>
      <div className="wk-field">
        <label htmlFor={`${idBase}-prefix`}>Before the signature (optional)</label>
        <input id={`${idBase}-prefix`} defaultValue={verification.prefix ?? ""} placeholder="sha256=" onBlur={(e) => onChange({ prefix: e.target.value })} />
      </div>
    </>
  );
}
