import { describe, expect, it } from "vitest";
import { clockTime, dayAndTime, dayWords, durationWords, fullTime, momentWords } from "./time";

// 2026-12-07 13:03:12 UTC is 14:03:12 in Paris
const now = Date.UTC(2026, 11, 7, 13, 3, 12);
const paris = { timeZone: "Europe/Paris", now };

describe("times in the user's time zone", () => {
  it("writes a moment as its day and its time on the 24-hour clock", () => {
    expect(clockTime(now, paris)).toBe("14:03:12");
    expect(clockTime(now, paris, false)).toBe("14:03");
    expect(dayAndTime(now, paris)).toBe("Today 14:03:12");
    expect(dayAndTime(now - 24 * 3600_000, paris)).toBe("Yesterday 14:03:12");
    expect(dayWords(now + 24 * 3600_000, paris)).toBe("Tomorrow");
    expect(dayAndTime(Date.UTC(2026, 11, 1, 8, 0, 5), paris)).toBe("Tue 1 Dec 09:00:05");
    expect(dayWords(Date.UTC(2025, 11, 1, 8), paris)).toBe("Mon 1 Dec 2025");
    expect(dayAndTime(null, paris)).toBe("—");
  });

  it("counts days in the time zone, not in UTC", () => {
    // 23:30 UTC on the 7th is already the 8th in Paris: tomorrow, seen from the 7th
    expect(dayWords(Date.UTC(2026, 11, 7, 23, 30), paris)).toBe("Tomorrow");
    expect(dayWords(Date.UTC(2026, 11, 7, 23, 30), { timeZone: "UTC", now })).toBe("Today");
  });

  it("writes a moment inside a sentence: the time today, with its day otherwise", () => {
    expect(momentWords(now + 2 * 60_000, paris)).toBe("14:05");
    expect(momentWords(Date.UTC(2026, 11, 8, 8, 0), paris)).toBe("tomorrow 09:00");
  });

  it("gives the full date for a tooltip", () => {
    expect(fullTime(now, paris)).toMatch(/2026/);
    expect(fullTime(undefined)).toBe("—");
  });

  it("writes durations as people say them", () => {
    expect(durationWords(850)).toBe("850 ms");
    expect(durationWords(1234)).toBe("1.2 s");
    expect(durationWords(1004)).toBe("1 s");
    expect(durationWords(45_000)).toBe("45 s");
    expect(durationWords(185_000)).toBe("3 min 5 s");
    expect(durationWords(120_000)).toBe("2 min");
    expect(durationWords((2 * 60 + 10) * 60_000)).toBe("2 h 10 min");
    expect(durationWords((3 * 24 + 4) * 3600_000)).toBe("3 d 4 h");
    expect(durationWords(-5)).toBe("0 ms");
  });
});
