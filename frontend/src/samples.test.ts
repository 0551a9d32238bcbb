import { describe, expect, it } from "vitest";
import { declaredType, keepSampleOutput, sampleFor, sampleOutputs, stepTestQuestion, stepsWithEffects, testRunQuestion } from "./samples";
import type { ActionDef, EventTypeDef, Workflow } from "./types";

const published: EventTypeDef = {
  name: "blog-post.published",
  description: "A post was published",
  schema: { type: "object", properties: { id: { type: "integer" } } },
  examples: [{ id: 2, status: "published" }, { id: 1, status: "published" }],
};

function def(kind: string, sideEffects: boolean, name = kind): ActionDef {
  return { kind, name, description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] }, side_effects: sideEffects };
}

describe("the sample event", () => {
  it("is the first declared example of the trigger's event", () => {
    expect(sampleFor({ event: "blog-post.published" }, [published])).toEqual({ name: "blog-post.published", data: { id: 2, status: "published" } });
  });

  it("has empty data without a declared type, and for a wildcard", () => {
    expect(sampleFor({ event: "blog-post.updated" }, [published])).toEqual({ name: "blog-post.updated", data: {} });
    expect(sampleFor({ event: "blog-post.*" }, [published])).toEqual({ name: "blog-post", data: {} });
    expect(declaredType({ event: "blog-post.*" }, [published])).toBeUndefined();
    expect(declaredType(undefined, [published])).toBeUndefined();
  });

  it("is a tick's event for a schedule", () => {
    expect(sampleFor({ cron: "0 9 * * *" }, [published]).name).toBe("workflow/scheduled.timer");
  });
});

describe("kept sample outputs", () => {
  const workflow: Workflow = { metadata: { owner: "ann" }, actions: [{ id: "a", kind: "x" }], edges: [] };

  it("are kept in the draft's metadata, beside what is there, and forgotten", () => {
    const kept = keepSampleOutput(workflow, "a", { post_id: 2 });
    expect(kept.metadata).toEqual({ owner: "ann", sample_outputs: { a: { post_id: 2 } } });
    expect(sampleOutputs(kept)).toEqual({ a: { post_id: 2 } });
    expect(keepSampleOutput(kept, "a", undefined).metadata).toEqual({ owner: "ann" });
    expect(keepSampleOutput({ actions: [], edges: [] }, "a", null)).toEqual({ actions: [], edges: [], metadata: { sample_outputs: { a: null } } });
    expect("metadata" in keepSampleOutput(keepSampleOutput({ actions: [], edges: [] }, "a", 1), "a", undefined)).toBe(false);
    expect(sampleOutputs({ actions: [], edges: [], metadata: { sample_outputs: [1] } })).toEqual({});
  });
});

describe("steps with real effects", () => {
  it("are named, inside loops too, and the questions say so in words", () => {
    const catalog = new Map([
      ["send_email", def("send_email", true, "Send an email")],
      ["builtin:for_each", def("builtin:for_each", false)],
      ["builtin:if", def("builtin:if", false)],
    ]);
    const workflow: Workflow = {
      actions: [
        { id: "check", kind: "builtin:if" },
        { id: "each", kind: "builtin:for_each", body: { actions: [{ id: "mail", kind: "send_email", name: "Mail the author" }], edges: [] } },
      ],
      edges: [],
    };
    expect(stepsWithEffects(workflow, catalog)).toEqual(["Mail the author"]);
    expect(testRunQuestion(["Mail the author"])).toMatch(/This step does things outside this workflow \(Mail the author\)\. Start the test run anyway\?$/);
    expect(testRunQuestion(["a", "b", "c", "d", "e"])).toContain("(a, b, c and 2 more)");
    expect(stepTestQuestion("Sends an email to the author.")).toBe("Testing this step does it for real: sends an email to the author. Test it anyway?");
    expect(stepTestQuestion("")).toBe("Testing this step does it for real. Test it anyway?");
  });
});
