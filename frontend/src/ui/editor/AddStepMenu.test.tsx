// @vitest-environment jsdom
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ActionDef } from "../../types";
import { AddStepMenu, menuGroups } from "./AddStepMenu";

const action = (kind: string, name: string, description = ""): ActionDef => ({
  kind, name, description, icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] },
});
const catalog = [action("builtin:if", "If", "Branch on a condition"), action("builtin:sleep", "Sleep"), action("add_toc", "Add a Table of Contents", "AI-written")];

describe("the add-step menu", () => {
  it("lists the product's actions, then flow control, filtered by name or description", () => {
    expect(menuGroups(catalog, "").map((g) => [g.title, g.actions.map((a) => a.name)])).toEqual([
      ["Actions", ["Add a Table of Contents"]],
      ["Flow control", ["If", "Sleep"]],
    ]);
    expect(menuGroups(catalog, "branch").flatMap((g) => g.actions.map((a) => a.name))).toEqual(["If"]);
  });

  it("is used from the keyboard: type to search, arrows to move, Enter to add, Escape to close", async () => {
    const onPick = vi.fn();
    const onClose = vi.fn();
    render(<AddStepMenu title="Add a step after Trigger" catalog={catalog} anchor={null} onPick={onPick} onClose={onClose} />);
    expect(screen.getByRole("dialog", { name: "Add a step after Trigger" })).toBeTruthy();
    const search = screen.getByRole("combobox", { name: "Search steps" });
    expect(document.activeElement).toBe(search);
    await userEvent.keyboard("{ArrowDown}{Enter}");
    expect(onPick).toHaveBeenLastCalledWith("builtin:if");
    await userEvent.type(search, "sle");
    expect(screen.getAllByRole("option").map((o) => o.getAttribute("aria-label"))).toEqual(["Sleep"]);
    await userEvent.keyboard("{Enter}");
    expect(onPick).toHaveBeenLastCalledWith("builtin:sleep");
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });

  it("adds what is clicked", async () => {
    const onPick = vi.fn();
    render(<AddStepMenu title="Add" catalog={catalog} anchor={null} onPick={onPick} onClose={() => undefined} />);
    await userEvent.click(screen.getByRole("option", { name: "Add a Table of Contents" }));
    expect(onPick).toHaveBeenCalledWith("add_toc");
  });
});
