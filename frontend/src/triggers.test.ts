import { describe, expect, it } from "vitest";
import { toFlow, triggerNodeLabel } from "./flow";
import { addTrigger, MAX_TRIGGERS, problemsOfTrigger, removeTrigger, replaceTrigger, triggerPhrase, triggerProblemPlace, triggersSentence } from "./triggers";
import type { Trigger } from "./types";

const ORDERS: Trigger = { event: "app/order.created" };
const DAILY: Trigger = { cron: "0 9 * * *" };

describe("editing the list of triggers", () => {
  it("adds an event or a schedule at the end, up to ten", () => {
    expect(addTrigger([ORDERS], "event")).toEqual([ORDERS, { event: "" }]);
    expect(addTrigger([ORDERS], "cron")).toEqual([ORDERS, DAILY]);
    const full = Array.from({ length: MAX_TRIGGERS }, (_, i) => ({ event: `app/e${i}` }));
    expect(addTrigger(full, "event")).toEqual(full);
  });

  it("replaces and removes one, keeping at least one", () => {
    expect(replaceTrigger([ORDERS, DAILY], 1, { cron: "0 12 * * 5" })).toEqual([ORDERS, { cron: "0 12 * * 5" }]);
    expect(removeTrigger([ORDERS, DAILY], 0)).toEqual([DAILY]);
    expect(removeTrigger([DAILY], 0)).toEqual([DAILY]);
  });
});

describe("triggers in words", () => {
  it("says each trigger, and the list as one sentence", () => {
    expect(triggerPhrase(ORDERS)).toBe("when app/order.created");
    expect(triggerPhrase({ event: "app/order.created", if: "event.data.total > 100" }, "Total is more than 100")).toBe(
      "when app/order.created, only when Total is more than 100",
    );
    expect(triggerPhrase({ event: "app/x", if: "x" })).toBe("when app/x, only when a condition holds");
    expect(triggerPhrase({ event: " " })).toBe("when an event not named yet");
    expect(triggerPhrase(DAILY)).toBe("every day at 09:00 (UTC)");
    expect(triggerPhrase({ cron: "TZ=Europe/Paris */5 * * * *" })).toBe("on the schedule */5 * * * * (Europe/Paris)");
    expect(triggersSentence([ORDERS, DAILY])).toBe("When app/order.created, or every day at 09:00 (UTC)");
    expect(triggersSentence([DAILY])).toBe("Every day at 09:00 (UTC)");
  });

  it("names the trigger node by its triggers", () => {
    expect(triggerNodeLabel([ORDERS])).toBe("Trigger: when app/order.created");
    expect(triggerNodeLabel([ORDERS, DAILY], [{ code: "c", path: "triggers[1].cron", message: "m" }])).toBe(
      "Triggers: when app/order.created, or every day at 09:00 (UTC), 1 problem",
    );
    const [node] = toFlow({ actions: [], edges: [] }, { catalog: new Map(), triggers: [ORDERS, DAILY] }).nodes;
    expect(node.data).toMatchObject({ triggers: [ORDERS, DAILY] });
  });
});

describe("the triggers' problems", () => {
  it("belong to the list, or to one trigger and its field", () => {
    expect(triggerProblemPlace("triggers")).toEqual({ index: null, field: "" });
    expect(triggerProblemPlace("triggers[2].if")).toEqual({ index: 2, field: "if" });
    expect(triggerProblemPlace("triggers[1]")).toEqual({ index: 1, field: "" });
    expect(triggerProblemPlace("trigger.cron")).toEqual({ index: 0, field: "cron" });
    expect(triggerProblemPlace("trigger")).toEqual({ index: 0, field: "" });
    expect(triggerProblemPlace("actions[0].inputs.x")).toBeNull();
    const problems = [
      { code: "too_many_triggers", path: "triggers", message: "at most 10" },
      { code: "invalid_expression", path: "triggers[1].if", message: "bad" },
      { code: "duplicate_trigger", path: "triggers[1]", message: "twice" },
    ];
    expect(problemsOfTrigger(problems, 1).map((p) => [p.field, p.message])).toEqual([["if", "bad"], ["", "twice"]]);
    expect(problemsOfTrigger(problems, null).map((p) => p.message)).toEqual(["at most 10"]);
    expect(problemsOfTrigger(problems, 0)).toEqual([]);
  });
});
