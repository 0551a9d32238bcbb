import type { WidgetProps } from "@rjsf/utils";
import { useEffect, useState } from "react";
import type { Api } from "../../api";
import type { WorkflowRecord } from "../../types";

export interface WorkflowPickerContext {
  api: Api | null;
  /** The workflow being edited: not offered (a workflow that runs itself never ends). */
  workflowId?: string;
}

/** "Run a workflow": the tenant's workflows by name (the value is the workflow's id). */
export function WorkflowWidget({ id, value, onChange, required, disabled, readonly, registry }: WidgetProps) {
  const context = registry.formContext as WorkflowPickerContext;
  const [workflows, setWorkflows] = useState<WorkflowRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    context.api?.workflows().then(
      (found) => !gone && setWorkflows(found),
      (e: Error) => !gone && setError(e.message),
    );
    return () => {
      gone = true;
    };
  }, [context.api]);
  const choices = (workflows ?? []).filter((w) => w.id !== context.workflowId);
  const known = !value || choices.some((w) => w.id === value);
  return (
    <>
      <select
        id={id}
        value={typeof value === "string" ? value : ""}
        required={required}
        disabled={disabled || readonly}
        onChange={(event) => onChange(event.target.value || undefined)}
      >
        <option value="">{workflows ? "Choose a workflow…" : "Loading workflows…"}</option>
        {choices.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
            {w.published_version ? "" : " (not published yet)"}
          </option>
        ))}
        {!known && <option value={String(value)}>A workflow that no longer exists</option>}
      </select>
      {error && <div className="wk-problems">Could not list the workflows: {error}</div>}
    </>
  );
}
