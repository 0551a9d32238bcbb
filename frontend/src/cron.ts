// Cron triggers in the editor: the schedule text is "TZ=Area/City <fields>" (the zone optional, UTC without
// it); the panel edits the zone and the fields apart. Pure functions; the server checks the schedule.
import type { Json, Trigger } from "./types";

export const TIMER_EVENT = "workflow/scheduled.timer";
const ZONE_PREFIX = /^(?:CRON_)?TZ=(\S*)\s*([\s\S]*)$/;

export interface CronParts {
  zone: string;
  fields: string;
}

/** "TZ=Europe/Paris 0 12 * * 5" -> { zone: "Europe/Paris", fields: "0 12 * * 5" }; no prefix: zone "". */
export function splitCron(text: string): CronParts {
  const trimmed = text.trim();
  const match = ZONE_PREFIX.exec(trimmed);
  return match ? { zone: match[1], fields: match[2].trim() } : { zone: "", fields: trimmed };
}

/** The schedule text for a zone ("" or "UTC" needs no prefix) and fields. */
export function joinCron(zone: string, fields: string): string {
  const name = zone.trim();
  const body = fields.trim().replace(/\s+/g, " ");
  return name && name !== "UTC" ? `TZ=${name} ${body}`.trim() : body;
}

export type TriggerKind = "event" | "cron" | "webhook";

/** The name a webhook trigger's events get when it names none (as the server defaults it). */
export const WEBHOOK_EVENT = "webhook/received";

export function triggerKind(trigger: Trigger): TriggerKind {
  if (trigger.type === "webhook") return "webhook";
  return trigger.cron !== undefined && trigger.cron !== null ? "cron" : "event";
}

/** The trigger after the user picks a kind: an event keeps its name and condition, a schedule its text,
 * a webhook its hook (a new one has none yet: the panel makes it). */
export function switchKind(trigger: Trigger, kind: TriggerKind, remembered: Trigger = {}): Trigger {
  if (kind === triggerKind(trigger)) return trigger;
  if (kind === "cron") return { cron: remembered.cron ?? PRESETS[0].fields };
  if (kind === "webhook") {
    const event = remembered.event && !remembered.event.includes("*") ? remembered.event : WEBHOOK_EVENT;
    return { type: "webhook", event, ...(remembered.hook ? { hook: remembered.hook } : {}) };
  }
  return { event: remembered.event ?? "", ...(remembered.if ? { if: remembered.if } : {}) };
}

/** A short label for the trigger (the canvas node, the list of workflows). */
export function triggerLabel(trigger: Trigger): string {
  if (triggerKind(trigger) === "webhook") return `a webhook request (${trigger.event || WEBHOOK_EVENT})`;
  if (triggerKind(trigger) === "event") return trigger.event || "…";
  const { zone, fields } = splitCron(trigger.cron ?? "");
  const preset = PRESETS.find((p) => p.fields === fields);
  return `${preset ? preset.label : fields || "…"} (${zone || "UTC"})`;
}

/** The problem the server would certainly report for these fields, found without asking it. */
export function fieldsProblem(fields: string): string | null {
  const parts = fields.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "a schedule is required, e.g. 0 12 * * 5 (at noon every Friday)";
  if (parts[0].startsWith("@")) return "write the five fields instead of a shortcut such as @daily";
  if (parts.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  return null;
}

/** A sample of the event each tick starts a run with (for picking references to its fields). */
export function timerSample(cron: string, now: Date = new Date()): { name: string; id: string; data: Json } {
  const tick = new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString().replace(".000Z", "Z");
  return { name: TIMER_EVENT, id: tick, data: { cron, scheduled_at: tick, fire_at: now.toISOString() } };
}

export const PRESETS: ReadonlyArray<{ label: string; fields: string }> = [
  { label: "Every hour", fields: "0 * * * *" },
  { label: "Every day at 09:00", fields: "0 9 * * *" },
  { label: "Every weekday at 09:00", fields: "0 9 * * 1-5" },
  { label: "Every Monday at 09:00", fields: "0 9 * * 1" },
  { label: "Every Friday at 12:00", fields: "0 12 * * 5" },
  { label: "The first of every month at 09:00", fields: "0 9 1 * *" },
];

/** The IANA time zones the browser knows (for suggestions); the server decides what is valid. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}
