import { describe as suite, expect, it } from "vitest";
import { fromCel } from "./cel";
import { describe, describeTimestamp } from "./describe";
import { FIELDS } from "./fixtures";
import type { Condition } from "./model";

function words(cel: string): string {
  const condition = fromCel(cel, FIELDS);
  if (!condition) throw new Error(`not read: ${cel}`);
  return describe(condition, FIELDS);
}

suite("describe", () => {
  it.each([
    ['event.data.title.contains("draft")', 'Title contains "draft"'],
    ['!event.data.title.contains("draft")', 'Title does not contain "draft"'],
    ['event.data.title.startsWith("He said \\"hi\\" \\\\o/")', 'Title starts with "He said "hi" \\o/"'],
    ["size(event.data.title) == 0", "Title is empty"],
    ['event.data.status in ["draft", "published"]', 'Status is one of "draft", "published"'],
    ["double(event.data.price) in [1.0, 2.5]", "Price is one of 1, 2.5"],
    ["event.data.price >= 2.5", "Price is greater than or equal to 2.5"],
    ["event.data.published == true", "Published is true"],
    ["event.data.published == false", "Published is false"],
    ['timestamp(event.data.due) < timestamp("2026-01-31T09:00:00Z")', "Due is before 31 Jan 2026, 09:00 UTC"],
    ["timestamp(event.data.due) > timestamp(async.data.sent_at)", "Due is after Sent at"],
    ['event.data.tags.exists(item, item == "vip")', 'Tags contains "vip"'],
    ["!event.data.scores.exists(item, item == 2)", "Scores does not contain 2"],
    ["size(event.data.tags) > 0", "Tags is not empty"],
    ['!has(state["my-step"].ok)', "Done does not exist"],
    ["event.data.extra == null", "Extra equals nothing"],
    ['event.data.author == {"name": "Ann"}', 'Author equals { "name": "Ann" }'],
    ["async.data.id == event.data.id", "Id equals Id (Trigger event)"],
    ["event.data.title == event.data.status", "Title equals Status"],
  ])("%s", (cel, text) => {
    expect(words(cel)).toBe(text);
  });

  it("joins rows with 'and', or lists them after 'any of:'", () => {
    expect(words('state.add_toc.post_id > 3 && event.data.status == "published"')).toBe(
      'Post id is greater than 3 and Status equals "published"',
    );
    expect(words('state.add_toc.post_id > 3 || event.data.status == "published"')).toBe(
      'any of: Post id is greater than 3; Status equals "published"',
    );
  });

  it("says nothing for the empty condition", () => {
    expect(describe({ join: "all", rows: [] }, FIELDS)).toBe("");
  });

  it("names unknown fields by their last name, never by their path", () => {
    const text = words('event.data.order_total > 3 && has(state["send-mail"].messageId) && event.data.items[1].sku == "A"');
    expect(text).toBe('Order total is greater than 3 and Message id exists and Sku equals "A"');
    expect(text).not.toMatch(/event|state|\./);
    const condition: Condition = { join: "all", rows: [{ field: "event.data.items[1]", op: "eq", value: { kind: "value", value: 1 } }] };
    expect(describe(condition, [])).toBe("Items 2 equals 1");
  });

  it("writes date-times with seconds only when they are not zero", () => {
    expect(describeTimestamp("2026-12-01T23:59:30Z")).toBe("1 Dec 2026, 23:59:30 UTC");
  });
});
