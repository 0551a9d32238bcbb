// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "../../api";
import type { ActionDef, DraftProposal, TemplateDef, Trigger } from "../../types";
import type { NewWorkflow } from "../editor/useEditorCommands";
import { StartDialog } from "./StartDialog";
import { StartView } from "./StartView";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const def = (kind: string, name: string): ActionDef => ({ kind, name, description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] } });
const catalog = new Map([["add_toc", def("add_toc", "Add a Table of Contents")]]);
const weekly: TemplateDef = {
  id: "weekly", name: "Refresh one post every week", description: "A table of contents for a post you choose.", tags: ["schedule"],
  trigger: { cron: "0 9 * * 1" }, settings: { concurrency: { limit: 1 } },
  workflow: { actions: [{ id: "toc", kind: "add_toc", inputs: {}, to_fill: { post_id: "Which post?" } }], edges: [{ from: "$source", to: "toc" }] },
  blanks: [{ action_id: "toc", input: "post_id", question: "Which post?", path: "actions[0].inputs.post_id" }],
};
const proposal: DraftProposal = {
  name: "Review posts", summary: "Adds a table of contents.", triggers: [{ event: "blog-post.updated" }],
  workflow: { actions: [{ id: "toc", kind: "add_toc", inputs: { post_id: 1 } }], edges: [{ from: "$source", to: "toc" }] },
  steps: [{ action_id: "toc", explanation: "Adds a table of contents to the post." }], problems: [], repair_rounds: 0, model: "m",
};

let host: HTMLDivElement;
let root: Root;
let started: NewWorkflow[];
let made: Array<[string, Trigger]>;
let closed: number;

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  started = [];
  made = [];
  closed = 0;
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

const api = { templates: async () => [weekly], draftFromText: async () => proposal } as unknown as Api;

async function render(assistant: boolean) {
  await act(async () =>
    root.render(
      <StartDialog title="New workflow" onClose={() => closed++}>
        <StartView api={api} catalog={catalog} assistant={assistant} onScratch={async (name, trigger) => void made.push([name, trigger])} onStart={(s) => started.push(s)} />
      </StartDialog>,
    ),
  );
}

const button = (name: string) => [...host.querySelectorAll("button")].find((b) => b.textContent === name)!;
async function type(element: HTMLInputElement | HTMLTextAreaElement, value: string) {
  await act(async () => {
    const proto = element instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value")!.set!.call(element, value);
    element.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

describe("starting a new workflow", () => {
  it("is a labelled dialog, its first field focused, that Escape closes", async () => {
    await render(false);
    const dialog = host.querySelector("dialog")!;
    expect(dialog.getAttribute("aria-labelledby")).toBe("wk-start-title");
    expect(host.querySelector("#wk-start-title")!.textContent).toBe("New workflow");
    expect(document.activeElement).toBe(host.querySelector("input[data-autofocus]"));
    await act(async () => dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true })));
    expect(closed).toBe(1);
  });

  it("keeps a description being written when Escape is pressed in it; Close still closes", async () => {
    await render(true);
    const words = host.querySelector("textarea")!;
    await type(words, "When a post is published, tweet it");
    await act(async () => words.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true })));
    expect(closed).toBe(0);
    expect(words.value).toBe("When a post is published, tweet it");
    await act(async () => button("Close").click());
    expect(closed).toBe(1);
  });

  it("from scratch, says what is missing, then makes it with its name and trigger", async () => {
    await render(false);
    await act(async () => button("Create").click());
    expect(host.querySelector('[role="alert"]')!.textContent).toBe("Give the workflow a name.");
    const [name, when] = [...host.querySelectorAll<HTMLInputElement>(".wk-scratch input")];
    await type(name, "Greet");
    await type(when, "app/signup");
    await act(async () => button("Create").click());
    expect(made).toEqual([["Greet", { event: "app/signup" }]]);
  });

  it("from a template, hands its steps, trigger and settings on unsaved; describing is hidden without a model", async () => {
    await render(false);
    expect(host.textContent).not.toContain("Describe it in words");
    await act(async () => button("Use this template").click());
    expect(started).toEqual([
      {
        document: { name: weekly.name, triggers: [weekly.trigger], workflow: { ...weekly.workflow, name: weekly.name }, settings: weekly.settings },
        description: weekly.description,
      },
    ]);
  });

  it("described in words, shows the draft for review, and hands it on when accepted", async () => {
    await render(true);
    await type(host.querySelector("textarea")!, "Add a table of contents to posts");
    await act(async () => button("Draft it").click());
    expect(host.querySelector('[aria-label="Review the draft"]')!.textContent).toContain("Adds a table of contents to the post.");
    expect(host.querySelector<HTMLElement>(".wk-start")!.hidden).toBe(true);
    await act(async () => button("Discard").click()); // back to the ways to start, the words kept
    expect(host.querySelector("textarea")!.value).toBe("Add a table of contents to posts");
    expect(document.activeElement).toBe(host.querySelector("textarea"));
    await act(async () => button("Draft it").click());
    await act(async () => button("Accept").click());
    expect(started.map((s) => [s.document.name, s.document.triggers, s.description])).toEqual([["Review posts", proposal.triggers, proposal.summary]]);
  });
});
