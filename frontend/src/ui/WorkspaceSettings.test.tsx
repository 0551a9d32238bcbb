// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError, type Api } from "../api";
import type { TenantSettings } from "../types";
import { WorkspaceSettings } from "./WorkspaceSettings";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLDivElement;
let root: Root;
let stored: TenantSettings;
let puts: (string | null)[];

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  stored = { retention: null, default_retention: "30d" };
  puts = [];
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

const api = {
  tenantSettings: async () => stored,
  saveTenantSettings: async (retention: string | null) => {
    puts.push(retention);
    if (retention === "10m") {
      throw new ApiError(422, "invalid_workflow", "invalid", [
        { code: "invalid_retention", path: "retention", message: "history is kept from 1 hour to 10 years, got '10m'" },
      ]);
    }
    stored = { retention, default_retention: "30d" };
    return stored;
  },
} as unknown as Api;

const input = () => host.querySelector<HTMLInputElement>("#wk-retention")!;

async function type(value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!;
  await act(async () => {
    setter.call(input(), value);
    input().dispatchEvent(new Event("input", { bubbles: true }));
  });
}

async function save() {
  await act(async () => host.querySelector<HTMLButtonElement>("button[type=submit]")!.click());
}

describe("the workspace settings", () => {
  it("shows the default in words, saves a time, refuses a wrong one with its reason, and empties back to the default", async () => {
    await act(async () => root.render(<WorkspaceSettings api={api} />));
    expect(input().value).toBe("");
    expect(input().placeholder).toBe("30 days (e.g. 90d, 12h)");
    expect(host.textContent).toContain("Empty: 30 days, the default.");

    await type("90d");
    await save();
    expect(puts).toEqual(["90d"]);
    expect(host.querySelector("[role=status]")?.textContent).toBe("Saved: run history is kept for 90 days.");

    await type("10m");
    await save();
    expect(host.querySelector("[role=alert]")?.textContent).toBe("History is kept from 1 hour to 10 years, got '10m'");
    expect(input().getAttribute("aria-invalid")).toBe("true");

    await type("  ");
    await save();
    expect(puts).toEqual(["90d", "10m", null]);
    expect(host.querySelector("[role=status]")?.textContent).toBe("Saved: run history is kept for 30 days, the default.");
    expect(host.querySelector("[role=alert]")).toBeNull();
  });
});
