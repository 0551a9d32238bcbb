"""What a user does in the editor, as the browser tests say it: open it, make a workflow, add a step with
a "+" button, fill a condition with the builder. Each helper goes through the UI only."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, SCREENSHOTS, Server

SIZES = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}
INTERNAL = re.compile(
    r"\$source|builtin:|\$\.(event|state|output|item|index|round|last)\b|!ref\(|actions\[\d+\]|\.body\.|"
    r"\w\[\d+\]/\w|NonRetriableError"  # a loop iteration's record id (each[0]/reserve)
)


def open_list(page: Page, server: Server, tenant: str | None = None) -> None:
    page.goto(f"{server.base}/#/?token={server.token(tenant)}")
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()


def start_dialog(page: Page) -> Locator:
    """Press the list's "New workflow": the dialog with every way to start one (from scratch, described
    in words, from a template)."""
    page.get_by_role("button", name="New workflow", exact=True).click()
    dialog = page.get_by_role("dialog", name="New workflow")
    expect(dialog).to_be_visible()
    return dialog


def new_workflow(page: Page, name: str, event: str | None = None, *, schedule: str | None = None) -> None:
    """A workflow from scratch, started by `event` or on `schedule` (a cron line): stored, opened."""
    dialog = start_dialog(page)
    dialog.get_by_label("Name", exact=True).fill(name)
    if schedule is not None:
        dialog.get_by_label("Triggered by", exact=True).select_option("cron")
        dialog.get_by_label("Schedule").fill(schedule)
    else:
        assert event is not None, "a workflow from scratch starts on an event or a schedule"
        dialog.get_by_label("Triggered by the event").fill(event)
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator('.react-flow__node[data-id="$source"]')).to_be_visible()


def node(page: Page, title: str) -> Locator:
    """A step on the canvas by its name (its accessible name is "Step <name>…")."""
    return page.get_by_role("group", name=re.compile(rf"^Step {re.escape(title)}(,|$)"))


def trigger_node(page: Page) -> Locator:
    return page.get_by_role("group", name=re.compile(r"^Trigger: "))


def add_step(page: Page, plus: str, step: str) -> None:
    """Press a "+" button (by its name, e.g. "Add a step after the trigger"), once the canvas stands still
    (it pans to a step just added), and choose `step` in the menu."""
    button = page.get_by_role("button", name=plus, exact=True)
    expect(button).to_be_visible()
    wait_still(page, button)
    button.click()
    menu = page.get_by_role("dialog", name=re.compile(r"^Add a step"))
    menu.get_by_role("combobox", name="Search steps").fill(step)
    menu.get_by_role("option", name=step, exact=True).click()
    expect(menu).to_have_count(0)


def drag_between(page: Page, source: Locator, target: Locator) -> None:
    """A mouse drag from one handle's centre to another's, as a user connects two nodes (once the canvas
    stands still: it pans to a step just added)."""
    expect(source).to_be_visible()
    expect(target).to_be_visible()
    wait_still(page, source, target)
    start, end = source.bounding_box(), target.bounding_box()
    assert start and end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + start["height"] / 2 + 10, steps=3)
    expect(page.locator(".react-flow__connection")).to_have_count(1)  # a connection is being drawn
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    page.mouse.up()


def wait_still(page: Page, *locators: Locator, within_ms: int = 5000) -> None:
    """Wait until the elements stay where they are for 200 ms (the canvas pans to a new step)."""
    last: list[Any] = []
    still_since = waited = 0
    while waited < within_ms:
        boxes = [locator.bounding_box() for locator in locators]
        if boxes != last:
            last, still_since = boxes, waited
        elif waited - still_since >= 200:
            return
        page.wait_for_timeout(50)
        waited += 50
    raise AssertionError(f"still moving after {within_ms} ms: {last}")


def workflow_id(page: Page) -> str:
    return page.url.split("/workflows/")[1].split("?")[0]


def visible_text(page: Page) -> str:
    return page.locator("body").inner_text()


def assert_plain(page: Page, ids: Sequence[str], names: Sequence[str] = ()) -> None:
    """Nothing on screen names an internal id, kind, path or exception class. `ids` are the action ids
    and kinds of the workflow shown; `names` the names users gave or see (an id that is also an English
    word, such as "approval", may appear inside a name like "Apply changes after approval")."""
    text = visible_text(page)
    found = INTERNAL.search(text)
    assert not found, f"internal word {found.group(0)!r} on screen: {text[:2000]}"
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    words = set(re.findall(r"[A-Za-z0-9_:.$-]+", text))
    shown = [i for i in ids if i in words]
    assert not shown, f"action ids on screen: {shown} in {text[:2000]}"


def screenshots(page: Page, name: str) -> None:
    """The screen at both sizes the product is checked at, kept in test-artifacts/ to be looked at, with
    WORKFLOW_KIT_SCREENSHOTS=1 (`make screenshots`); otherwise nothing (it checks nothing)."""
    if not SCREENSHOTS:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    before = page.viewport_size
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(250)  # the canvas re-fits after a resize
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"))
    if before:
        page.set_viewport_size(before)


def tab_to(page: Page, target: Locator, limit: int = 80, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, as a keyboard user gets to it."""
    for _ in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{limit} presses of Tab did not reach {target}")


def catalog_text(server: Server, tenant: str | None = None) -> list[str]:
    """The names and descriptions the product's developers gave their actions: words users read, which
    may contain an id that is also an English word ("grammar")."""
    with server.api(tenant) as api:
        actions = api.get("/api/actions").json()
    return [a["name"] for a in actions] + [a["description"] for a in actions if a["description"]]


def details(page: Page) -> Locator:
    """The side panel of the selected step, connection or trigger."""
    return page.get_by_role("complementary", name="Details")


def add_from_palette(page: Page, step: str, after: Locator | None = None) -> None:
    """Select `after` (a node; by default the trigger), then the palette's button for `step`: added after it."""
    (after if after is not None else trigger_node(page)).click()
    page.get_by_role("button", name=re.compile(rf"^Add {re.escape(step)}")).click()
    expect(details(page).get_by_role("heading", name=step, exact=True)).to_be_visible()


def field(page: Page, name: str) -> Locator:
    """A form field of the details panel, by its label ("To", shown as "To *" when required)."""
    labels = page.locator(f'label:text-is("{name}"), label:text-is("{name} *")')
    return details(page).locator("[data-field]").filter(has=labels).first


def use_data(page: Page, name: str, data: str) -> None:
    """Fill a field with data (from the trigger's sample event or an earlier step): its "Data" choice, then
    the data whose name (e.g. "Email (text)…") starts with `data`."""
    field(page, name).get_by_role("radio", name="Data").click()
    picker = page.get_by_role("dialog", name=f"Use data in {name}")
    expect(picker).to_be_visible()
    picker.get_by_role("button", name=re.compile(rf"^{re.escape(data)}\b")).first.click()


UNNAMED = re.compile(
    r"^\s*- (button|textbox|combobox|checkbox|radio|switch|spinbutton|slider|searchbox|tab|link|option|menuitem)"
    r"\s*(\[[^\]]*\]\s*)*:?\s*$"
)


def unnamed_controls(scope: Locator) -> list[str]:
    """The lines of an ARIA snapshot that show an interactive role without an accessible name."""
    return [line.strip() for line in scope.aria_snapshot().splitlines() if UNNAMED.match(line)]


def write_condition(page: Page, cel: str, label: str = "Condition") -> None:
    """Hand-written CEL in a condition of the details panel (its expression mode; the builder is the default)."""
    group = details(page).get_by_role("group", name=label)
    toggle = group.get_by_role("button", name="Edit as expression")
    if toggle.count():
        toggle.click()
    details(page).get_by_role("textbox", name=label).fill(cel)


def ended_runs(server: Server, workflow: str, count: int) -> list[dict[str, Any]]:
    """The workflow's runs once there are `count`, each ended (read through the API, polled for 20 s)."""
    deadline = time.monotonic() + 20
    with server.api() as api:
        while True:
            runs: list[dict[str, Any]] = api.get(f"/api/runs?workflow_id={workflow}").json()["items"]
            if len(runs) >= count and all(r["status"] in ("completed", "failed") for r in runs):
                return runs
            assert time.monotonic() < deadline, runs
            time.sleep(0.1)
