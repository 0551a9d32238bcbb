import { WorkflowEditorElement } from "./WorkflowEditorElement";

/** Define <workflow-editor> (once: a page that loads the script twice keeps the first definition). */
export function defineWorkflowEditor(): void {
  if (typeof window === "undefined" || customElements.get("workflow-editor")) return;
  customElements.define("workflow-editor", WorkflowEditorElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "workflow-editor": WorkflowEditorElement;
  }
}
