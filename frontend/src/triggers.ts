// A workflow's triggers in the editor: a list of one to MAX_TRIGGERS (events with their "only when"
// filters, and schedules), edited as a whole and said in plain words ("When app/order.created, or every
// day at 09:00 (UTC)"). Pure functions; the server checks each trigger, and that no two are the same.
import { PRESETS, splitCron, triggerKind, triggerLabel, WEBHOOK_EVENT, type TriggerKind } from "./cron";
import type { Problem, Trigger } from "./types";

/** A workflow has at most this many triggers (as Inngest allows per function). */
export const MAX_TRIGGERS = 10;

/** A new trigger of a kind: an event to name, or a schedule (every day at 09:00 until changed). */
export function newTrigger(kind: TriggerKind): Trigger {
  if (kind === "webhook") return { type: "webhook", event: WEBHOOK_EVENT };
  return kind === "cron" ? { cron: PRESETS[1].fields } : { event: "" };
}

/** The list with a new trigger of `kind` at its end (the same list when it is full). */
export function addTrigger(triggers: readonly Trigger[], kind: TriggerKind): Trigger[] {
  return triggers.length >= MAX_TRIGGERS ? [...triggers] : [...triggers, newTrigger(kind)];
}

/** The list with trigger `index` replaced. */
export function replaceTrigger(triggers: readonly Trigger[], index: number, trigger: Trigger): Trigger[] {
  return triggers.map((t, i) => (i === index ? trigger : t));
}

/** The list without trigger `index`; a workflow keeps at least one trigger. */
export function removeTrigger(triggers: readonly Trigger[], index: number): Trigger[] {
  return triggers.length <= 1 ? [...triggers] : triggers.filter((_, i) => i !== index);
}

/** A schedule in words: "every day at 09:00 (UTC)", or its fields when it is not a common one. */
function schedulePhrase(cron: string): string {
  const { zone, fields } = splitCron(cron);
  const preset = PRESETS.find((p) => p.fields === fields);
  const when = preset ? preset.label.charAt(0).toLowerCase() + preset.label.slice(1) : fields ? `on the schedule ${fields}` : "on a schedule not set yet";
  return `${when} (${zone || "UTC"})`;
}

/** One trigger in words, as a part of a sentence: "when app/order.created", "every day at 09:00 (UTC)".
 * `condition` is the trigger's filter in words, when it has one ("Total is more than 100"). */
export function triggerPhrase(trigger: Trigger, condition?: string): string {
  if (triggerKind(trigger) === "cron") return schedulePhrase(trigger.cron ?? "");
  if (triggerKind(trigger) === "webhook") {
    const said = `when ${triggerLabel(trigger)} comes`;
    return trigger.if ? `${said}, only when ${condition ?? "a condition holds"}` : said;
  }
  const event = trigger.event?.trim() ? trigger.event.trim() : "an event not named yet";
  return trigger.if ? `when ${event}, only when ${condition ?? "a condition holds"}` : `when ${event}`;
}

/** The triggers as one sentence: "When app/order.created, or every day at 09:00 (UTC)". */
export function triggersSentence(triggers: readonly Trigger[], conditions: readonly (string | undefined)[] = []): string {
  const parts = triggers.map((t, i) => triggerPhrase(t, conditions[i]));
  const text = parts.length ? parts.join(", or ") : "Nothing starts it yet";
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const ITEM = /^triggers\[(\d+)\](?:\.(.*))?$/;

/** Where a problem of the triggers belongs: the list as a whole (too many, none: `index` null), or
 * one trigger and its field (`field`: "event", "if", "cron", or "" for the trigger itself). Problems of
 * the one-trigger shape (paths "trigger.if") belong to the first. Null for a problem elsewhere. */
export function triggerProblemPlace(path: string): { index: number | null; field: string } | null {
  if (path === "triggers") return { index: null, field: "" };
  const item = ITEM.exec(path);
  if (item) return { index: Number(item[1]), field: item[2] ?? "" };
  if (path === "trigger") return { index: 0, field: "" };
  if (path.startsWith("trigger.")) return { index: 0, field: path.slice("trigger.".length) };
  return null;
}

/** The problems of trigger `index` (null: of the list as a whole), each with its field. */
export function problemsOfTrigger(problems: readonly Problem[], index: number | null): Array<Problem & { field: string }> {
  const out: Array<Problem & { field: string }> = [];
  for (const problem of problems) {
    const place = triggerProblemPlace(problem.path);
    if (place && place.index === index) out.push({ ...problem, field: place.field });
  }
  return out;
}
