import Form from "@rjsf/core";
import type { FieldTemplateProps, MultiSchemaFieldTemplateProps, RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useEffect, useMemo, useRef, useState } from "react";
import type { Api } from "../api";
import type { DataField, DataGroup } from "../dataFields";
import { cleanJson, errorSchemaFor, formSchema, inputSegments, isFreeForm, setIn, uiSchemaFor } from "../forms";
import { actionTitle, nodeTitle, pathLabel, type Catalog } from "../names";
import { problemView } from "../problemText";
import { findRefs, insertRef, isWholeRef, removeRef } from "../refs";
import { graphAt, isFailureEdge, isLoop, scopeOf } from "../scopes";
import { SOURCE, type ActionDef, type Json, type JsonObject, type Problem, type Workflow, type WorkflowAction, type WorkflowBody } from "../types";
import { incoming, wouldCycle } from "../workflowOps";
import { BUTTON_TEMPLATES } from "./formButtons";
import { ActionIcon } from "./nodes";
import { isLoopSettingsProblem, LOOP_OWN_INPUTS, LoopSettings } from "./LoopSettings";
import { PolicySection } from "./PolicySection";
import { RefPicker } from "./RefPicker";
import { StepTest } from "./StepTest";
import { FORM_FIELDS, FORM_WIDGETS } from "./widgets";

/** What the fields reach through the form library's registry. The library keeps its registry while a
 * new one is deeply equal to it, and it counts any two functions as equal: so the context carries the
 * data its functions use (the inputs, the workflow), and a change to them brings the new functions. */
export interface FormContext {
  readonly groups: DataGroup[];
  readonly api: Api | null;
  readonly workflowId?: string;
  readonly inputs: JsonObject;
  readonly workflow: Workflow;
  /** A ref's name in words: "Trigger event > Title". */
  label: (path: string) => string;
  set: (path: Array<string | number>, value: Json | undefined) => void;
}

export function formContextFor(options: {
  groups: DataGroup[];
  api: Api | null;
  workflowId?: string;
  inputs: JsonObject;
  workflow: Workflow;
  catalog: Catalog;
  onChange: (change: Partial<WorkflowAction>) => void;
}): FormContext {
  const { inputs, workflow, catalog, onChange } = options;
  return {
    groups: options.groups,
    api: options.api,
    workflowId: options.workflowId,
    inputs,
    workflow,
    label: (path) => pathLabel(path, workflow, catalog),
    set: (path, value) => onChange({ inputs: setIn(inputs, path, value) as JsonObject }),
  };
}

/** A field drawn as a group of fields (an object with declared fields, a list of items), not one control. */
function isContainer(schema: RJSFSchema): boolean {
  return (schema.type === "object" && !!schema.properties) || (schema.type === "array" && !isFreeForm(schema as JsonObject));
}

/** Every field: its label (required ones marked), a choice between a fixed value and data from earlier
 * steps, the widget or the chosen data's name, "Insert data" for text, and the field's problems. */
function FieldTemplate(props: FieldTemplateProps) {
  const { id, label, required, children, rawErrors, schema, formData, fieldPathId, displayLabel, hidden, registry, rawDescription } = props;
  const [picking, setPicking] = useState<"replace" | "append" | null>(null);
  const context = registry.formContext as FormContext;
  const path = fieldPathId.path;
  if (hidden) return <div hidden>{children}</div>;
  const problems = rawErrors && rawErrors.length > 0 && (
    <ul className="wk-problems" aria-label={`Problems with ${label || "this field"}`}>
      {rawErrors.map((e) => <li key={e}>{e}</li>)}
    </ul>
  );
  if (path.length === 0) {
    return (
      <div className="wk-field">
        {children}
        {problems}
      </div>
    );
  }
  const title = label || String(path[path.length - 1]);
  if (schema.format === "cel") {
    // the condition builder names itself and shows its problems where they are
    return (
      <div className="wk-field" data-field={path.join(".")}>
        {children}
      </div>
    );
  }
  const whole = isWholeRef(formData);
  const dataName = whole ? context.label(findRefs(formData)[0].path) : "";
  const container = isContainer(schema) && !whole;
  const choice = schema.anyOf ? `${id}__anyof_select` : schema.oneOf ? `${id}__oneof_select` : undefined;
  const spans = typeof formData === "string" && !whole ? findRefs(formData) : [];
  // a connection is one of the tenant's accounts, chosen: never data from the event or a step
  const connection = typeof schema["x-connection-type"] === "string";
  const text = schema.type === "string" && !schema.enum && schema.format !== "date-time" && schema["x-widget"] !== "workflow" && !connection;
  const pick = (field: DataField) => {
    const value = picking === "append" ? insertRef(formData, field.path, "append") : insertRef(undefined, field.path);
    context.set(path, value);
    setPicking(null);
  };
  // The controls about the field are described by its label, not named after it, so that looking the
  // field up by its label finds the field's own control only.
  const labelId = `${id}__label`;
  const mode = (
    <div className="wk-mode" role="radiogroup" aria-label="Fill with" aria-describedby={labelId}>
      <button type="button" role="radio" aria-checked={!whole} className={!whole ? "on" : ""} aria-describedby={labelId} title="A value you type or choose"
        onClick={() => whole && context.set(path, undefined)}>
        Fixed
      </button>
      <button type="button" role="radio" aria-checked={whole} className={whole ? "on" : ""} aria-describedby={labelId} title="Data from the trigger event or an earlier step"
        onClick={() => setPicking("replace")}>
        Data
      </button>
    </div>
  );
  if (schema.type === "boolean" && !whole) {
    // a checkbox names itself: the choice of a fixed value or data sits beside it
    return (
      <div className="wk-field" data-field={path.join(".")}>
        <div className="wk-input-row wk-boolean-row">
          <span id={labelId} hidden>{title}</span>
          {children}
          {mode}
        </div>
        {picking && <RefPicker label={title} groups={context.groups} onPick={pick} onClose={() => setPicking(null)} />}
        {rawDescription && <div className="wk-help">{rawDescription}</div>}
        {problems}
      </div>
    );
  }
  return (
    <div className={`wk-field${container ? " wk-field-group" : ""}`} data-field={path.join(".")}>
      <div className="wk-field-head">
        {(displayLabel || whole || container || isFreeForm(schema as JsonObject)) && (
          <label id={labelId} htmlFor={whole ? `${id}__data` : (choice ?? id)} className={container ? "wk-group-label" : undefined}>
            {title}
            {required && <span aria-hidden="true"> *</span>}
          </label>
        )}
        {!connection && mode}
      </div>
      {whole ? (
        <div className="wk-input-row">
          <span className="wk-chip" role="status" id={`${id}__data`} aria-label={`${title} uses ${dataName}`}>
            {dataName}
            <button type="button" aria-label={`Stop using ${dataName} in ${title}`} onClick={() => context.set(path, undefined)}>
              ×
            </button>
          </span>
          <button type="button" className="wk-link" onClick={() => setPicking("replace")} aria-describedby={labelId}>
            Change
          </button>
        </div>
      ) : (
        <>
          {container && <div className="wk-group-body">{children}</div>}
          {!container && children}
          {text && (
            <button type="button" className="wk-link wk-insert" aria-describedby={labelId} aria-expanded={picking === "append"} onClick={() => setPicking(picking ? null : "append")}>
              + Insert data
            </button>
          )}
        </>
      )}
      {spans.length > 0 && (
        <div className="wk-chips" role="group" aria-label={`Data in ${title}`}>
          {spans.map((span, index) => (
            <span className="wk-chip" key={`${span.start}`}>
              {context.label(span.path)}
              <button type="button" aria-label={`Remove ${context.label(span.path)} from ${title}`} onClick={() => context.set(path, removeRef(formData as string, index))}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      {picking && <RefPicker label={title} groups={context.groups} onPick={pick} onClose={() => setPicking(null)} />}
      {rawDescription && !whole && <div className="wk-help">{rawDescription}</div>}
      {problems}
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
  api?: Api | null;
  workflowId?: string;
  workflow: Workflow;
  catalog: Catalog;
  action: WorkflowAction;
  definition: ActionDef | undefined;
  problems: Problem[];
  /** The data this step can use (the trigger event, earlier steps' outputs). */
  groups: DataGroup[];
  /** Focus this input (its segments; [] for the first one) when `seq` changes. */
  focus?: { field: Array<string | number>; seq: number } | null;
  /** `group` lets typing in one field undo as one step. */
  onChange: (change: Partial<WorkflowAction>, group?: string) => void;
  onConnectFrom: (from: string) => void;
  onDisconnect: (from: string) => void;
  onDelete: () => void;
  onAddAfter: (anchor: HTMLElement) => void;
  /** Add a step that runs when this one fails (a connection "on failure"). */
  onAddOnFailure?: (anchor: HTMLElement) => void;
  /** A loop's body changed (which step gives each item's result). */
  onBody?: (change: Partial<WorkflowBody>) => void;
  /** The trigger's sample event (parsed): "Test this step" runs against it. */
  sampleEvent?: Json | null;
  /** Keep a tested output as this step's sample data (undefined: forget it); without it, no step test. */
  onKeepOutput?: (output: Json | undefined) => void;
}

export function ActionPanel(props: ActionPanelProps) {
  const { workflow, catalog, action, definition, problems } = props;
  const [connectFrom, setConnectFrom] = useState("");
  const inputs = useMemo(() => (action.inputs ?? {}) as JsonObject, [action.inputs]);
  const views = problems.map((p) => problemView(p, workflow, catalog));
  const loop = isLoop(action);
  const policyProblems = views.filter((v) => /\.policy(\.|$)/.test(v.problem.path));
  const loopProblems = loop ? views.filter((v) => isLoopSettingsProblem(v.problem)) : [];
  const inputProblems = views.filter((v) => inputSegments(v.problem.path)?.length && !loopProblems.includes(v));
  const otherProblems = views.filter((v) => !inputProblems.includes(v) && !policyProblems.includes(v) && !loopProblems.includes(v));
  // connections are made within the graph the step is in (the workflow, or the loop around it)
  const scope = scopeOf(workflow, action.id) ?? [];
  const graph = graphAt(workflow, scope);
  const into = incoming(graph, action.id);
  const parents = into.map((e) => e.from);
  const candidates = [SOURCE, ...graph.actions.map((a) => a.id)].filter(
    (id) => id !== action.id && !parents.includes(id) && !wouldCycle(graph, id, action.id),
  );
  const loopAround = scope[scope.length - 1];
  const startName = loopAround ? `the start of ${nodeTitle(loopAround, workflow, catalog)}` : "the trigger";
  const title = actionTitle(action, definition);
  const nameOf = (id: string) => (id === SOURCE ? startName : nodeTitle(id, workflow, catalog));
  const failureTargets = graph.edges.filter((e) => e.from === action.id && isFailureEdge(e)).map((e) => nodeTitle(e.to, workflow, catalog));
  const { groups, api, workflowId, onChange } = props;
  const context = useMemo(
    () => formContextFor({ groups, api: api ?? null, workflowId, inputs, workflow, catalog, onChange: (change) => onChange(change, `inputs:${action.id}`) }),
    [groups, api, workflowId, inputs, workflow, catalog, onChange, action.id],
  );
  const shownSchema = useMemo(() => {
    if (!definition) return {};
    const schema = formSchema(definition.inputs, inputs);
    // a loop's pace and failure choice are said in words below the form
    const own = LOOP_OWN_INPUTS[definition.kind] ?? [];
    const properties = { ...((schema.properties ?? {}) as JsonObject) };
    for (const name of own) delete properties[name];
    return own.length ? { ...schema, properties } : schema;
  }, [definition, inputs]);
  const uiSchema = useMemo(() => uiSchemaFor(shownSchema), [shownSchema]);
  const errors = errorSchemaFor(inputProblems.map((v) => ({ ...v.problem, message: v.text })));

  // Focus the asked-for input (the first one by default): after adding a step, or from the problems list.
  const box = useRef<HTMLDivElement>(null);
  const focusSeq = props.focus?.seq;
  useEffect(() => {
    if (!props.focus || !box.current) return;
    const field = props.focus.field.join(".");
    const scope = box.current.querySelector(field ? `[data-field="${CSS.escape(field)}"]` : ".wk-form");
    const control = "input:not([type=hidden]), select, textarea, [contenteditable=true]";
    // the field's control; else its first button (an empty condition's "Add a condition"); else the name
    const target = scope?.querySelector<HTMLElement>(control) ?? scope?.querySelector<HTMLElement>("button:not([role=radio])") ?? box.current.querySelector<HTMLElement>(control);
    target?.focus();
    // only when asked again
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focusSeq]);

  return (
    <div aria-label={`Settings of ${title}`} ref={box}>
      <div className="wk-section">
        <h2>
          <span aria-hidden="true"><ActionIcon icon={definition?.icon} /> </span>
          {title}
        </h2>
        {definition && action.name && action.name !== definition.name && <div className="wk-help">{definition.name}</div>}
        {definition?.description && <div className="wk-help">{definition.description}</div>}
      </div>
      {otherProblems.length > 0 && (
        <ul className="wk-problems" aria-label="Problems with this step">
          {otherProblems.map((v) => <li key={v.problem.path + v.problem.code}>{v.text}</li>)}
        </ul>
      )}
      <div className="wk-field">
        <label htmlFor={`wk-name-${action.id}`}>Name on the canvas</label>
        <input
          id={`wk-name-${action.id}`}
          value={action.name ?? ""}
          placeholder={definition?.name ?? "Step name"}
          onChange={(e) => props.onChange({ name: e.target.value || undefined }, `name:${action.id}`)}
        />
      </div>
      {definition ? (
        <div className="wk-section wk-form">
          <h3>Inputs</h3>
          {Object.keys((shownSchema.properties ?? {}) as JsonObject).length === 0 && <div className="wk-help">This step needs nothing more.</div>}
          <Form
            key={action.id}
            schema={shownSchema as RJSFSchema}
            uiSchema={uiSchema}
            formData={inputs}
            validator={validator}
            noHtml5Validate
            showErrorList={false}
            extraErrors={errors}
            formContext={context}
            templates={TEMPLATES}
            widgets={FORM_WIDGETS}
            fields={FORM_FIELDS}
            idPrefix={`wk-${action.id}`}
            onChange={(event) => props.onChange({ inputs: cleanJson(event.formData ?? {}) as JsonObject }, `inputs:${action.id}`)}
          >
            <></>
          </Form>
        </div>
      ) : (
        <p className="wk-problems">This step is not available here any more: delete it, or ask the product's team.</p>
      )}
      {!loop && definition && api && workflowId && props.onKeepOutput && (
        <StepTest
          key={`test:${action.id}`}
          api={api}
          workflowId={workflowId}
          workflow={workflow}
          action={action}
          definition={definition}
          sampleEvent={props.sampleEvent ?? null}
          onKeep={props.onKeepOutput}
          nameOf={nameOf}
        />
      )}
      {loop && definition && (
        <LoopSettings
          loop={action}
          catalog={catalog}
          problems={loopProblems.map((v) => v.text)}
          onInputs={(next) => props.onChange({ inputs: next }, `inputs:${action.id}`)}
          onResult={(result) => props.onBody?.({ result })}
        />
      )}
      <PolicySection
        key={`policy:${action.id}`}
        policy={action.policy}
        onFailure={failureTargets}
        problems={policyProblems.map((v) => v.text)}
        onChange={(policy) => props.onChange({ policy }, `policy:${action.id}`)}
        onAddOnFailure={(anchor) => props.onAddOnFailure?.(anchor)}
      />
      <div className="wk-section">
        <h3>Runs after</h3>
        <ul className="wk-list" aria-label="Runs after">
          {parents.length === 0 && <li className="wk-help">Nothing yet: this step never runs until it is connected.</li>}
          {into.map(({ from, ...edge }) => (
            <li key={from} className="wk-parent">
              <span>
                {from === SOURCE ? (loopAround ? `The start of ${nodeTitle(loopAround, workflow, catalog)}` : "The trigger") : nameOf(from)}
                {isFailureEdge(edge) && <span className="wk-help"> (if it fails)</span>}
              </span>
              <button type="button" className="wk-link" onClick={() => props.onDisconnect(from)} aria-label={`Disconnect from ${nameOf(from)}`}>
                remove
              </button>
            </li>
          ))}
        </ul>
        <div className="wk-field" style={{ marginTop: 8 }}>
          <label htmlFor={`wk-connect-${action.id}`}>Also run after</label>
          <div className="wk-input-row">
            <select id={`wk-connect-${action.id}`} value={connectFrom} onChange={(e) => setConnectFrom(e.target.value)}>
              <option value="">Choose a step…</option>
              {candidates.map((id) => (
                <option key={id} value={id}>{id === SOURCE ? (loopAround ? `The start of ${nodeTitle(loopAround, workflow, catalog)}` : "The trigger") : nameOf(id)}</option>
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
      <div className="wk-panel-actions">
        <button type="button" className="wk-button" onClick={(e) => props.onAddAfter(e.currentTarget)}>
          + Add a step after this
        </button>
        <button type="button" className="wk-button danger" onClick={props.onDelete}>
          Delete this step
        </button>
      </div>
    </div>
  );
}
