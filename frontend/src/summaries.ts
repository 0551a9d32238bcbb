// What each node does, in words, under its name on the canvas: an If's condition, how long a sleep is,
// which event a wait waits for; and the trigger's filter.

import { fromCel } from "./conditions/cel";
import { describe } from "./conditions/describe";
import type { ConditionField } from "./conditions/model";
import { valueText, type Catalog } from "./names";
import { everyAction } from "./scopes";
import { FOR_EACH, REPEAT_UNTIL, SOURCE, type Trigger, type Workflow } from "./types";

/** A condition in words; hand-written CEL the builder cannot read is "a custom condition". */
export function conditionWords(cel: string, fields: ConditionField[]): string {
  const condition = fromCel(cel, fields);
  return condition ? describe(condition, fields) : "a custom condition";
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function text(value: unknown, workflow: Workflow, catalog: Catalog): string | null {
  if (typeof value === "string" && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toLocaleString();
  if (typeof value === "string" && value.trim()) return valueText(value, workflow, catalog);
  if (typeof value === "number") return new Date(value).toLocaleString();
  return null;
}

/** Node id -> its summary, for the nodes that have one. `fields` are the fields conditions may name. */
export function nodeSummaries(workflow: Workflow, trigger: Trigger, catalog: Catalog, fields: ConditionField[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (trigger.if) out[SOURCE] = conditionWords(trigger.if, fields);
  for (const { action } of everyAction(workflow)) {
    const inputs = action.inputs ?? {};
    let summary: string | null = null;
    switch (action.kind) {
      case FOR_EACH: {
        const items = typeof inputs.items === "string" && inputs.items.trim() ? valueText(inputs.items, workflow, catalog) : null;
        const several = typeof inputs.concurrency === "number" && inputs.concurrency > 1;
        const pace = several ? `${inputs.concurrency} at once` : "one at a time";
        summary = items ? `For each of ${items.replace(/^\[(.*)\]$/, "$1")}, ${pace}` : null;
        break;
      }
      case REPEAT_UNTIL: {
        const until = typeof inputs.condition === "string" && inputs.condition.trim() ? conditionWords(inputs.condition, fields) : null;
        const most = typeof inputs.max_rounds === "number" ? `, at most ${inputs.max_rounds} rounds` : "";
        summary = until ? `Until ${until}${most}` : null;
        break;
      }
      case "builtin:if":
        summary = typeof inputs.condition === "string" && inputs.condition.trim() ? `If ${conditionWords(inputs.condition, fields)}` : "No condition yet";
        break;
      case "builtin:sleep": {
        const duration = text(inputs.duration, workflow, catalog);
        summary = duration ? `Waits ${duration}` : null;
        break;
      }
      case "builtin:sleep_until": {
        const until = text(inputs.until, workflow, catalog);
        summary = until ? `Until ${until}` : null;
        break;
      }
      case "builtin:wait_for_event": {
        const event = text(inputs.event, workflow, catalog);
        const timeout = text(inputs.timeout, workflow, catalog) ?? "1d";
        summary = event ? `For ${event}, up to ${timeout}` : null;
        break;
      }
      case "builtin:send_event": {
        const name = text(inputs.name, workflow, catalog);
        summary = name ? `Sends ${name}` : null;
        break;
      }
    }
    if (summary) out[action.id] = summary;
  }
  return out;
}
