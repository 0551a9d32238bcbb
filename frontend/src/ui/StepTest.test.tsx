// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "../api";
import type { ActionDef, Json, StepTestResult, Workflow } from "../types";
import { durationText, eventOf, StepTest, unsampledText } from "./StepTest";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLDivElement;
let root: Root;
let requests: unknown[];
let kept: Array<Json | undefined>;

const workflow: Workflow = { actions: [{ id: "mail", kind: "send_email", inputs: { to: "!ref($.event.data.email)" } }], edges: [{ from: "$source", to: "mail" }] };
const mailer: ActionDef = { kind: "send_email", name: "Send an email", description: "Sends an email to a customer.", icon: null, inputs: {}, outputs: {}, edges: { allow_add: true, edges: [] }, side_effects: true };
const quiet: ActionDef = { ...mailer, side_effects: false };

function fakeApi(answer: StepTestResult | Error): Api {
  return {
    testStep: async (_id: string, request: unknown) => {
      requests.push(request);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Api;
}

async function render(api: Api, definition: ActionDef, flow: Workflow = workflow) {
  await act(async () =>
    root.render(
      <StepTest api={api} workflowId="w1" workflow={flow} action={flow.actions[0]} definition={definition} sampleEvent={{ name: "shop/order", data: { email: "a@b.c" } }} onKeep={(output) => kept.push(output)} nameOf={(id) => `the step ${id}`} />,
    ),
  );
}

function button(name: string): HTMLButtonElement {
  const found = [...host.querySelectorAll("button")].find((b) => b.textContent?.trim() === name);
  if (!found) throw new Error(`no button ${name}: ${host.textContent}`);
  return found;
}

async function click(name: string) {
  await act(async () => button(name).click());
}

beforeEach(() => {
  host = document.createElement("div");
  document.body.append(host);
  root = createRoot(host);
  requests = [];
  kept = [];
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe("Test this step", () => {
  it("asks first when the step has real effects, then shows the output and its duration", async () => {
    await render(fakeApi({ output: { sent: true }, error: null, duration_ms: 42, inputs: { to: "a@b.c" }, sent_events: [] }), mailer);
    expect(host.textContent).toContain("This step has real effects");
    await click("Test this step");
    expect(requests).toEqual([]);
    expect(host.querySelector("[role=alertdialog]")?.textContent).toContain("Testing this step does it for real: sends an email to a customer. Test it anyway?");
    await click("Test it anyway");
    expect(requests).toEqual([{ action_id: "mail", workflow, event: { name: "shop/order", data: { email: "a@b.c" } } }]);
    const result = host.querySelector("[aria-label='Test result']");
    expect(result?.textContent).toContain("It worked");
    expect(result?.textContent).toContain("took 42 ms");
    expect(host.querySelector("[aria-label=Output]")?.textContent).toContain('"sent": true');
    await click("Use as sample data");
    expect(kept).toEqual([{ sent: true }]);
  });

  it("tests a step without effects at once, and says an error in words", async () => {
    await render(fakeApi({ output: null, error: "the mail server said no", duration_ms: 1500, inputs: null, sent_events: [], unsampled: ["find"] }), quiet);
    expect(host.textContent).not.toContain("real effects");
    await click("Test this step");
    expect(requests).toHaveLength(1);
    expect(host.textContent).toContain("It failed");
    expect(host.textContent).toContain("The mail server said no");
    expect(host.textContent).toContain("took 1.5 s");
    expect(host.textContent).toContain("the step find has no sample data yet, so its output was empty here: test it");
    expect(() => button("Use as sample data")).toThrow();
  });

  it("says when the test could not run, and offers to forget kept sample data", async () => {
    const withKept: Workflow = { ...workflow, metadata: { sample_outputs: { mail: { sent: true } } } };
    await render(fakeApi(new Error("Network down")), quiet, withKept);
    await click("Test this step");
    expect(host.querySelector("[role=alert]")?.textContent).toBe("The test could not run: Network down");
    await click("Forget it");
    expect(kept).toEqual([undefined]);
  });

  it("sends the sample event only when it has a name", () => {
    expect(eventOf({ name: "a", data: { x: 1 } })).toEqual({ name: "a", data: { x: 1 } });
    expect(eventOf({ name: "a" })).toEqual({ name: "a", data: {} });
    expect(eventOf({ data: {} })).toBeUndefined();
    expect(eventOf(null)).toBeUndefined();
    expect(durationText(999)).toBe("999 ms");
    expect(unsampledText(["A", "B", "C"])).toBe("A, B and C have no sample data yet, so their outputs were empty here: test them and use the output as sample data, or start a test run.");
  });
});
