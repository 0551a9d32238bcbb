import { describe, expect, it } from "vitest";
import { fieldsProblem, joinCron, splitCron, switchKind, TIMER_EVENT, timerSample, triggerKind, triggerLabel } from "./cron";

describe("the schedule text", () => {
  it("splits off a time zone prefix", () => {
    expect(splitCron("TZ=Europe/Paris 0 12 * * 5")).toEqual({ zone: "Europe/Paris", fields: "0 12 * * 5" });
    expect(splitCron("CRON_TZ=America/New_York */15 9-17 * * 1-5")).toEqual({ zone: "America/New_York", fields: "*/15 9-17 * * 1-5" });
    expect(splitCron("  0 12 * * 5 ")).toEqual({ zone: "", fields: "0 12 * * 5" });
    expect(splitCron("TZ=Europe/Paris")).toEqual({ zone: "Europe/Paris", fields: "" });
  });

  it("joins a zone and fields, with no prefix for UTC", () => {
    expect(joinCron("Europe/Paris", "0  12 * * 5")).toBe("TZ=Europe/Paris 0 12 * * 5");
    expect(joinCron("", "0 12 * * 5")).toBe("0 12 * * 5");
    expect(joinCron("UTC", "0 12 * * 5")).toBe("0 12 * * 5");
    expect(joinCron(" Asia/Tokyo ", "")).toBe("TZ=Asia/Tokyo");
  });

  it("round-trips", () => {
    for (const text of ["TZ=Europe/Paris 0 12 * * 5", "0 9 * * 1-5"]) {
      const { zone, fields } = splitCron(text);
      expect(joinCron(zone, fields)).toBe(text);
    }
  });

  it("finds a wrong number of fields before the server does", () => {
    expect(fieldsProblem("0 12 * * 5")).toBeNull();
    expect(fieldsProblem("0 12 * *")).toMatch(/expected 5 fields .* got 4/);
    expect(fieldsProblem("0 0 12 * * 5")).toMatch(/got 6/);
    expect(fieldsProblem("@daily")).toMatch(/five fields/);
    expect(fieldsProblem("  ")).toMatch(/required/);
  });
});

describe("the kind of trigger", () => {
  it("tells an event from a schedule", () => {
    expect(triggerKind({ event: "app/x" })).toBe("event");
    expect(triggerKind({ cron: "0 12 * * 5" })).toBe("cron");
    expect(triggerKind({ cron: "" })).toBe("cron");
  });

  it("switches kind, and back without losing what was typed", () => {
    const event = { event: "app/x", if: "event.data.n > 1" };
    const cron = switchKind(event, "cron");
    expect(cron).toEqual({ cron: "0 * * * *" });
    expect(switchKind(cron, "event", event)).toEqual(event);
    expect(switchKind({ cron: "0 9 * * 1" }, "event")).toEqual({ event: "" });
    expect(switchKind(event, "cron", { cron: "TZ=Europe/Paris 0 9 * * 1" })).toEqual({ cron: "TZ=Europe/Paris 0 9 * * 1" });
    expect(switchKind(event, "event")).toBe(event);
  });

  it("labels a trigger for the canvas and the list", () => {
    expect(triggerLabel({ event: "app/x" })).toBe("app/x");
    expect(triggerLabel({ event: "" })).toBe("…");
    expect(triggerLabel({ cron: "TZ=Europe/Paris 0 9 * * 1-5" })).toBe("Every weekday at 09:00 (Europe/Paris)");
    expect(triggerLabel({ cron: "*/5 * * * *" })).toBe("*/5 * * * * (UTC)");
  });
});

it("samples a tick's event", () => {
  const sample = timerSample("0 12 * * 5", new Date("2026-03-06T12:00:07.250Z"));
  expect(sample).toEqual({
    name: TIMER_EVENT,
    id: "2026-03-06T12:00:00Z",
    data: { cron: "0 12 * * 5", scheduled_at: "2026-03-06T12:00:00Z", fire_at: "2026-03-06T12:00:07.250Z" },
  });
});
