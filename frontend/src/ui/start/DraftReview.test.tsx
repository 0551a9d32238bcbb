// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../api";
import type { WorkflowDocument } from "../../document";
import type { ActionDef, DraftProposal } from "../../types";
import { draftErrorText } from "./DescribeForm";
import { DraftReview } from "./DraftReview";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const post = { type: "object", properties: { post_id: { type: "integer" } } };
const def = (kind: string, name: string): ActionDef => ({ kind, name, description: "", icon: null, inputs: post, outputs: {}, edges: { allow_add: true, edges: [] } });
const catalog = new Map([["add_toc", def("add_toc", "Add a Table of Contents")], ["grammar_review", def("grammar_review", "Perform a grammar review")]]);
const proposal: DraftProposal = {
  name: "Review posts",
  summary: "Adds a table of contents, then fixes the grammar.",
  triggers: [{ event: "blog-post.updated" }],
  workflow: {
    actions: [
      { id: "toc", kind: "add_toc", inputs: { post_id: "!ref($.event.data.id)" } },
      { id: "grammar", kind: "grammar_review", inputs: { post_id: "!ref($.state.toc.post_id)" } },
    ],
    edges: [{ from: "$source", to: "toc" }, { from: "toc", to: "grammar" }],
  },
  steps: [
    { action_id: "toc", explanation: "Adds a table of contents to the post." },
    { action_id: "grammar", explanation: "Fixes the grammar of the same post." },
  ],
  problems: [],
  repair_rounds: 1,
  model: "test-model",
};

let host: HTMLDivElement;
let root: Root;
let said: string[];

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  said = [];
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

async function render(shown: DraftProposal, before?: WorkflowDocument) {
  await act(async () =>
    root.render(<DraftReview proposal={shown} catalog={catalog} before={before} onAccept={() => said.push("accept")} onDiscard={() => said.push("discard")} />),
  );
}

describe("reviewing a drafted workflow", () => {
  it("lists each step by name with its explanation, and what starts it, in words", async () => {
    await render(proposal);
    const steps = [...host.querySelectorAll("ol li")].map((li) => li.textContent);
    expect(steps).toEqual(["Add a Table of Contents: Adds a table of contents to the post.", "Perform a grammar review: Fixes the grammar of the same post."]);
    expect(host.textContent).toContain("Starts: When blog-post.updated");
    expect(host.textContent).not.toMatch(/\$source|!ref\(|toc\b/);
    await act(async () => [...host.querySelectorAll("button")].find((b) => b.textContent === "Accept")!.click());
    expect(said).toEqual(["accept"]);
  });

  it("names the steps repeated inside a loop too", async () => {
    const loop = {
      id: "each",
      kind: "builtin:for_each",
      inputs: { items: [1, 2] },
      body: { actions: [{ id: "inner", kind: "add_toc", inputs: { post_id: "!ref($.item)" } }], edges: [{ from: "$source", to: "inner" }] },
    };
    await render({
      ...proposal,
      workflow: { actions: [loop], edges: [{ from: "$source", to: "each" }] },
      steps: [
        { action_id: "each", explanation: "Goes through two posts." },
        { action_id: "inner", explanation: "Adds a table of contents to each." },
      ],
    });
    const steps = [...host.querySelectorAll("ol li")].map((li) => li.textContent);
    expect(steps[1]).toBe("Add a Table of Contents: Adds a table of contents to each.");
  });

  it("for a change, shows what differs from the draft in the editor, and what is left to fix", async () => {
    const before: WorkflowDocument = {
      name: "Review",
      triggers: [{ event: "blog-post.updated" }],
      workflow: { actions: [proposal.workflow.actions[0]], edges: [proposal.workflow.edges[0]] },
      settings: {},
    };
    await render({ ...proposal, problems: [{ code: "blank", path: "actions[1].inputs.post_id", message: "to fill in: Which post?" }] }, before);
    const changes = [...host.querySelectorAll('[aria-label="What the change does"] li')].map((li) => li.textContent?.trim());
    expect(changes).toContain("+ Step added: Perform a grammar review");
    expect(host.textContent).toContain("Left to fix after accepting");
    expect(host.textContent).toContain("Which post?");
  });

  it("says in words why a draft could not be made", () => {
    expect(draftErrorText(new ApiError(429, "too_many_requests", "x"))).toMatch(/wait a little/);
    expect(draftErrorText(new ApiError(409, "ai_not_configured", "x"))).toMatch(/not available/);
    expect(draftErrorText(new ApiError(502, "ai_failed", "x"))).toMatch(/try again/);
  });
});
