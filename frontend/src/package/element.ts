// `@workflow-kit/editor/element`, and the script `workflow-kit serve` serves at /embed/workflow-editor.js
// (built with React inside): importing it defines <workflow-editor> (see ../element/WorkflowEditorElement).

import { defineWorkflowEditor } from "../element/define";

export { defineWorkflowEditor } from "../element/define";
export { WorkflowEditorElement, type TokenExpiredDetail, type TokenExpiredEvent } from "../element/WorkflowEditorElement";
export { Api, ApiError, UNREACHABLE, type TokenOptions, type TokenProvider } from "../api";

defineWorkflowEditor();
