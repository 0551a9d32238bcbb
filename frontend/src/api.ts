// The editor API client: every call the editor makes, typed, with errors as ApiError.
//
// The token can change while the editor is open (the editor keeps its draft): setToken() gives it a new
// one, and a tokenProvider is asked for one when the API answers 401; the request is then sent once more.

import { ApiError, refreshFailedMessage, sessionMessage, UNREACHABLE, unreachableMessage } from "./apiErrors";
import type { ActionDef, Json, JsonObject, Problem, Run, RunStatus, StoredEvent, Trigger, Version, Workflow, WorkflowRecord } from "./types";
import { runsQuery, type BulkFilter, type EventPage, type EventRuns, type Operation, type RunFilter, type RunPage, type RunStats } from "./history";
import type {
  AssistantStatus,
  ConnectionRecord,
  ConnectionTypeDef,
  DraftProposal,
  EventTypeDef,
  Hook,
  HookDelivery,
  HookRequest,
  HookSecret,
  HookSettings,
  StepTestResult,
  TemplateDef,
  TenantSettings,
} from "./types";

export { ApiError, UNREACHABLE } from "./apiErrors";

export interface WorkflowChange {
  name?: string;
  description?: string;
  triggers?: Trigger[];
  workflow?: Workflow;
  settings?: Record<string, Json>;
  publish?: boolean;
}

/** Resolves to a new editor token (your backend mints it: kit.editor_token(tenant, user)). */
export type TokenProvider = () => Promise<string>;

export interface TokenOptions {
  /** Asked for a new token when the API answers 401 (the token expired or is not valid); the request is
   * retried once with it. Concurrent requests share one call. */
  tokenProvider?: TokenProvider;
  /** Told when a request failed for want of a valid token (no provider, or its token was refused too). */
  onTokenExpired?: (error: ApiError) => void;
}

export class Api {
  readonly base: string;
  private current: string;
  private options: TokenOptions;
  private refreshing: Promise<string> | null = null;
  private reported: string | null = null;

  constructor(base: string, token: string, options: TokenOptions = {}) {
    this.base = base.replace(/\/+$/, "");
    this.current = token;
    this.options = { ...options };
  }

  /** The token requests are sent with now. */
  get token(): string {
    return this.current;
  }

  /** Use this token from the next request on (the editor stays as it is: nothing is reloaded). */
  setToken(token: string): void {
    this.current = token;
  }

  /** Replace the token provider and the expiry listener (undefined removes one). */
  setTokenOptions(options: TokenOptions): void {
    this.options = { ...options };
  }

  private request(method: string, path: string, token: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: unknown) => {
      if (error instanceof TypeError) {
        throw new ApiError(UNREACHABLE, "unreachable", unreachableMessage(this.base, globalThis.location?.origin));
      }
      throw error;
    });
  }

  /** A token to retry with after `stale` was refused: one set since, or the provider's. Null if none. */
  private async fresher(stale: string): Promise<string | null> {
    if (this.current !== stale) return this.current;
    const provider = this.options.tokenProvider;
    if (!provider) return null;
    this.refreshing ??= Promise.resolve()
      .then(provider)
      .finally(() => {
        this.refreshing = null;
      });
    try {
      const token = await this.refreshing;
      this.current = token;
      return token;
    } catch (error) {
      const failed = new ApiError(401, "token_refresh_failed", refreshFailedMessage(error));
      this.expired(stale, failed);
      throw failed;
    }
  }

  /** Tell the listener once per refused token. */
  private expired(token: string, error: ApiError): void {
    if (this.reported === token) return;
    this.reported = token;
    this.options.onTokenExpired?.(error);
  }

  private async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let token = this.current;
    let response = await this.request(method, path, token, body, headers);
    if (response.status === 401) {
      const fresh = await this.fresher(token);
      if (fresh !== null) {
        token = fresh;
        response = await this.request(method, path, token, body, headers);
      }
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = { code: "bad_response", message: text.slice(0, 200) };
    }
    if (!response.ok) {
      const p = (payload ?? {}) as { code?: string; message?: string; problems?: Problem[]; current_version?: number; path?: string };
      if (response.status === 401) {
        const error = new ApiError(401, p.code ?? "unauthorized", sessionMessage(p.message ?? ""));
        this.expired(token, error);
        throw error;
      }
      throw new ApiError(response.status, p.code ?? "error", p.message ?? response.statusText, p.problems ?? [], p.current_version, p.path);
    }
    return payload as T;
  }

  actions(): Promise<ActionDef[]> {
    return this.call("GET", "/api/actions");
  }

  /** The JSON Schema of a workflow's flow-control settings. */
  settingsSchema(): Promise<JsonObject> {
    return this.call("GET", "/api/settings-schema");
  }

  async workflows(): Promise<WorkflowRecord[]> {
    return (await this.call<{ items: WorkflowRecord[] }>("GET", "/api/workflows?limit=500")).items;
  }

  workflow(id: string): Promise<WorkflowRecord> {
    return this.call("GET", `/api/workflows/${encodeURIComponent(id)}`);
  }

  create(name: string, triggers: Trigger[], workflow: Workflow, description = "", settings?: JsonObject): Promise<WorkflowRecord> {
    return this.call("POST", "/api/workflows", { name, triggers, workflow, description, ...(settings ? { settings } : {}) });
  }

  update(id: string, change: WorkflowChange, version: number): Promise<WorkflowRecord> {
    return this.call("PUT", `/api/workflows/${encodeURIComponent(id)}`, { ...change, version });
  }

  remove(id: string): Promise<void> {
    return this.call("DELETE", `/api/workflows/${encodeURIComponent(id)}`);
  }

  /** The problems of a workflow instance, and of its triggers (paths "triggers[1].if") and settings
   * (paths "settings...") when given, as saving them would report. */
  async validate(workflow: Workflow, triggers?: Trigger[], settings?: JsonObject): Promise<Problem[]> {
    const body = triggers || settings ? { workflow, ...(triggers ? { triggers } : {}), ...(settings ? { settings } : {}) } : workflow;
    return (await this.call<{ problems: Problem[] }>("POST", "/api/workflows/validate", body)).problems;
  }

  /** Freeze the draft as the next version, with an optional note saying what changed. */
  publish(id: string, version: number, message?: string): Promise<Version> {
    return this.call("POST", `/api/workflows/${encodeURIComponent(id)}/publish`, { version, ...(message ? { message } : {}) });
  }

  setEnabled(id: string, enabled: boolean): Promise<WorkflowRecord> {
    return this.call("POST", `/api/workflows/${encodeURIComponent(id)}/${enabled ? "enable" : "disable"}`);
  }

  async versions(id: string): Promise<Version[]> {
    return (await this.call<{ items: Version[] }>("GET", `/api/workflows/${encodeURIComponent(id)}/versions`)).items;
  }

  async test(id: string, event: { name: string; data: Json }): Promise<string> {
    return (await this.call<{ run_id: string }>("POST", `/api/workflows/${encodeURIComponent(id)}/test`, { event })).run_id;
  }

  async events(name?: string): Promise<StoredEvent[]> {
    const query = name ? `?limit=20&name=${encodeURIComponent(name)}` : "?limit=20";
    return (await this.call<{ items: StoredEvent[] }>("GET", `/api/events${query}`)).items;
  }

  async send(event: { name: string; data: Json }): Promise<string[]> {
    return (await this.call<{ ids: string[] }>("POST", "/api/events", event)).ids;
  }

  async runs(workflowId: string, status?: RunStatus): Promise<Run[]> {
    const query = `?limit=50&workflow_id=${encodeURIComponent(workflowId)}${status ? `&status=${status}` : ""}`;
    return (await this.call<{ items: Run[] }>("GET", `/api/runs${query}`)).items;
  }

  /** The workflow a run follows (the version it pinned). */
  runWorkflow(id: string): Promise<{ workflow: Workflow; triggers: Trigger[] }> {
    return this.call("GET", `/api/runs/${encodeURIComponent(id)}/workflow`);
  }

  run(id: string): Promise<Run> {
    return this.call("GET", `/api/runs/${encodeURIComponent(id)}`);
  }

  cancel(id: string): Promise<Run> {
    return this.call("POST", `/api/runs/${encodeURIComponent(id)}/cancel`);
  }

  async rerun(id: string, fromFailedStep: boolean): Promise<string> {
    const body = { from_failed_step: fromFailedStep };
    return (await this.call<{ run_id: string }>("POST", `/api/runs/${encodeURIComponent(id)}/rerun`, body)).run_id;
  }

  /** A page of the tenant's runs, newest first; pass the page's `next_cursor` for the next one. */
  runPage(filter: RunFilter, cursor?: string | null, limit = 50): Promise<RunPage> {
    return this.call("GET", `/api/runs?${runsQuery(filter, cursor, limit)}`);
  }

  /** Cancel (or replay) every run a filter matches, in the background: the operation, to follow. */
  bulk(kind: "cancel" | "replay", filter: BulkFilter): Promise<Operation> {
    return this.call("POST", `/api/runs/bulk-${kind}`, filter);
  }

  operation(id: string): Promise<Operation> {
    return this.call("GET", `/api/operations/${encodeURIComponent(id)}`);
  }

  /** A page of received events (each with the runs it started), newest first. */
  /** A page of received events; `system` false leaves out the kit's own run updates, true lists only those. */
  eventPage(cursor?: string | null, limit = 50, system?: boolean): Promise<EventPage> {
    const query = new URLSearchParams({
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
      ...(system === undefined ? {} : { system: String(system) }),
    });
    return this.call("GET", `/api/events?${query.toString()}`);
  }

  eventRuns(id: string): Promise<EventRuns> {
    return this.call("GET", `/api/events/${encodeURIComponent(id)}/runs`);
  }

  /** A workflow's runs and failures per hour (24 h) or per 6 hours (7 days). */
  stats(workflowId: string, range: "24h" | "7d"): Promise<RunStats> {
    return this.call("GET", `/api/workflows/${encodeURIComponent(workflowId)}/stats?range=${range}`);
  }

  /** The declared event types: each one's data schema and examples. */
  eventTypes(): Promise<EventTypeDef[]> {
    return this.call("GET", "/api/event-types");
  }

  /** Try one step of the workflow (the unsaved instance when given) against a sample event; the
   * upstream outputs not given come from the draft's kept samples, else the latest run. Nothing is stored. */
  testStep(id: string, request: { action_id: string; event?: { name: string; data: Json }; workflow?: Workflow; state?: JsonObject }): Promise<StepTestResult> {
    return this.call("POST", `/api/workflows/${encodeURIComponent(id)}/test-step`, request);
  }

  /** The templates the host ships, for the gallery. */
  templates(): Promise<TemplateDef[]> {
    return this.call("GET", "/api/templates");
  }

  /** Whether workflows can be drafted from words here (an AI model is configured). */
  assistant(): Promise<AssistantStatus> {
    return this.call("GET", "/api/assistant");
  }

  /** A new workflow drafted from the user's words (nothing is saved). */
  draftFromText(words: string): Promise<DraftProposal> {
    return this.call("POST", "/api/workflows/draft-from-text", { words });
  }

  /** The draft changed as the user's words ask (the editor's unsaved draft is sent; nothing is saved). */
  draftChange(id: string, words: string, workflow: Workflow, triggers: Trigger[]): Promise<DraftProposal> {
    return this.call("POST", `/api/workflows/${encodeURIComponent(id)}/draft-change`, { words, workflow, triggers });
  }

  /** The kinds of accounts the tenant may connect (API-key forms, OAuth). */
  connectionTypes(): Promise<ConnectionTypeDef[]> {
    return this.call("GET", "/api/connection-types");
  }

  /** The tenant's connections, of one type when given. */
  connections(type?: string): Promise<ConnectionRecord[]> {
    return this.call("GET", `/api/connections${type ? `?type=${encodeURIComponent(type)}` : ""}`);
  }

  /** A new API-key connection from its type's form (stored encrypted; never sent back). */
  createConnection(type: string, name: string, fields: JsonObject): Promise<ConnectionRecord> {
    return this.call("POST", "/api/connections", { type, name, fields });
  }

  /** The provider's authorize URL for a pop-up that connects a new OAuth account. */
  async startOAuth(type: string, name?: string): Promise<string> {
    return (await this.call<{ authorize_url: string }>("POST", "/api/connections/oauth/start", { type, ...(name ? { name } : {}) })).authorize_url;
  }

  /** The authorize URL that renews a connection that stopped working (it keeps its id). */
  async reconnect(id: string): Promise<string> {
    return (await this.call<{ authorize_url: string }>("POST", `/api/connections/${encodeURIComponent(id)}/reconnect`)).authorize_url;
  }

  /** A new webhook for the workflow, with its signing secret (shown this once). */
  createHook(workflowId: string, settings?: HookSettings): Promise<HookSecret> {
    return this.call("POST", `/api/workflows/${encodeURIComponent(workflowId)}/hooks`, settings ?? {});
  }

  /** A webhook's URL and settings (never its secret). */
  hook(id: string): Promise<Hook> {
    return this.call("GET", `/api/hooks/${encodeURIComponent(id)}`);
  }

  /** How the webhook checks requests, its transform, its rate limit. */
  configureHook(id: string, settings: HookSettings): Promise<Hook> {
    return this.call("PUT", `/api/hooks/${encodeURIComponent(id)}`, settings);
  }

  /** A new signing secret for the webhook (shown this once; the old one stops working). */
  rotateHookSecret(id: string): Promise<HookSecret> {
    return this.call("POST", `/api/hooks/${encodeURIComponent(id)}/secret`);
  }

  /** The webhook's last 20 requests, newest first. */
  hookRequests(id: string): Promise<HookRequest[]> {
    return this.call("GET", `/api/hooks/${encodeURIComponent(id)}/requests`);
  }

  /** Post a test request to the webhook, signed as its sender would. */
  testHook(id: string, body?: Json): Promise<HookDelivery> {
    return this.call("POST", `/api/hooks/${encodeURIComponent(id)}/test`, body === undefined ? {} : { body });
  }

  /** The workspace's (the tenant's) settings: how long its history is kept, and the default. */
  tenantSettings(): Promise<TenantSettings> {
    return this.call("GET", "/api/tenant/settings");
  }

  /** Keep the workspace's history for `retention` ("90d"), or for the default again (null). */
  saveTenantSettings(retention: string | null): Promise<TenantSettings> {
    return this.call("PUT", "/api/tenant/settings", { retention });
  }

  /** Live updates of a run (server-sent events); returns a function that stops listening. An EventSource
   * cannot send the token in a header, and a URL ends up in access logs: the stream's URL carries a
   * single-use ticket of a minute for this run (asked for first, with the token), never the token. */
  stream(id: string, onRun: (run: Run) => void, onEnd: () => void = () => {}): () => void {
    const run = encodeURIComponent(id);
    let source: EventSource | null = null;
    let stopped = false;
    void this.call<{ ticket: string }>("POST", `/api/runs/${run}/stream-ticket`)
      .then(({ ticket }) => {
        if (stopped) return;
        source = new EventSource(`${this.base}/api/runs/${run}/stream?ticket=${encodeURIComponent(ticket)}`);
        const opened = source;
        opened.addEventListener("run", (message) => onRun(JSON.parse((message as MessageEvent<string>).data) as Run));
        opened.addEventListener("end", () => {
          opened.close();
          onEnd();
        });
        opened.onerror = () => opened.close(); // a ticket is used once: no automatic reconnection
      })
      .catch(() => {}); // no live updates (the run view still shows the run it loaded)
    return () => {
      stopped = true;
      source?.close();
    };
  }
}
