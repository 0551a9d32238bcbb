// The embeddable editor: a custom element for any page, and the React component for React hosts.
//
//   <script src="https://your-app/embed/workflow-editor.js"></script>
//   <workflow-editor api-base="https://your-app" token="..." workflow-id="..."></workflow-editor>
//
// It talks only to the editor API. Theme it with the --wk-* CSS variables on the element.

import xyflowCss from "@xyflow/react/dist/style.css?inline";
import { StrictMode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { Api } from "./api";
import editorCss from "./ui/styles.css?inline";
import { Studio } from "./ui/Studio";

export { Api } from "./api";
export { Studio as WorkflowEditor } from "./ui/Studio";

const STYLE_ID = "workflow-kit-editor-styles";

function injectStyles(): void {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = `${xyflowCss}\n${editorCss}`;
  document.head.appendChild(style);
}

export class WorkflowEditorElement extends HTMLElement {
  static observedAttributes = ["api-base", "token", "workflow-id"];
  private root: Root | null = null;

  connectedCallback(): void {
    injectStyles();
    if (!this.style.display) this.style.display = "block";
    this.root ??= createRoot(this);
    this.render();
  }

  attributeChangedCallback(): void {
    if (this.root) this.render();
  }

  disconnectedCallback(): void {
    this.root?.unmount();
    this.root = null;
  }

  private render(): void {
    const token = this.getAttribute("token");
    const base = this.getAttribute("api-base") ?? "";
    const workflowId = this.getAttribute("workflow-id") ?? undefined;
    if (!this.root) return;
    if (!token) {
      this.root.render(<p className="wk-problems">workflow-editor: the token attribute is required.</p>);
      return;
    }
    this.root.render(
      <StrictMode>
        <Studio key={`${base}|${token}|${workflowId ?? ""}`} api={new Api(base, token)} workflowId={workflowId} />
      </StrictMode>,
    );
  }
}

if (typeof window !== "undefined" && !customElements.get("workflow-editor")) {
  customElements.define("workflow-editor", WorkflowEditorElement);
}
