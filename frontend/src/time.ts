// Times as people read them, in the user's time zone: "5 minutes ago", "Today 14:03:12", "tomorrow 09:00",
// durations such as "1.2 s" or "3 min 5 s", and the full local date and time on hover. Every function takes
// the time zone as an option (the user's by default), which is what lets the tests pin it.

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 24 * 3600_000],
  ["month", 30 * 24 * 3600_000],
  ["week", 7 * 24 * 3600_000],
  ["day", 24 * 3600_000],
  ["hour", 3600_000],
  ["minute", 60_000],
  ["second", 1000],
];

/** Where and when the words are for: the time zone (the user's when absent) and the present. */
export interface Clock {
  timeZone?: string;
  now?: number;
}

/** "5 minutes ago" for a time (epoch milliseconds) relative to `now`; "just now" within 10 seconds. */
export function timeAgo(ms: number, now: number = Date.now()): string {
  const delta = ms - now;
  if (Math.abs(delta) < 10_000) return "just now";
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === "second") return format.format(Math.round(delta / size), unit);
  }
  return format.format(Math.round(delta / 1000), "second");
}

/** The full date and time, for a tooltip: "Monday, 7 December 2026 at 14:03:12 CET". */
export function fullTime(ms: number | null | undefined, clock: Clock = {}): string {
  if (!ms) return "—";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long", timeZone: clock.timeZone }).format(new Date(ms));
}

/** The calendar day of a time in a time zone, as a number of days (for "today", "yesterday"). */
function dayNumber(ms: number, timeZone: string | undefined): number {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "numeric", day: "numeric" }).formatToParts(new Date(ms));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Math.round(Date.UTC(part("year"), part("month") - 1, part("day")) / (24 * 3600_000));
}

/** "14:03:12" (or "14:03" without seconds), on the 24-hour clock of the time zone. */
export function clockTime(ms: number, clock: Clock = {}, seconds = true): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: clock.timeZone,
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    hourCycle: "h23",
  }).format(new Date(ms));
}

/** The day of a time, relative to today: "Today", "Yesterday", "Tomorrow", else "Mon 7 Dec" (with the year
 * when it is not this year's). */
export function dayWords(ms: number, clock: Clock = {}): string {
  const now = clock.now ?? Date.now();
  const days = dayNumber(ms, clock.timeZone) - dayNumber(now, clock.timeZone);
  if (days === 0) return "Today";
  if (days === -1) return "Yesterday";
  if (days === 1) return "Tomorrow";
  const year = (t: number) => new Intl.DateTimeFormat("en-US", { timeZone: clock.timeZone, year: "numeric" }).format(new Date(t));
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: clock.timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    ...(year(ms) !== year(now) ? { year: "numeric" } : {}),
  }).formatToParts(new Date(ms));
  return parts
    .filter((p) => p.type !== "literal")
    .map((p) => p.value)
    .join(" ");
}

/** A moment as the run view writes it: "Today 14:03:12", "Yesterday 09:00:05", "Mon 7 Dec 14:03:12". */
export function dayAndTime(ms: number | null | undefined, clock: Clock = {}): string {
  if (!ms) return "—";
  return `${dayWords(ms, clock)} ${clockTime(ms, clock)}`;
}

/** A moment inside a sentence: "14:05" today, else "tomorrow 09:00", "Mon 7 Dec 09:00". */
export function momentWords(ms: number, clock: Clock = {}): string {
  const day = dayWords(ms, clock);
  const time = clockTime(ms, clock, false);
  if (day === "Today") return time;
  return `${day === "Tomorrow" || day === "Yesterday" ? day.toLowerCase() : day} ${time}`;
}

/** A duration: "850 ms", "1.2 s", "45 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function durationWords(ms: number): string {
  const value = Math.max(0, Math.round(ms));
  if (value < 1000) return `${value} ms`;
  if (value < 10_000) return `${Math.floor(value / 100) / 10} s`; // "1.2 s", "1 s"
  const seconds = Math.floor(value / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}
