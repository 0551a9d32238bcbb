import { describe, expect, it } from "vitest";
import { apiBaseOf } from "./pageBase";

describe("the standalone page's API base", () => {
  it("is beside the page, wherever it is mounted", () => {
    expect(apiBaseOf("http://127.0.0.1:8000/")).toBe("");
    expect(apiBaseOf("http://127.0.0.1:8000/#/workflows/01X?token=t")).toBe("");
    expect(apiBaseOf("https://app.example.com/automations/")).toBe("/automations");
    expect(apiBaseOf("https://app.example.com/automations/index.html#/")).toBe("/automations");
  });
});
