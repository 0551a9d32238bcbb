// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "../../api";
import type { ActionDef, TemplateDef } from "../../types";
import { TemplateGallery } from "./TemplateGallery";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const def = (kind: string, name: string): ActionDef => ({ kind, name, description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] } });
const catalog = new Map([["add_toc", def("add_toc", "Add a Table of Contents")], ["generate_tweet_posts", def("generate_tweet_posts", "Generate Twitter posts")]]);
const weekly: TemplateDef = {
  id: "weekly", name: "Refresh one post every week", description: "A table of contents for a post you choose.", tags: ["review", "schedule"],
  trigger: { cron: "0 9 * * 1" }, settings: {},
  workflow: { actions: [{ id: "toc", kind: "add_toc", inputs: {}, to_fill: { post_id: "Which post?" } }], edges: [{ from: "$source", to: "toc" }] },
  blanks: [{ action_id: "toc", input: "post_id", question: "Which post?", path: "actions[0].inputs.post_id" }],
};
const tweets: TemplateDef = {
  id: "tweets", name: "Tweet published posts", description: "Tweets about each new post.", tags: ["social"],
  trigger: { event: "blog-post.published" }, settings: {}, blanks: [],
  workflow: { actions: [{ id: "t", kind: "generate_tweet_posts", inputs: {} }], edges: [{ from: "$source", to: "t" }] },
};

let host: HTMLDivElement;
let root: Root;
let used: TemplateDef[];

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  used = [];
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

async function render() {
  const api = { templates: async () => [weekly, tweets] } as unknown as Api;
  await act(async () => root.render(<TemplateGallery api={api} catalog={catalog} onUse={(t) => used.push(t)} />));
}

const cards = () => [...host.querySelectorAll("article")].map((a) => a.getAttribute("aria-label"));

describe("the template gallery", () => {
  it("shows each template with its preview, its trigger in words and what it asks to fill", async () => {
    await render();
    expect(cards()).toEqual(["Refresh one post every week", "Tweet published posts"]);
    const first = host.querySelector("article")!;
    expect(first.querySelector("svg")!.getAttribute("aria-label")).toBe("Preview: Trigger, then Add a Table of Contents");
    expect(first.textContent).toContain("You fill in 1 thing.");
    expect(first.textContent).not.toContain("$source");
  });

  it("narrows by search and by tag, and uses the chosen template", async () => {
    await render();
    const search = host.querySelector<HTMLInputElement>('input[type="search"]')!;
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!;
      setter.call(search, "tweets");
      search.dispatchEvent(new Event("input", { bubbles: true }));
    });
    expect(cards()).toEqual(["Tweet published posts"]);
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!;
      setter.call(search, "");
      search.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const schedule = [...host.querySelectorAll("button")].find((b) => b.textContent === "schedule")!;
    await act(async () => schedule.click());
    expect(schedule.getAttribute("aria-pressed")).toBe("true");
    expect(cards()).toEqual(["Refresh one post every week"]);
    const use = [...host.querySelectorAll("button")].find((b) => b.textContent === "Use this template")!;
    await act(async () => use.click());
    expect(used).toEqual([weekly]);
  });
});
