// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { happenedIn, realTarget } from "./eventPath";

afterEach(() => {
  document.body.innerHTML = "";
});

/** A host element with an open shadow root holding a menu with a button, and a button outside. */
function page() {
  const host = document.createElement("div");
  document.body.append(host);
  const shadow = host.attachShadow({ mode: "open" });
  const menu = document.createElement("div");
  const inside = document.createElement("button");
  menu.append(inside);
  shadow.append(menu);
  const outside = document.createElement("button");
  document.body.append(outside);
  return { host, menu, inside, outside };
}

/** What a listener on the document finds of a mousedown on `target` (the composed path is there only
 * while the event is dispatched). */
function seenByDocument<T>(target: Element, look: (event: Event) => T): T {
  const seen: T[] = [];
  const listener = (event: Event) => seen.push(look(event));
  document.addEventListener("mousedown", listener);
  target.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, composed: true }));
  document.removeEventListener("mousedown", listener);
  return seen[0];
}

describe("events from inside a shadow root", () => {
  it("are inside the element they happened in, though the document's target is the host", () => {
    const { host, menu, inside } = page();
    const seen = seenByDocument(inside, (event) => [event.target, happenedIn(event, menu), realTarget(event)]);
    expect(seen).toEqual([host, true, inside]); // the target (what the old check read) is outside the menu
  });

  it("are not inside an element they did not happen in", () => {
    const { menu, outside } = page();
    const seen = seenByDocument(outside, (event) => [happenedIn(event, menu, null), happenedIn(event, menu, outside)]);
    expect(seen).toEqual([false, true]);
  });
});
