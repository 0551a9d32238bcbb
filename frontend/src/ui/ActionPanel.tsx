import Form from "@rjsf/core";
import type { FieldTemplateProps, MultiSchemaFieldTemplateProps, RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useMemo, useRef, useState } from "react";
import { cleanJson, errorSchemaFor, formSchema, setIn, uiSchemaFor } from "../forms";
import { findRefs, insertRef, isWholeRef, removeRef } from "../refs";
import { SOURCE, type ActionDef, type Json, type JsonObject, type Problem, type Workflow, type WorkflowAction } from "../types";
import { incoming, wouldCycle } from "../workflowOps";
import { BUTTON_TEMPLATES } from "./formButtons";
import { ActionIcon } from "./nodes";
import { RefPicker, type RefGroup } from "./RefPicker";

/** What the fields reach through the form library's registry. The library keeps its first registry (it
 * compares functions as equal), so this object is made once per panel and reads the panel's latest
 * props: a ref picked or a chip removed applies to the current inputs, not to those of the first render. */
interface FormContext {
  readonly groups: RefGroup[];
  set: (path: Array<string | number>, value: Json | undefined) => void;
}

/** The form context over `latest`, which the panel points at its newest props on every render. */
export function formContextOver(latest: {
  current: { inputs: JsonObject; groups: RefGroup[]; onChange: (change: Partial<WorkflowAction>) => void };
}): FormContext {
  return {
    get groups() {
      return latest.current.groups;
    },
    set: (path, value) => latest.current.onChange({ inputs: setIn(latest.current.inputs, path, value) as JsonObject }),
  };
}

function isContainer(schema: RJSFSchema): boolean {
  return (schema.type === "object" && !!schema.properties) || schema.type === "array";
}

/** Every field: its label (required ones marked), the widget or a chip when it holds a whole ref, a
 * button to insert a ref, chips for refs inside text, and the server's problems for the field. */
function FieldTemplate(props: FieldTemplateProps) {
  const { id, label, required, children, rawErrors, schema, formData, fieldPathId, displayLabel, hidden, registry, rawDescription } = props;
  const [open, setOpen] = useState(false);
  const context = registry.formContext as FormContext;
  const path = fieldPathId.path;
  if (hidden) return <div hidden>{children}</div>;
  if (path.length === 0 || isContainer(schema)) {
    return (
      <div className="wk-field">
        {children}
        {rawErrors && rawErrors.length > 0 && (
          <ul className="wk-problems">{rawErrors.map((e) => <li key={e}>{e}</li>)}</ul>
        )}
      </div>
    );
  }
  const title = label || String(path[path.length - 1]);
  const whole = isWholeRef(formData);
  // a field with a choice of schemas (e.g. an optional object): its label names the choice's select
  const choice = schema.anyOf ? `${id}__anyof_select` : schema.oneOf ? `${id}__oneof_select` : undefined;
  const spans = typeof formData === "string" && !whole ? findRefs(formData) : [];
  const pick = (refPath: string) => {
    const append = schema.type === "string" && typeof formData === "string" && formData.length > 0 && !whole;
    context.set(path, insertRef(formData, refPath, append ? "append" : "replace"));
    setOpen(false);
  };
  return (
    <div className="wk-field" data-field={path.join(".")}>
      {(displayLabel || whole) && (
        <label htmlFor={whole ? id : (choice ?? id)}>
          {title}
          {required && <span aria-hidden="true"> *</span>}
        </label>
      )}
      <div className="wk-input-row">
        {whole ? (
          <span className="wk-chip" id={id} role="status" aria-label={`${title} is ${formData}`}>
            {formData as string}
            <button type="button" aria-label={`Remove the reference from ${title}`} onClick={() => context.set(path, undefined)}>
              ×
            </button>
          </span>
        ) : (
          children
        )}
        <button
          type="button"
          className="wk-button wk-ref-button"
          aria-label={`Insert a reference into ${title}`}
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          + ref
        </button>
      </div>
      {spans.length > 0 && (
        <div className="wk-chips" aria-label={`References in ${title}`}>
          {spans.map((span, index) => (
            <span className="wk-chip" key={`${span.start}`}>
              {span.path}
              <button
                type="button"
                aria-label={`Remove ${span.path} from ${title}`}
                onClick={() => context.set(path, removeRef(formData as string, index))}
              >
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      {open && <RefPicker label={title} groups={context.groups} onPick={pick} onClose={() => setOpen(false)} />}
      {rawDescription && <div className="wk-help">{rawDescription}</div>}
      {rawErrors && rawErrors.length > 0 && (
        <ul className="wk-problems" aria-label={`Problems with ${title}`}>
          {rawErrors.map((e) => <li key={e}>{e}</li>)}
        </ul>
      )}
    </div>
  );
}

/** A choice of schemas (e.g. an object or None): the select, then the chosen schema's fields. */
function MultiSchemaFieldTemplate({ selector, optionSchemaField }: MultiSchemaFieldTemplateProps) {
  return (
    <div className="wk-choice-field">
      {selector}
      {optionSchemaField}
    </div>
  );
}

const TEMPLATES = { FieldTemplate, MultiSchemaFieldTemplate, ButtonTemplates: BUTTON_TEMPLATES };

export interface ActionPanelProps {
  workflow: Workflow;
  action: WorkflowAction;
  definition: ActionDef | undefined;
  problems: Problem[];
  refGroups: RefGroup[];
  onChange: (change: Partial<WorkflowAction>) => void;
  onConnectFrom: (from: string) => void;
  onDisconnect: (from: string) => void;
  onDelete: () => void;
}

export function ActionPanel(props: ActionPanelProps) {
  const { workflow, action, definition, problems } = props;
  const [connectFrom, setConnectFrom] = useState("");
  const inputs = (action.inputs ?? {}) as JsonObject;
  const inputProblems = problems.filter((p) => /\.inputs(\.|\[|$)/.test(p.path));
  const otherProblems = problems.filter((p) => !inputProblems.includes(p));
  const parents = incoming(workflow, action.id).map((e) => e.from);
  const candidates = [SOURCE, ...workflow.actions.map((a) => a.id)].filter(
    (id) => id !== action.id && !parents.includes(id) && !wouldCycle(workflow, id, action.id),
  );
  const latest = useRef({ inputs, groups: props.refGroups, onChange: props.onChange });
  latest.current = { inputs, groups: props.refGroups, onChange: props.onChange };
  const context = useMemo(() => formContextOver(latest), []);
  const title = action.name || definition?.name || action.kind;
  const shownSchema = definition ? formSchema(definition.inputs, inputs) : {};
  return (
    <div aria-label={`Settings of ${title}`}>
      <div className="wk-section">
        <h2>
          <span aria-hidden="true"><ActionIcon icon={definition?.icon} /> </span>
          {definition?.name ?? action.kind}
        </h2>
        {definition?.description && <div className="wk-help">{definition.description}</div>}
        <div className="wk-help">id: {action.id}</div>
      </div>
      {otherProblems.length > 0 && (
        <ul className="wk-problems" aria-label="Problems with this action">
          {otherProblems.map((p) => <li key={p.path + p.message}>{p.message}</li>)}
        </ul>
      )}
      <div className="wk-field">
        <label htmlFor={`wk-name-${action.id}`}>Name on the canvas</label>
        <input
          id={`wk-name-${action.id}`}
          value={action.name ?? ""}
          placeholder={definition?.name ?? action.kind}
          onChange={(e) => props.onChange({ name: e.target.value || undefined })}
        />
      </div>
      {definition ? (
        <div className="wk-section wk-form">
          <h3>Inputs</h3>
          <Form
            key={action.id}
            schema={shownSchema as RJSFSchema}
            uiSchema={uiSchemaFor(shownSchema)}
            formData={inputs}
            validator={validator}
            noHtml5Validate
            showErrorList={false}
            extraErrors={errorSchemaFor(inputProblems)}
            formContext={context}
            templates={TEMPLATES}
            idPrefix={`wk-${action.id}`}
            onChange={(event) => props.onChange({ inputs: cleanJson(event.formData ?? {}) as JsonObject })}
          >
            <></>
          </Form>
        </div>
      ) : (
        <p className="wk-problems">This action's kind ({action.kind}) is not available here.</p>
      )}
      <div className="wk-section">
        <h3>Runs after</h3>
        <ul className="wk-list" aria-label="Incoming connections">
          {parents.map((from) => (
            <li key={from} style={{ display: "flex", alignItems: "center", gap: 8, padding: "4px 0" }}>
              <span style={{ flex: 1 }}>{parentName(from)}</span>
              <button type="button" className="wk-link" onClick={() => props.onDisconnect(from)} aria-label={`Disconnect from ${parentName(from)}`}>
                remove
              </button>
            </li>
          ))}
        </ul>
        <div className="wk-field" style={{ marginTop: 8 }}>
          <label htmlFor={`wk-connect-${action.id}`}>Also run after</label>
          <div className="wk-input-row">
            <select id={`wk-connect-${action.id}`} value={connectFrom} onChange={(e) => setConnectFrom(e.target.value)}>
              <option value="">Choose…</option>
              {candidates.map((id) => (
                <option key={id} value={id}>{parentName(id)}</option>
              ))}
            </select>
            <button
              type="button"
              className="wk-button"
              disabled={!connectFrom}
              onClick={() => {
                props.onConnectFrom(connectFrom);
                setConnectFrom("");
              }}
            >
              Connect
            </button>
          </div>
        </div>
      </div>
      <button type="button" className="wk-button danger" onClick={props.onDelete}>
        Delete this action
      </button>
    </div>
  );
}

/** How a connection's source reads in the panel: the trigger by that name, an action by its id. */
function parentName(id: string): string {
  return id === SOURCE ? "the trigger" : id;
}
