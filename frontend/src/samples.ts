// Sample data the editor works with: the trigger's sample event (a declared example of its event, when
// the host declares one), the outputs a user kept from testing a step (in the draft's metadata, which the
// engine ignores), and which steps have real effects (the editor asks before testing through them).

import { timerSample, triggerKind } from "./cron";
import { actionTitle, type Catalog } from "./names";
import { everyAction } from "./scopes";
import { SAMPLE_OUTPUTS, type ActionDef, type EventTypeDef, type Json, type JsonObject, type Trigger, type Workflow } from "./types";

/** The event name a trigger's samples have: its event, without a trailing wildcard. */
export function sampleName(trigger: Trigger): string {
  return (trigger.event ?? "").replace(/[./]?\*$/, "");
}

/** The declared type of the event a trigger names exactly (none for a wildcard or a schedule). */
export function declaredType(trigger: Trigger | undefined, types: EventTypeDef[]): EventTypeDef | undefined {
  if (!trigger || triggerKind(trigger) === "cron" || !trigger.event || trigger.event.includes("*")) return undefined;
  return types.find((t) => t.name === trigger.event);
}

/** The sample event a trigger suggests: a tick's timer event; else its event with the first declared
 * example as its data (empty data when none is declared). */
export function sampleFor(trigger: Trigger, types: EventTypeDef[] = []): { name: string; data: Json } {
  if (triggerKind(trigger) === "cron") return timerSample(trigger.cron ?? "");
  const example = declaredType(trigger, types)?.examples[0];
  return { name: sampleName(trigger), data: example ?? {} };
}

/** The outputs kept as sample data, by step id. */
export function sampleOutputs(workflow: Workflow): JsonObject {
  const kept = workflow.metadata?.[SAMPLE_OUTPUTS];
  return kept && typeof kept === "object" && !Array.isArray(kept) ? (kept as JsonObject) : {};
}

/** The workflow with `output` kept as the sample output of step `id` (undefined: forget it). */
export function keepSampleOutput(workflow: Workflow, id: string, output: Json | undefined): Workflow {
  const kept = { ...sampleOutputs(workflow) };
  if (output === undefined) delete kept[id];
  else kept[id] = output;
  const metadata: JsonObject = { ...(workflow.metadata ?? {}) };
  if (Object.keys(kept).length) metadata[SAMPLE_OUTPUTS] = kept;
  else delete metadata[SAMPLE_OUTPUTS];
  const next: Workflow = { ...workflow, metadata };
  if (!Object.keys(metadata).length) delete next.metadata;
  return next;
}

/** Whether running an action changes something outside the run (unsaid: it may). */
export function hasEffects(definition: ActionDef | undefined): boolean {
  return !!definition && definition.side_effects !== false;
}

/** The titles of the steps that have real effects (sending, saving...), in the workflow's order. */
export function stepsWithEffects(workflow: Workflow, catalog: Catalog): string[] {
  return everyAction(workflow)
    .filter(({ action }) => hasEffects(catalog.get(action.kind)))
    .map(({ action }) => actionTitle(action, catalog.get(action.kind)));
}

/** What the editor asks before a test run goes through steps with real effects. */
export function testRunQuestion(titles: string[]): string {
  const named = titles.length > 3 ? `${titles.slice(0, 3).join(", ")} and ${titles.length - 3} more` : titles.join(", ");
  const them = titles.length > 1 ? "These steps do" : "This step does";
  return `A test run does everything for real. ${them} things outside this workflow (${named}). Start the test run anyway?`;
}

/** What the editor asks before testing one step with real effects. */
export function stepTestQuestion(description: string | undefined): string {
  const what = description?.trim().replace(/\.$/, "");
  return `Testing this step does it for real${what ? `: ${what.charAt(0).toLowerCase()}${what.slice(1)}` : ""}. Test it anyway?`;
}
