// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { localToIso } from "../conditions/drafts";
import { FIELDS } from "../conditions/fixtures";
import { ConditionBuilder, type ConditionBuilderProps } from "./ConditionBuilder";

afterEach(cleanup);

/** The builder as a panel uses it: each CEL it writes comes back as its value. */
function Harness({ initial = "", onCel, ...rest }: Partial<ConditionBuilderProps> & { initial?: string; onCel: (cel: string) => void }) {
  const [value, setValue] = useState(initial);
  return (
    <ConditionBuilder
      id="cond"
      label="Condition"
      fields={FIELDS}
      problems={[]}
      {...rest}
      value={value}
      onChange={(cel) => {
        onCel(cel);
        setValue(cel);
      }}
    />
  );
}

function setup(initial = "", props: Partial<ConditionBuilderProps> = {}) {
  const onCel = vi.fn<(cel: string) => void>();
  const user = userEvent.setup();
  render(<Harness initial={initial} onCel={onCel} {...props} />);
  return { user, onCel, last: () => onCel.mock.lastCall?.[0] };
}

const combo = (name: string) => screen.getByRole<HTMLSelectElement>("combobox", { name });
const selected = (name: string) => combo(name).selectedOptions[0]?.textContent;

describe("builder mode", () => {
  it("shows what an empty condition means, and adds a row", async () => {
    const { user, onCel } = setup("", { emptyText: "Always" });
    expect(screen.getByText("Always")).toBeTruthy();
    expect(screen.queryByRole("combobox", { name: "Match" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    expect(screen.queryByText("Always")).toBeNull();
    expect(document.activeElement).toBe(combo("Field"));
    expect(selected("Field")).toBe("Choose a value…");
    expect(onCel).not.toHaveBeenCalled(); // nothing complete to write yet
  });

  it("writes a text comparison as the user picks and types", async () => {
    const { user, onCel, last } = setup();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(combo("Field"), "Title");
    expect(selected("Comparison operator")).toBe("equals");
    expect(onCel).not.toHaveBeenCalled(); // no value yet
    await user.selectOptions(combo("Comparison operator"), "contains");
    await user.type(screen.getByRole("textbox", { name: "Value" }), 'He said "hi"\\');
    expect(last()).toBe('event.data.title.contains("He said \\"hi\\"\\\\")');
    await user.clear(screen.getByRole("textbox", { name: "Value" }));
    expect(last()).toBe(""); // the row is incomplete again: no condition
    expect(screen.getByText("Enter a value: until then this condition is not used.")).toBeTruthy();
  });

  it("offers the comparisons of the field's type, in plain words", async () => {
    const { user } = setup();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    const options = () => [...combo("Comparison operator").options].map((o) => o.textContent);
    await user.selectOptions(combo("Field"), "Price");
    expect(options()).toEqual([
      "equals",
      "does not equal",
      "is greater than",
      "is greater than or equal to",
      "is less than",
      "is less than or equal to",
      "is one of",
      "exists",
      "does not exist",
    ]);
    await user.selectOptions(combo("Field"), "Published");
    expect(options()).toEqual(["is true", "is false", "exists", "does not exist"]);
    await user.selectOptions(combo("Field"), "Tags");
    expect(options()).toEqual(["contains", "does not contain", "is empty", "is not empty", "exists", "does not exist"]);
    await user.selectOptions(combo("Field"), "My step's output");
    expect(options()).toEqual(["equals", "does not equal"]); // has() cannot test it
  });

  it("groups the fields by where they come from", () => {
    setup("has(event.data.title)");
    const groups = [...combo("Field").querySelectorAll("optgroup")].map((g) => g.label);
    expect(groups).toEqual(["Trigger event", "Add a Table of Contents", "My step", "Awaited event"]);
    expect(within(combo("Field")).getByRole("option", { name: "Post id" })).toBeTruthy();
  });

  it("writes numbers, yes/no, lists and date-times", async () => {
    const { user, last } = setup();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(combo("Field"), "Price");
    await user.selectOptions(combo("Comparison operator"), "is greater than");
    await user.type(screen.getByRole("spinbutton", { name: "Value" }), "2.5");
    expect(last()).toBe("event.data.price > 2.5");

    await user.selectOptions(combo("Comparison operator"), "is one of");
    expect(screen.getByText("Separate values with commas.")).toBeTruthy();
    await user.clear(screen.getByRole("textbox", { name: "Value" }));
    await user.type(screen.getByRole("textbox", { name: "Value" }), "1, 10.5");
    expect(last()).toBe("double(event.data.price) in [1.0, 10.5]");

    await user.selectOptions(combo("Field"), "Published");
    expect(last()).toBe("event.data.published == true"); // "is true" needs no value
    await user.selectOptions(combo("Comparison operator"), "is false");
    expect(last()).toBe("event.data.published == false");

    await user.selectOptions(combo("Field"), "Status");
    await user.selectOptions(combo("Comparison operator"), "is one of");
    await user.type(screen.getByRole("textbox", { name: "Value" }), "draft, published");
    expect(last()).toBe('event.data.status in ["draft", "published"]');

    await user.selectOptions(combo("Field"), "Due");
    await user.selectOptions(combo("Comparison operator"), "is after");
    fireEvent.change(screen.getByLabelText("Value"), { target: { value: "2026-01-31T10:00" } });
    expect(last()).toBe(`timestamp(event.data.due) > timestamp("${localToIso("2026-01-31T10:00")}")`);
    expect(localToIso("2026-01-31T10:00")).toMatch(/^2026-01-3[01]T\d\d:00:00Z$/);

    await user.selectOptions(combo("Field"), "Tags");
    await user.type(screen.getByRole("textbox", { name: "Value" }), "vip");
    expect(last()).toBe('event.data.tags.exists(item, item == "vip")');
    await user.selectOptions(combo("Comparison operator"), "is empty");
    expect(screen.queryByRole("textbox", { name: "Value" })).toBeNull();
    expect(last()).toBe("size(event.data.tags) == 0");
  });

  it("compares with another field", async () => {
    const { user, last } = setup();
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(combo("Field"), "Id (Awaited event)");
    await user.selectOptions(combo("Compare with"), "another field");
    const other = combo("Value");
    expect([...other.querySelectorAll("optgroup")].map((g) => g.label)).toEqual(["Trigger event"]); // text fields, not itself
    await user.selectOptions(other, "Id (Trigger event)");
    expect(last()).toBe("async.data.id == event.data.id");
    await user.selectOptions(combo("Compare with"), "a fixed value");
    expect(last()).toBe(""); // the fixed value is still empty
  });

  it("reads a value back into the controls", () => {
    setup('state.add_toc.post_id > 3 && event.data.status == "published" && async.data.id == event.data.id');
    expect(selected("Match")).toBe("all of these");
    expect(selected("Field")).toBe("Post id");
    expect(selected("Comparison operator")).toBe("is greater than");
    expect(screen.getByRole<HTMLInputElement>("spinbutton", { name: "Value" }).value).toBe("3");
    expect(selected("Field of condition 2")).toBe("Status");
    expect(selected("Comparison operator of condition 2")).toBe("equals");
    expect(screen.getByRole<HTMLInputElement>("textbox", { name: "Value of condition 2" }).value).toBe("published");
    expect(selected("Field of condition 3")).toBe("Id (Awaited event)");
    expect(combo("Field of condition 3").value).toBe("async.data.id");
    expect(selected("Compare condition 3 with")).toBe("another field");
    expect(combo("Value of condition 3").value).toBe("event.data.id");
    expect(selected("Value of condition 3")).toBe("Id (Trigger event)");
  });

  it("joins with any, and removes rows", async () => {
    const { user, last } = setup('state.add_toc.post_id > 3 && event.data.status == "published"');
    await user.selectOptions(combo("Match"), "any of these");
    expect(last()).toBe('state.add_toc.post_id > 3 || event.data.status == "published"');
    expect(screen.getAllByText("or")).toHaveLength(1);
    await user.click(screen.getByRole("button", { name: "Remove condition 1" }));
    expect(last()).toBe('event.data.status == "published"');
    expect(screen.queryByRole("combobox", { name: "Match" })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Add a condition" }));
    await user.click(screen.getByRole("button", { name: "Remove condition 1" }));
    expect(last()).toBe("");
  });

  it("keeps an incomplete row while writing the complete ones", async () => {
    const { user, last, onCel } = setup("event.data.price > 3");
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(combo("Field of condition 2"), "Title");
    expect(onCel).not.toHaveBeenCalled();
    await user.selectOptions(combo("Match"), "any of these");
    expect(onCel).not.toHaveBeenCalled(); // one complete row: the CEL is the same
    await user.type(screen.getByRole("spinbutton", { name: "Value" }), "0");
    expect(last()).toBe("event.data.price > 30");
    expect(selected("Field of condition 2")).toBe("Title"); // still there
    await user.type(screen.getByRole("textbox", { name: "Value of condition 2" }), "x");
    expect(last()).toBe('event.data.price > 30 || event.data.title == "x"');
  });

  it("works with a value its parent does not pass back", async () => {
    const onChange = vi.fn<(cel: string) => void>();
    const user = userEvent.setup();
    render(<ConditionBuilder id="c" label="Condition" value="" fields={FIELDS} problems={[]} onChange={onChange} />);
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    await user.selectOptions(combo("Field"), "Title");
    await user.type(screen.getByRole("textbox", { name: "Value" }), "ab");
    expect(onChange.mock.calls.map(([cel]) => cel)).toEqual(['event.data.title == "a"', 'event.data.title == "ab"']);
  });

  it("shows a new value from outside", () => {
    const props = { id: "c", label: "Condition", fields: FIELDS, problems: [], onChange: () => undefined };
    const { rerender } = render(<ConditionBuilder {...props} value="event.data.price > 3" />);
    rerender(<ConditionBuilder {...props} value='event.data.title.endsWith("!")' />);
    expect(selected("Field")).toBe("Title");
    expect(selected("Comparison operator")).toBe("ends with");
    expect(screen.getByRole<HTMLInputElement>("textbox", { name: "Value" }).value).toBe("!");
    rerender(<ConditionBuilder {...props} value="size(event.data.x) > 2" />);
    expect(screen.getByRole<HTMLTextAreaElement>("textbox", { name: "Condition" }).value).toBe("size(event.data.x) > 2");
  });

  it("keeps a field it does not know, named from its path", async () => {
    const { user, last } = setup("event.data.order_total > 3");
    expect(selected("Field")).toBe("Order total");
    expect(combo("Field").querySelector("optgroup[label='Other values']")).toBeTruthy();
    expect(selected("Comparison operator")).toBe("is greater than");
    await user.type(screen.getByRole("spinbutton", { name: "Value" }), "5");
    expect(last()).toBe("event.data.order_total > 35");
  });

  it("never shows paths or CEL", async () => {
    const { user } = setup('state["my-step"].ok == true && async.data.id == event.data.id && event.data.order_total > 3', {
      problems: ["unknown variable 'state' (available: async, event) in expression 'state[\"my-step\"].ok == true'"],
    });
    await user.click(screen.getByRole("button", { name: "Add a condition" }));
    const text = document.body.textContent ?? "";
    expect(text).not.toMatch(/event\.|state\.|state\[|async\.|my-step|==|&&|\|\||CEL/);
    expect(text).toContain("unknown variable 'state' (available: async, event)");
  });
});

describe("expression mode", () => {
  it("opens hand-written CEL as an expression", async () => {
    const { user, last } = setup("size(event.data.x) > 2 && true || false");
    const text = screen.getByRole<HTMLTextAreaElement>("textbox", { name: "Condition" });
    expect(text.value).toBe("size(event.data.x) > 2 && true || false");
    expect(screen.getByText("Written as an expression: the builder cannot show it.")).toBeTruthy();
    const back = screen.getByRole<HTMLButtonElement>("button", { name: "Use the builder" });
    expect(back.disabled).toBe(true);
    expect(back.title).toBe("The builder cannot show this expression");

    await user.clear(text);
    await user.type(text, "has(event.data.title)");
    expect(last()).toBe("has(event.data.title)");
    expect(screen.queryByText("Written as an expression: the builder cannot show it.")).toBeNull();
    await user.click(back);
    expect(selected("Field")).toBe("Title");
    expect(selected("Comparison operator")).toBe("exists");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Edit as expression" }));
  });

  it("switches to an expression and back", async () => {
    const { user, last } = setup('event.data.title == "a"');
    await user.click(screen.getByRole("button", { name: "Edit as expression" }));
    const text = screen.getByRole<HTMLTextAreaElement>("textbox", { name: "Condition" });
    expect(text.value).toBe('event.data.title == "a"');
    expect(document.activeElement).toBe(text);
    await user.type(text, " && has(event.data.due)");
    expect(last()).toBe('event.data.title == "a" && has(event.data.due)');
    await user.click(screen.getByRole("button", { name: "Use the builder" }));
    expect(selected("Field of condition 2")).toBe("Due");
    expect(selected("Comparison operator of condition 2")).toBe("exists");
  });

  it("marks where a problem is", async () => {
    const value = 'event.data.title == "a" &&\n  event.data.x ==';
    setup(value, { problems: [`syntax error at line 2, column 17 in expression '${value}'`, "something else"] });
    const pointer = screen.getByText((_, el) => el?.tagName === "PRE");
    expect(pointer.textContent).toBe("  event.data.x ==\n                ^");
    expect(screen.getByText("something else")).toBeTruthy();
    expect(screen.getByRole("textbox", { name: "Condition" }).getAttribute("aria-invalid")).toBe("true");
  });
});
