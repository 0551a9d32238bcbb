import { describe, expect, it } from "vitest";
import { durationWords, retentionHelp } from "./workspace";

describe("the workspace settings' words", () => {
  it("says a duration in plain words", () => {
    expect(durationWords("30d")).toBe("30 days");
    expect(durationWords("1h")).toBe("1 hour");
    expect(durationWords("90m")).toBe("90 minutes");
    expect(durationWords("3600001")).toBe("3600001");
  });

  it("says what the retention deletes and what an empty field means", () => {
    expect(retentionHelp("30d")).toContain("Empty: 30 days, the default.");
  });
});
