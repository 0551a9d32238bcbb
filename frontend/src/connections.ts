// Connections: the tenant's accounts at outside services, as the editor handles them. An action input
// whose schema says `x-connection-type` holds one connection's id; the editor draws a picker for it,
// connects new accounts (a form in a dialog for API keys, the provider's pop-up for OAuth) and marks
// those that stopped working ("Reconnect"), in the action panel and in the workflow list.

import type { ConnectionRecord, Json, JsonObject, Workflow } from "./types";

/** The type of the `postMessage` the OAuth pop-up sends its opener when it is done. */
export const CONNECTION_MESSAGE = "workflow-kit:connection";

export interface ConnectionMessage {
  type: typeof CONNECTION_MESSAGE;
  status: "ok" | "error";
  message?: string;
  connection?: { id: string; name: string; type: string };
}

/** The connection type an input takes, or null when it is not a connection. */
export function connectionTypeOf(property: JsonObject | undefined): string | null {
  const type = property?.["x-connection-type"];
  return typeof type === "string" && type ? type : null;
}

export function isConnectionMessage(data: unknown): data is ConnectionMessage {
  return !!data && typeof data === "object" && (data as { type?: unknown }).type === CONNECTION_MESSAGE;
}

/** What the picker offers for a connection: its name, and that it must be reconnected when broken. */
export function connectionLabel(connection: Pick<ConnectionRecord, "name" | "status">): string {
  return connection.status === "broken" ? `${connection.name} (stopped working)` : connection.name;
}

/** The fields of an API-key type's form, in order: each one's name, label, whether it is secret
 * (typed in a password box) and required. */
export function formFields(schema: JsonObject | undefined): Array<{ name: string; label: string; secret: boolean; required: boolean; hint?: string }> {
  const properties = (schema?.properties ?? {}) as JsonObject;
  const required = new Set(Array.isArray(schema?.required) ? (schema?.required as Json[]).map(String) : []);
  return Object.entries(properties).map(([name, raw]) => {
    const property = (raw && typeof raw === "object" && !Array.isArray(raw) ? raw : {}) as JsonObject;
    const title = typeof property.title === "string" ? property.title : humanName(name);
    const hint = typeof property.description === "string" ? property.description : undefined;
    return { name, label: title, secret: property["x-secret"] === true, required: required.has(name), ...(hint ? { hint } : {}) };
  });
}

function humanName(name: string): string {
  const words = name.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim().toLowerCase();
  const text = words.replace(/\bapi\b/g, "API").replace(/\burl\b/g, "URL").replace(/\bid\b/g, "ID");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The ids of the connections a workflow's steps hold (loop bodies included): any input whose value is
 * one of `ids`. Connection ids are unique strings, so an input holding one uses it. */
export function usedConnections(workflow: Pick<Workflow, "actions"> | undefined, ids: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const visit = (actions: Workflow["actions"] | undefined) => {
    for (const action of actions ?? []) {
      for (const value of Object.values(action.inputs ?? {})) if (typeof value === "string" && ids.has(value)) found.add(value);
      visit(action.body?.actions);
    }
  };
  visit(workflow?.actions);
  return found;
}

/** Connect an account in a pop-up: the window opens at once (in the click, so no blocker stops it),
 * goes to the URL `authorize` gets from the API, and the promise settles with what the pop-up reports
 * (or that it was closed first). */
export function connectInPopup(authorize: () => Promise<string>, win: Window = window): Promise<ConnectionMessage> {
  const popup = win.open("", "wk-connect", "popup,width=520,height=700");
  return new Promise((resolve, reject) => {
    if (!popup) {
      reject(new Error("The browser blocked the sign-in window: allow pop-ups for this page, then try again."));
      return;
    }
    let closedOnce = false;
    const done = () => {
      win.removeEventListener("message", listen);
      win.clearInterval(timer);
    };
    const listen = (event: MessageEvent) => {
      if (event.source !== popup || !isConnectionMessage(event.data)) return;
      done();
      resolve(event.data);
    };
    // closed without a word: give a message already sent one more tick to arrive
    const timer = win.setInterval(() => {
      if (!popup.closed) return;
      if (!closedOnce) {
        closedOnce = true;
        return;
      }
      done();
      resolve({ type: CONNECTION_MESSAGE, status: "error", message: "The sign-in window was closed before the account was connected." });
    }, 400);
    win.addEventListener("message", listen);
    authorize().then(
      (url) => {
        popup.location.href = url;
      },
      (error: Error) => {
        done();
        popup.close();
        reject(error);
      },
    );
  });
}
