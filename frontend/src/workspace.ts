// The workspace settings' words: a duration as the API gives it ("30d", "36h") in plain words.

const UNITS: Record<string, [string, string]> = {
  d: ["day", "days"],
  h: ["hour", "hours"],
  m: ["minute", "minutes"],
  s: ["second", "seconds"],
};

/** "30d" -> "30 days", "1h" -> "1 hour"; anything else as it is. */
export function durationWords(duration: string): string {
  const found = /^(\d+)([dhms])$/.exec(duration.trim());
  if (!found) return duration;
  const count = Number(found[1]);
  const [one, many] = UNITS[found[2]];
  return `${count} ${count === 1 ? one : many}`;
}

/** What the retention field's help says: what is deleted, when, and what an empty field means. */
export function retentionHelp(defaultRetention: string): string {
  return (
    `Finished runs, with their steps, and received events are deleted after this time. ` +
    `Empty: ${durationWords(defaultRetention)}, the default. A workflow's own setting wins for its runs. ` +
    `A change applies to runs that finish from now on.`
  );
}
