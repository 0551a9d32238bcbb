// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Api } from "../api";
import type { Operation, RunPage } from "../history";
import type { Run, WorkflowRecord } from "../types";
import { RunsPage } from "./RunsPage";

function run(id: string, status: Run["status"], version: number | null = 1): Run {
  return {
    id,
    tenant: "acme",
    workflow_id: "w1",
    version,
    version_id: "v1",
    status,
    event: { name: "app/x", data: {} },
    created_at: 1_000,
    started_at: 1_000,
    ended_at: status === "sleeping" ? null : 4_000,
  } as Run;
}

function fakeApi(pages: RunPage[], operations: Operation[] = []) {
  // the pages in turn; the last one again and again
  const runPage = vi.fn((..._args: unknown[]) => Promise.resolve((pages.length > 1 ? pages.shift() : pages[0]) as RunPage));
  const bulk = vi.fn((..._args: unknown[]) => Promise.resolve(operations.shift() as Operation));
  const operation = vi.fn(() => Promise.resolve(operations.shift() as Operation));
  const api = {
    workflows: () => Promise.resolve([{ id: "w1", name: "Nightly import" } as WorkflowRecord]),
    runPage,
    bulk,
    operation,
  } as unknown as Api;
  return { api, runPage, bulk, operation };
}

afterEach(cleanup);

describe("the runs view", () => {
  it("shows each run in words, loads more by cursor", async () => {
    const { api, runPage } = fakeApi([
      { items: [run("r1", "failed"), run("r2", "sleeping", null)], next_cursor: "next" },
      { items: [run("r3", "completed")], next_cursor: null },
    ]);
    render(<RunsPage api={api} onOpenRun={() => undefined} onBack={() => undefined} />);
    const table = await screen.findByRole("table", { name: "Runs" });
    await waitFor(() => expect(within(table).getAllByText("Nightly import")).toHaveLength(2));
    expect(within(table).getByText("Failed")).toBeTruthy();
    expect(within(table).getByText("Sleeping")).toBeTruthy();
    expect(within(table).getByText("3 s")).toBeTruthy();
    expect(within(table).getAllByText(/Test/)).toHaveLength(1);
    expect(table.textContent).not.toContain("r1");
    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(table).getAllByText("Nightly import")).toHaveLength(3));
    expect(runPage.mock.calls[1][1]).toBe("next");
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("cancels all that match after asking, and follows the operation to its end", async () => {
    const running: Operation = { id: "o1", kind: "cancel", state: "running", matched: 2, done: 0, failed: 0, created_at: 0 };
    const { api, bulk } = fakeApi(
      [{ items: [run("r1", "sleeping"), run("r2", "sleeping")], next_cursor: null }],
      [running, { ...running, state: "completed", done: 2 }],
    );
    render(<RunsPage api={api} onOpenRun={() => undefined} onBack={() => undefined} />);
    await screen.findByRole("table", { name: "Runs" });
    await userEvent.selectOptions(screen.getByLabelText("Status"), "sleeping");
    await userEvent.click(screen.getByRole("button", { name: "Select all that match" }));
    await userEvent.click(screen.getByRole("button", { name: "Cancel runs…" }));
    const question = screen.getByRole("alertdialog", { name: "Cancel these runs?" });
    expect(bulk).not.toHaveBeenCalled();
    await userEvent.click(within(question).getByRole("button", { name: "Yes, cancel them" }));
    expect(bulk).toHaveBeenCalledWith("cancel", { status: ["sleeping"] });
    await waitFor(() => expect(screen.getByRole("status", { name: "Progress" }).textContent).toContain("Cancelled 2 runs."), {
      timeout: 3000,
    });
  });

  it("says failed runs are marked cancelled, and that completed ones leave nothing to cancel", async () => {
    const done: Operation = { id: "o1", kind: "cancel", state: "completed", matched: 1, done: 1, failed: 0, created_at: 0 };
    const { api, bulk } = fakeApi([{ items: [run("r1", "failed")], next_cursor: null }], [done]);
    render(<RunsPage api={api} onOpenRun={() => undefined} onBack={() => undefined} />);
    await screen.findByRole("table", { name: "Runs" });
    await userEvent.selectOptions(screen.getByLabelText("Status"), "completed");
    await userEvent.click(screen.getByRole("button", { name: "Select all that match" }));
    await userEvent.click(screen.getByRole("button", { name: "Cancel runs…" }));
    let question = screen.getByRole("alertdialog", { name: "Cancel these runs?" });
    expect(question.textContent).toContain("there is nothing to cancel");
    expect(within(question).queryByRole("button", { name: "Yes, cancel them" })).toBeNull();
    await userEvent.click(within(question).getByRole("button", { name: "OK" }));

    await userEvent.selectOptions(screen.getByLabelText("Status"), "failed");
    await userEvent.click(await screen.findByRole("button", { name: "Select all that match" }));
    await userEvent.click(screen.getByRole("button", { name: "Cancel runs…" }));
    question = screen.getByRole("alertdialog", { name: "Cancel these runs?" });
    expect(question.textContent).toContain("Failed runs are marked cancelled and keep their error");
    await userEvent.click(within(question).getByRole("button", { name: "Yes, cancel them" }));
    expect(bulk).toHaveBeenCalledWith("cancel", { status: ["failed"] });
  });
});
