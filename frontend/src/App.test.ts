import { describe, expect, it } from "vitest";
import { hashFor, parseHash } from "./App";

describe("the standalone page's routes", () => {
  it("round-trips every view through the URL hash, and reads a token from it", () => {
    for (const view of [
      { kind: "list" as const },
      { kind: "workflow" as const, id: "01ABC" },
      { kind: "run" as const, workflowId: "w 1", runId: "r/2" },
      { kind: "runs" as const },
      { kind: "events" as const },
      { kind: "new" as const },
    ]) {
      expect(parseHash(hashFor(view)).view).toEqual(view);
    }
    expect(parseHash("#/workflows/abc?token=t0k").token).toBe("t0k");
    expect(parseHash("").view).toEqual({ kind: "list" });
  });
});
