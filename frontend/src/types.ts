// The shapes the editor works with. Everything the editor API sends and takes comes from
// src/api/schema.ts (generated from /schema/openapi.json by scripts/api-types); the API carries a
// workflow instance and a run's values as plain JSON, which are typed here.

import type { components } from "./api/schema";

type Schemas = components["schemas"];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// -- the workflow instance (the TypeScript Workflow Kit's format; unknown keys are kept) -------------

export interface Conditional {
  /** "if", "else", "match", or "failed" (taken when the edge's source failed: it reads nothing). */
  type: string;
  ref?: string;
  value?: Json;
  [extra: string]: Json | undefined;
}

/** How one step is retried and bounded, set by the user (all optional). */
export interface ActionPolicy {
  /** Tries after the first one (0..20), instead of the action's own default. */
  retries?: number;
  /** How long one try may take ("30s", "5m"). */
  timeout?: string;
  /** A failure after the retries gives the step the output {error: {name, message}} and the run goes on. */
  continue_on_failure?: boolean;
  [extra: string]: Json | undefined;
}

/** The steps inside a loop: a graph of its own whose edges start from `$source` (an iteration's start). */
export interface WorkflowBody {
  actions: WorkflowAction[];
  edges: WorkflowEdge[];
  /** The body step whose output is each iteration's result (none: every body step's output, by id). */
  result?: string;
  [extra: string]: Json | WorkflowAction[] | WorkflowEdge[] | undefined;
}

export interface WorkflowAction {
  id: string;
  kind: string;
  name?: string;
  description?: string;
  inputs?: JsonObject;
  policy?: ActionPolicy;
  body?: WorkflowBody;
  [extra: string]: Json | ActionPolicy | WorkflowBody | undefined;
}

export interface WorkflowEdge {
  from: string;
  to: string;
  name?: string;
  conditional?: Conditional;
  [extra: string]: Json | Conditional | undefined;
}

export interface Workflow {
  name?: string;
  description?: string;
  metadata?: JsonObject;
  actions: WorkflowAction[];
  edges: WorkflowEdge[];
  [extra: string]: Json | WorkflowAction[] | WorkflowEdge[] | undefined;
}

// -- what the API sends, with its JSON parts typed -----------------------------------------------------

/** An event (name and optional CEL condition) or a cron schedule ("TZ=Europe/Paris 0 12 * * 5"). */
export type Trigger = Schemas["Trigger"];
export type Hook = Schemas["HookOut"];
export type TenantSettings = Schemas["TenantSettings"];
export type HookSecret = Schemas["HookSecretOut"];
export type HookSettings = Schemas["HookSettings"];
export type HookRequest = Schemas["HookRequest"];
export type HookDelivery = Schemas["HookDelivery"];
export type Verification = Schemas["Verification"];
export type Problem = Schemas["Problem"];
export type ErrorInfo = Schemas["ErrorInfo"];
export type Attempt = Schemas["Attempt"];
export type ActionStatus = Schemas["ActionStatus"];
export type RunStatus = Schemas["RunStatus"];

export interface ActionEdgeDef {
  name: string;
  conditional?: Conditional;
}

export type ActionDef = Omit<Schemas["ActionOut"], "inputs" | "outputs" | "edges" | "side_effects"> & {
  inputs: JsonObject;
  outputs: JsonObject;
  edges: { allow_add: boolean; edges: ActionEdgeDef[] };
  /** Running it changes something outside the run (the editor asks before testing it); unknown: it does. */
  side_effects?: boolean;
};

export type WorkflowRecord = Omit<Schemas["WorkflowOut"], "draft" | "settings" | "problems"> & {
  draft: Workflow;
  settings: JsonObject;
  problems: Problem[];
};

export type Version = Omit<Schemas["VersionOut"], "workflow" | "settings"> & { workflow: Workflow; settings: JsonObject };

export type StepRecord = Omit<Schemas["StepRecord"], "output"> & { output?: Json };

export type ActionRecord = Omit<Schemas["ActionRecord"], "inputs" | "output" | "steps" | "status"> & {
  status: ActionStatus;
  inputs?: JsonObject | null;
  output?: Json;
  steps?: StepRecord[];
};

export type Run = Omit<Schemas["Run"], "event" | "output" | "error" | "actions"> & {
  event: JsonObject;
  output?: Json;
  error?: RunError | null;
  actions?: ActionRecord[];
};

/** A run's error; a failed run that was cancelled (dismissed) keeps its failure as `cause`. */
export interface RunError {
  name: string;
  message: string;
  action?: string;
  step?: string;
  cause?: RunError | null;
}

export type StoredEvent = Omit<Schemas["StoredEvent"], "event"> & { event: JsonObject };

/** The trigger's id in the workflow format: edges from the trigger start here. Never shown to users. */
export const SOURCE = "$source";
/** The loop builtins: their steps inside are their `body`. */
export const FOR_EACH = "builtin:for_each";
export const REPEAT_UNTIL = "builtin:repeat_until";
/** An edge condition taken only when its source step failed (after its retries). */
export const FAILED = "failed";
export const TERMINAL: RunStatus[] = ["completed", "failed", "cancelled"];

// -- samples and step tests ------------------------------------------------------------------------------

/** A declared event (kit.event_type): the JSON Schema of its data and example data objects. */
export type ConnectionRecord = Schemas["ConnectionRecord"];
export type ConnectionTypeDef = Omit<Schemas["ConnectionTypeOut"], "schema"> & { schema?: JsonObject };
export type EventTypeDef = Omit<Schemas["EventTypeOut"], "schema" | "examples"> & { schema: JsonObject; examples: JsonObject[] };

/** How one tried step ended ("Test this step"): its output, or an error in words, and its duration. */
export type StepTestResult = Omit<Schemas["StepTestResult"], "output" | "inputs" | "item"> & {
  output?: Json;
  inputs?: JsonObject | null;
  item?: Json;
};

/** Where the draft keeps the outputs the user chose as sample data, by step id (the engine ignores it). */
export const SAMPLE_OUTPUTS = "sample_outputs";

// -- templates and drafts from words ---------------------------------------------------------------------

/** A ready-made workflow the host ships (kit.template), with the inputs it leaves to fill. */
export type TemplateDef = Omit<Schemas["TemplateOut"], "workflow" | "settings"> & { workflow: Workflow; settings: JsonObject };

/** A workflow drafted by the AI model from the user's words: not saved; each step explained. */
export type DraftProposal = Omit<Schemas["DraftOut"], "workflow"> & { workflow: Workflow };

/** Whether drafting from words is available (the host configured an AI model). */
export type AssistantStatus = Schemas["AssistantOut"];
