import { describe, expect, it } from "vitest";
import { allTags, filterTemplates, previewOf } from "./templates";
import type { ActionDef, TemplateDef } from "./types";

const def = (kind: string, name: string): ActionDef => ({ kind, name, description: "", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] } });
const catalog = new Map([
  ["add_toc", def("add_toc", "Add a Table of Contents")],
  ["generate_tweet_posts", def("generate_tweet_posts", "Generate Twitter posts")],
  ["generate_linkedin_posts", def("generate_linkedin_posts", "Generate LinkedIn posts")],
]);
const template = (id: string, name: string, tags: string[], description = ""): TemplateDef => ({
  id, name, description, tags, trigger: { event: "blog-post.published" }, settings: {}, blanks: [],
  workflow: { actions: [], edges: [] },
});
const social: TemplateDef = {
  ...template("social", "Announce a published post", ["social", "AI"], "LinkedIn posts and tweets"),
  workflow: {
    actions: [
      { id: "linkedin", kind: "generate_linkedin_posts", inputs: {} },
      { id: "twitter", kind: "generate_tweet_posts", inputs: {} },
    ],
    edges: [{ from: "$source", to: "linkedin" }, { from: "$source", to: "twitter" }],
  },
};
const review = template("review", "Review a post with AI", ["review", "AI"], "A table of contents and a grammar review");

describe("the gallery's search and tags", () => {
  it("keeps the templates holding every word, in name, description or tags, with the chosen tag", () => {
    expect(filterTemplates([social, review], "", null)).toEqual([social, review]);
    expect(filterTemplates([social, review], "tweets", null)).toEqual([social]);
    expect(filterTemplates([social, review], "post ai", null)).toEqual([social, review]);
    expect(filterTemplates([social, review], "", "review")).toEqual([review]);
    expect(filterTemplates([social, review], "tweets", "review")).toEqual([]);
  });

  it("offers each tag once, in the order they first appear", () => {
    expect(allTags([social, review])).toEqual(["social", "AI", "review"]);
  });
});

describe("a template's preview", () => {
  it("draws the trigger first, then the steps by name, with the connections, inside the box", () => {
    const preview = previewOf(social.workflow, catalog, 280, 150);
    expect(preview.nodes.map((n) => n.label)).toEqual(["Trigger", "Generate LinkedIn posts", "Generate Twitter posts"]);
    expect(preview.nodes[0].trigger).toBe(true);
    expect(preview.edges).toHaveLength(2);
    for (const n of preview.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.y).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width).toBeLessThanOrEqual(280);
      expect(n.y + n.height).toBeLessThanOrEqual(150);
    }
    const [trigger, linkedin] = preview.nodes;
    expect(linkedin.y).toBeGreaterThan(trigger.y); // top to bottom, as on the canvas
  });
});
