// `@workflow-kit/editor`: the editor as a React component for React hosts (React comes from the host).
//
//   import { WorkflowEditor, useEditorApi } from "@workflow-kit/editor";
//   import "@workflow-kit/editor/style.css";
//
//   const api = useEditorApi("https://automations.example.com", token, { tokenProvider: fetchEditorToken });
//   <WorkflowEditor api={api} workflowId={id} />
//
// The editor keeps its state while the Api's token changes: give it a new one with useEditorApi (or
// api.setToken(t) on an Api you keep), or a tokenProvider it asks when the API refuses the current one.
// Theme it with the --wk-* CSS variables on any ancestor. For <workflow-editor>, import
// "@workflow-kit/editor/element".

export { Studio as WorkflowEditor, type StudioProps as WorkflowEditorProps, type View } from "../ui/Studio";
export { Api, ApiError, UNREACHABLE, type TokenOptions, type TokenProvider, type WorkflowChange } from "../api";
export { useEditorApi } from "./useEditorApi";
export type * from "../types";
