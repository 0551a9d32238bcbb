// The shapes the editor API sends and takes (see /schema/openapi.json).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Conditional {
  type: string;
  ref: string;
  value?: Json;
  [extra: string]: Json | undefined;
}

export interface WorkflowAction {
  id: string;
  kind: string;
  name?: string;
  description?: string;
  inputs?: JsonObject;
  [extra: string]: Json | undefined;
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

/** An event (name and optional CEL condition) or a cron schedule ("TZ=Europe/Paris 0 12 * * 5"). */
export interface Trigger {
  event?: string;
  if?: string;
  cron?: string;
}

export interface Problem {
  code: string;
  path: string;
  message: string;
}

export interface ActionEdgeDef {
  name: string;
  conditional?: Conditional;
}

export interface ActionDef {
  kind: string;
  name: string;
  description: string;
  icon: string | null;
  inputs: JsonObject;
  outputs: JsonObject;
  edges: { allow_add: boolean; edges: ActionEdgeDef[] };
}

export interface WorkflowRecord {
  id: string;
  name: string;
  description: string;
  trigger: Trigger;
  enabled: boolean;
  version: number;
  draft: Workflow;
  published_version: number | null;
  settings: JsonObject;
  created_at: number;
  updated_at: number;
  next_tick_at?: number | null;
  problems: Problem[];
}

export interface Version {
  workflow_id: string;
  number: number | null;
  workflow: Workflow;
  trigger: Trigger;
  created_at: number;
}

export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string | null;
}

export interface Attempt {
  started_at: number;
  ended_at: number;
  error?: ErrorInfo | null;
}

export interface StepRecord {
  key: string;
  kind: string;
  status: string;
  output: Json;
  error: ErrorInfo | null;
  attempts: Attempt[];
  wake_at: number | null;
}

export type ActionStatus =
  | "pending" | "running" | "sleeping" | "waiting" | "retrying" | "completed" | "failed" | "skipped";

export interface ActionRecord {
  id: string;
  status: ActionStatus;
  inputs: JsonObject | null;
  output: Json;
  error: ErrorInfo | null;
  attempts: Attempt[];
  steps: StepRecord[];
  started_at: number | null;
  ended_at: number | null;
  wake_at: number | null;
}

export type RunStatus = "queued" | "running" | "sleeping" | "waiting" | "completed" | "failed" | "cancelled";

export interface Run {
  id: string;
  workflow_id: string;
  version: number | null;
  version_id: string;
  status: RunStatus;
  event: JsonObject;
  output: Json;
  error: { name: string; message: string; action?: string; step?: string } | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  rerun_of: string | null;
  actions: ActionRecord[];
}

export interface StoredEvent {
  id: string;
  name: string;
  event: JsonObject;
  duplicate: boolean;
  received_at: number;
}

export const SOURCE = "$source";
export const TERMINAL: RunStatus[] = ["completed", "failed", "cancelled"];
