// The workflow's flow-control settings: a form generated from the server's JSON Schema of the settings
// (GET /api/settings-schema) by the same form library as the actions' inputs. The settings are saved with
// the draft; the server's problems show on the fields their paths name.

import Form from "@rjsf/core";
import type {
  ArrayFieldItemTemplateProps,
  ArrayFieldTemplateProps,
  FieldTemplateProps,
  ObjectFieldTemplateProps,
  OptionalDataControlsTemplateProps,
  RJSFSchema,
} from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useMemo, useRef, type MouseEvent, type ReactNode } from "react";
import { cleanJson, errorSchemaFor } from "../forms";
import { isShownOnField, sameJson, settingsFormSchema, settingsSegments, settingsUiSchema, toFormSettings } from "../settingsForm";
import type { JsonObject, Problem } from "../types";

/** Help text with `code` spans. */
function Help({ text, id }: { text: string; id?: string }) {
  const parts: ReactNode[] = text.split("`").map((part, index) => (index % 2 ? <code key={index}>{part}</code> : part));
  return (
    <div className="wk-help" id={id}>
      {parts}
    </div>
  );
}

function isContainer(schema: RJSFSchema): boolean {
  return (schema.type === "object" && !!schema.properties) || schema.type === "array";
}

/** After the form has re-rendered (an item added or removed), move the focus somewhere useful. */
function focusLater(find: () => HTMLElement | null | undefined) {
  window.setTimeout(() => find()?.focus(), 0);
}

/** A field's problems: the field's description points at them (`id`), so they are read out with it; a
 * section's are a list named after it. */
function Problems({ id, title, messages }: { id?: string; title: string; messages: string[] | undefined }) {
  if (!messages || messages.length === 0) return null;
  return (
    <ul className="wk-problems" id={id} aria-label={id ? undefined : `Problems with ${title}`} data-problems-of={title}>
      {messages.map((m) => <li key={m}>{m}</li>)}
    </ul>
  );
}

/** Every field: its label, the widget, its help text and the server's problems (announced with it). */
function FieldTemplate(props: FieldTemplateProps) {
  const { id, label, required, children, rawErrors, schema, fieldPathId, displayLabel, hidden, rawDescription } = props;
  const path = fieldPathId.path;
  if (hidden) return <div hidden>{children}</div>;
  const title = label || String(path[path.length - 1] ?? "the settings");
  if (path.length === 0 || isContainer(schema)) {
    return (
      <div className="wk-field">
        {children}
        <Problems title={path.length === 0 ? "the settings" : title} messages={rawErrors} />
      </div>
    );
  }
  return (
    <div className={`wk-field${path.length === 1 ? " wk-settings-section" : ""}`} data-field={path.join(".")}>
      {displayLabel && (
        <label htmlFor={id}>
          {title}
          {required && <span aria-hidden="true"> *</span>}
        </label>
      )}
      {children}
      {rawDescription && <Help text={rawDescription} id={`${id}__description`} />}
      <Problems id={`${id}__error`} title={title} messages={rawErrors} />
    </div>
  );
}

/** A section (throttle, debounce…) or one entry of a list, as a labelled group. */
function ObjectFieldTemplate(props: ObjectFieldTemplateProps) {
  const { title, properties, optionalDataControl, fieldPathId, schema } = props;
  const path = fieldPathId.path;
  if (path.length === 0) return <div className="wk-settings">{properties.map((p) => p.content)}</div>;
  const last = path[path.length - 1];
  const entry = typeof last === "number";
  const description = typeof schema.description === "string" ? schema.description : "";
  return (
    <fieldset className={entry ? "wk-settings-entry" : "wk-settings-section"} id={fieldPathId.$id}>
      <legend>{entry ? `${schema.title ?? title} ${last + 1}` : title}</legend>
      {!entry && description && <Help text={description} />}
      {optionalDataControl}
      {properties.map((p) => p.content)}
    </fieldset>
  );
}

/** The button that adds or removes an optional section: one element whatever its state, so it keeps the focus. */
function OptionalDataControlsTemplate(props: OptionalDataControlsTemplateProps) {
  const { id, label, schema, onAddClick, onRemoveClick } = props;
  const name = String(schema.title ?? "").toLowerCase();
  if (!onAddClick && !onRemoveClick) return <em id={id}>{label}</em>;
  return (
    <button type="button" id={id} className="wk-button wk-toggle" onClick={onAddClick ?? onRemoveClick}>
      {onAddClick ? `Add ${name}` : `Remove ${name}`}
    </button>
  );
}

/** A list (concurrency limits, cancellation events): its entries and a button to add one. */
function ArrayFieldTemplate(props: ArrayFieldTemplateProps) {
  const { title, schema, items, canAdd, onAddClick, fieldPathId, disabled, readonly } = props;
  const list = useRef<HTMLFieldSetElement>(null);
  const entry = String((schema.items as RJSFSchema | undefined)?.title ?? "entry").toLowerCase();
  const description = typeof schema.description === "string" ? schema.description : "";
  const add = (event: MouseEvent<HTMLButtonElement>) => {
    onAddClick(event);
    focusLater(() => {
      const entries = list.current?.querySelectorAll<HTMLElement>(".wk-settings-entry");
      return entries?.[entries.length - 1]?.querySelector<HTMLElement>("input, select, textarea");
    });
  };
  return (
    <fieldset className="wk-settings-section wk-settings-list" id={fieldPathId.$id} ref={list}>
      <legend>{title}</legend>
      {description && <Help text={description} />}
      {items}
      {canAdd ? (
        <button type="button" className="wk-button wk-add" disabled={disabled || readonly} onClick={add}>
          Add {entry}
        </button>
      ) : (
        typeof schema.maxItems === "number" && <div className="wk-help">That is the most there can be ({schema.maxItems}).</div>
      )}
    </fieldset>
  );
}

function ArrayFieldItemTemplate(props: ArrayFieldItemTemplateProps) {
  const { children, buttonsProps, index, schema } = props;
  const name = `${String(schema.title ?? "entry").toLowerCase()} ${index + 1}`;
  const remove = (event: MouseEvent<HTMLButtonElement>) => {
    const list = event.currentTarget.closest<HTMLElement>(".wk-settings-list");
    buttonsProps.onRemoveItem(event);
    focusLater(() => list?.querySelector<HTMLElement>("button.wk-add") ?? list?.querySelector<HTMLElement>("legend"));
  };
  return (
    <div className="wk-settings-item">
      {children}
      {buttonsProps.hasRemove && (
        <button type="button" className="wk-button danger" aria-label={`Remove ${name}`} onClick={remove} disabled={buttonsProps.disabled}>
          Remove
        </button>
      )}
    </div>
  );
}

const TEMPLATES = { FieldTemplate, ObjectFieldTemplate, ArrayFieldTemplate, ArrayFieldItemTemplate, OptionalDataControlsTemplate };

export interface SettingsPanelProps {
  /** The settings' JSON Schema from the server (null while it loads). */
  schema: JsonObject | null;
  /** The settings as edited so far. */
  value: JsonObject;
  /** The server's problems with the settings (paths "settings..."). */
  problems: Problem[];
  onChange: (next: JsonObject) => void;
}

export function SettingsPanel({ schema, value, problems, onChange }: SettingsPanelProps) {
  const shownSchema = useMemo(() => (schema ? settingsFormSchema(schema) : null), [schema]);
  const uiSchema = useMemo(() => (shownSchema ? settingsUiSchema(shownSchema) : {}), [shownSchema]);
  const formData = useMemo(() => (shownSchema ? toFormSettings(shownSchema, value) : value), [shownSchema, value]);
  const current = cleanJson(formData) as JsonObject;
  const apart = shownSchema ? problems.filter((p) => !isShownOnField(p, shownSchema, current)) : problems;
  return (
    <section aria-labelledby="wk-settings-title" className="wk-settings-panel">
      <div className="wk-section">
        <h2 id="wk-settings-title">Workflow settings</h2>
        <Help text="Flow control for this workflow's runs. Saved with the draft (Save); runs use them once the workflow is published." />
      </div>
      {apart.length > 0 && (
        <ul className="wk-problems" aria-label="Problems with the settings">
          {apart.map((p) => <li key={p.path + p.message}>{`${p.path}: ${p.message}`}</li>)}
        </ul>
      )}
      {shownSchema ? (
        <div className="wk-form">
          <Form
            schema={shownSchema as RJSFSchema}
            uiSchema={uiSchema}
            formData={formData}
            validator={validator}
            noHtml5Validate
            showErrorList={false}
            extraErrors={errorSchemaFor(problems, settingsSegments)}
            templates={TEMPLATES}
            idPrefix="wk-settings"
            experimental_defaultFormStateBehavior={{ emptyObjectFields: "skipDefaults" }}
            onChange={(event) => {
              const next = cleanJson(event.formData ?? {}) as JsonObject;
              if (!sameJson(next, current)) onChange(next);
            }}
          >
            <></>
          </Form>
        </div>
      ) : (
        <div role="status">Loading the settings…</div>
      )}
    </section>
  );
}
