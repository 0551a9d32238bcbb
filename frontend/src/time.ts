// Times as people read them: "5 minutes ago", "in 2 hours", and the full local time on hover.

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 24 * 3600_000],
  ["month", 30 * 24 * 3600_000],
  ["week", 7 * 24 * 3600_000],
  ["day", 24 * 3600_000],
  ["hour", 3600_000],
  ["minute", 60_000],
  ["second", 1000],
];

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

export function fullTime(ms: number | null | undefined): string {
  return ms ? new Date(ms).toLocaleString() : "—";
}
