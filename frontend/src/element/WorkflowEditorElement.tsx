// <workflow-editor>: the editor for any page, in an open shadow root with its CSS inside (the host
// page's CSS stays out, the editor's stays in; the --wk-* variables set on the element theme it).
//
//   <workflow-editor api-base="https://automations.example.com" token="..." workflow-id="..."></workflow-editor>
//
// Attributes: api-base (the editor API's URL; this page's origin if absent), token (an editor token from
// your backend), workflow-id (open this workflow only; without it, the tenant's workflow list).
// Properties: token (the same; setting it keeps the editor and its unsaved draft as they are) and
// tokenProvider (() => Promise<string>: asked for a new token when the API refuses the current one, the
// request is then retried once). Event: token-expired (bubbles, composed; detail.message), when a request
// failed for want of a valid token and no provider gave one: set a new token and the user can try again.

import { StrictMode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { Api, type ApiError, type TokenOptions, type TokenProvider } from "../api";
import { Studio } from "../ui/Studio";
import { SHADOW_CSS } from "./shadowStyles";

/** The detail of the token-expired event. */
export interface TokenExpiredDetail {
  message: string;
}

export type TokenExpiredEvent = CustomEvent<TokenExpiredDetail>;

const PROPERTIES = ["token", "tokenProvider"] as const;

export class WorkflowEditorElement extends HTMLElement {
  static observedAttributes = ["api-base", "token", "workflow-id"];

  private root: Root | null = null;
  private mount: HTMLDivElement | null = null;
  private api: Api | null = null;
  private apiBase = "";
  private tokenValue = "";
  private provider: TokenProvider | undefined;

  /** The token requests are sent with (the last one set, or the provider's). */
  get token(): string {
    return this.api?.token ?? this.tokenValue;
  }

  set token(value: string) {
    this.useToken(String(value ?? ""));
  }

  get tokenProvider(): TokenProvider | null {
    return this.provider ?? null;
  }

  set tokenProvider(value: TokenProvider | null | undefined) {
    this.provider = typeof value === "function" ? value : undefined;
    if (this.api) this.api.setTokenOptions(this.tokenOptions());
    else this.update();
  }

  connectedCallback(): void {
    this.upgradeProperties();
    if (!this.mount) {
      const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
      const style = document.createElement("style");
      style.textContent = SHADOW_CSS;
      this.mount = document.createElement("div");
      this.mount.className = "wk-mount";
      shadow.append(style, this.mount);
    }
    this.root ??= createRoot(this.mount);
    this.update();
  }

  attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
    if (name === "token") this.useToken(value ?? "");
    else this.update();
  }

  disconnectedCallback(): void {
    // moved within the page (disconnected and connected again at once): keep the editor as it is
    queueMicrotask(() => {
      if (this.isConnected || !this.root) return;
      this.root.unmount();
      this.root = null;
    });
  }

  /** A property set on the element before its script defined it is an own property hiding the accessor. */
  private upgradeProperties(): void {
    const self = this as unknown as Record<string, unknown>;
    for (const property of PROPERTIES) {
      if (!Object.prototype.hasOwnProperty.call(self, property)) continue;
      const value = self[property];
      delete self[property];
      self[property] = value;
    }
  }

  private useToken(token: string): void {
    this.tokenValue = token;
    if (this.api) this.api.setToken(token);
    else this.update();
  }

  private tokenOptions(): TokenOptions {
    return { tokenProvider: this.provider, onTokenExpired: (error) => this.tokenExpired(error) };
  }

  private tokenExpired(error: ApiError): void {
    const detail: TokenExpiredDetail = { message: error.message };
    this.dispatchEvent(new CustomEvent("token-expired", { bubbles: true, composed: true, detail }));
  }

  private update(): void {
    if (!this.root) return;
    const base = this.getAttribute("api-base") ?? "";
    const workflowId = this.getAttribute("workflow-id") || undefined;
    if (!this.api && !this.tokenValue && !this.provider) {
      this.root.render(
        <div className="wk-root">
          <div className="wk-banner error" role="alert">
            workflow-editor: set the token attribute (an editor token from your backend) or the tokenProvider property.
          </div>
        </div>,
      );
      return;
    }
    if (!this.api || base !== this.apiBase) {
      this.api = new Api(base, this.api?.token ?? this.tokenValue, this.tokenOptions());
      this.apiBase = base;
    }
    this.root.render(
      <StrictMode>
        <Studio key={`${base}|${workflowId ?? ""}`} api={this.api} workflowId={workflowId} />
      </StrictMode>,
    );
  }
}
