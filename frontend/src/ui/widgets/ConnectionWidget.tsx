import type { WidgetProps } from "@rjsf/utils";
import { useEffect, useState } from "react";
import type { Api } from "../../api";
import { connectInPopup, connectionLabel, connectionTypeOf, formFields } from "../../connections";
import type { ConnectionRecord, ConnectionTypeDef, JsonObject } from "../../types";

interface PickerContext {
  api: Api | null;
}

/** An input that holds one of the tenant's connections of a type: choose one, connect a new account
 * (a form in a dialog for API keys, the provider's pop-up for OAuth) without leaving the editor, and
 * reconnect one that stopped working. The value is the connection's id. */
export function ConnectionWidget({ id, value, onChange, required, disabled, readonly, registry, schema }: WidgetProps) {
  const { api } = registry.formContext as PickerContext;
  const type = connectionTypeOf(schema as unknown as JsonObject) ?? "";
  const [connections, setConnections] = useState<ConnectionRecord[] | null>(null);
  const [declared, setDeclared] = useState<ConnectionTypeDef | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState(false);

  const [loads, setLoads] = useState(0);
  useEffect(() => {
    let gone = false;
    if (!api) return;
    Promise.all([api.connections(type), api.connectionTypes()]).then(
      ([found, types]) => {
        if (gone) return;
        setConnections(found);
        setDeclared(types.find((t) => t.type === type) ?? null);
      },
      (e: Error) => !gone && setError(e.message),
    );
    return () => {
      gone = true;
    };
  }, [api, type, loads]);
  /** List the accounts again (one was just connected). */
  const reload = () => {
    setConnections(null);
    setLoads((n) => n + 1);
  };

  const selected = connections?.find((c) => c.id === value);
  const typeName = declared?.name ?? "this service";
  const viaPopup = async (authorize: () => Promise<string>) => {
    setError(null);
    setBusy(true);
    try {
      const report = await connectInPopup(authorize);
      if (report.status !== "ok" || !report.connection) throw new Error(report.message ?? "The account was not connected.");
      reload();
      onChange(report.connection.id);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const connectNew = () => {
    if (!api || !declared) return;
    if (declared.kind === "oauth2") void viaPopup(() => api.startOAuth(type));
    else setForm(true);
  };
  const known = !value || !!selected || connections === null;
  return (
    <div className="wk-connection">
      <select
        id={id}
        value={typeof value === "string" ? value : ""}
        required={required}
        disabled={disabled || readonly || busy}
        onChange={(event) => onChange(event.target.value || undefined)}
      >
        <option value="">{connections ? (connections.length ? `Choose a ${typeName} account…` : `No ${typeName} account yet`) : "Loading accounts…"}</option>
        {(connections ?? []).map((c) => (
          <option key={c.id} value={c.id}>
            {connectionLabel(c)}
          </option>
        ))}
        {!known && <option value={String(value)}>An account that is not available</option>}
      </select>
      <div className="wk-connection-actions">
        <button type="button" className="wk-button" disabled={disabled || readonly || busy || !declared} onClick={connectNew}>
          Connect a new account
        </button>
      </div>
      {selected?.status === "broken" && (
        <div className="wk-banner conflict" role="status">
          {selected.name} stopped working: the service no longer accepts it.
          <button type="button" className="wk-button" disabled={busy || !api} onClick={() => api && void viaPopup(() => api.reconnect(selected.id))}>
            Reconnect
          </button>
        </div>
      )}
      {busy && <div className="wk-help">Finish signing in in the window that opened…</div>}
      {form && api && declared && (
        <ApiKeyDialog
          api={api}
          declared={declared}
          onClose={() => setForm(false)}
          onCreated={(made) => {
            setForm(false);
            reload();
            onChange(made.id);
          }}
        />
      )}
      {error && <div className="wk-problems" role="alert">{error}</div>}
    </div>
  );
}

/** The API-key form of a connection type, with a name for the new connection. Secret fields are typed
 * into password boxes and go to the API once; nothing of them comes back. */
function ApiKeyDialog(props: { api: Api; declared: ConnectionTypeDef; onClose: () => void; onCreated: (made: ConnectionRecord) => void }) {
  const { api, declared } = props;
  const fields = formFields(declared.schema);
  const [name, setName] = useState(`${declared.name} account`);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const filled = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
      props.onCreated(await api.createConnection(declared.type, name, filled));
    } catch (e) {
      // "fields.api_key: ..." from the API: said with the field's label
      const message = (e as Error).message.replace(/^fields\.(\w+): /, (_, key: string) => `${fields.find((f) => f.name === key)?.label ?? key}: `);
      setError(message);
      setSaving(false);
    }
  };
  const title = `Connect a ${declared.name} account`;
  return (
    <div className="wk-connection-dialog" role="dialog" aria-label={title}>
      <h4>{title}</h4>
      {declared.description && <p className="wk-help">{declared.description}</p>}
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {fields.map((field) => (
        <label key={field.name}>
          {field.label}
          {field.required && <span aria-hidden="true"> *</span>}
          <input
            type={field.secret ? "password" : "text"}
            autoComplete={field.secret ? "new-password" : "off"}
            value={values[field.name] ?? ""}
            onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
          />
          {field.hint && <span className="wk-help">{field.hint}</span>}
        </label>
      ))}
      {error && <div className="wk-problems" role="alert">{error}</div>}
      <div className="wk-input-row">
        <button type="button" className="wk-button primary" disabled={saving || !name.trim()} onClick={() => void save()}>
          Connect
        </button>
        <button type="button" className="wk-button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </div>
  );
}
