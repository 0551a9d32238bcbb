"""Loops, "on failure" connections and a step's failure policy in the editor (frontend/src/scopes.ts,
flow.ts, ui/LoopSettings.tsx, ui/PolicySection.tsx, runs.ts and the run view), through the UI only,
against a real server whose app reserves stock for order lines (and fails for a line out of stock)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Server, start_server, stop_server
from .ui import add_step, assert_plain, drag_between, new_workflow, node, open_list, screenshots, workflow_id

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

SHOP_APP = """
import msgspec
from browser_app import kit
from workflow_kit import ActionContextSync, NonRetriableError


class Line(msgspec.Struct):
    sku: str
    quantity: int = 1


class Reserved(msgspec.Struct):
    sku: str
    reserved: int


@kit.action(kind="reserve", name="Reserve stock", description="Holds stock for one order line", icon="save")
def reserve(ctx: ActionContextSync, inputs: Line) -> Reserved:
    if inputs.sku.startswith("GONE-"):
        raise NonRetriableError(f"{inputs.sku} is out of stock")
    return Reserved(sku=inputs.sku, reserved=inputs.quantity)


class Notice(msgspec.Struct):
    message: str


@kit.action(kind="notify", name="Notify the buyer", description="Sends the buyer a message", icon="mail")
def notify(ctx: ActionContextSync, inputs: Notice) -> dict:
    return {"sent": inputs.message}
"""

ORDER = {
    "name": "shop/order.placed",
    "data": {
        "order": 1042,
        "lines": [
            {"sku": "MUG-1", "quantity": 2},
            {"sku": "GONE-7", "quantity": 1},
            {"sku": "TEE-3", "quantity": 1},
        ],
    },
}
IDS = ["for_each", "reserve", "notify", "repeat_until"]
NAMES = ["Repeat for each item", "Reserve stock", "Notify the buyer", "Repeat until"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("shop")
    (folder / "shop_app.py").write_text(SHOP_APP)
    found = start_server(folder, app="shop_app:kit")
    yield found
    stop_server(found)


def draft(server: Server, page: Page) -> dict[str, Any]:
    with server.api() as api:
        found: dict[str, Any] = api.get(f"/api/workflows/{workflow_id(page)}").json()
    return found


def use_data(page: Page, field: str, data: str) -> None:
    """Fill an input with data from the picker ("Data", then the data by its name)."""
    page.locator(f'[data-field="{field}"]').get_by_role("radio", name="Data").click()
    picker = page.get_by_role("dialog", name=re.compile(r"^Use data in "))
    picker.get_by_role("button", name=re.compile(rf"^{re.escape(data)} \(")).click()
    expect(picker).to_have_count(0)


def still_box(page: Page, locator: Locator) -> dict[str, float]:
    """Where `locator` is once the canvas has stopped moving (it re-fits after a resize, after a pause)."""
    seen: list[Any] = []
    for _ in range(50):
        seen.append(locator.bounding_box())
        if len(seen) >= 6 and seen[-1] is not None and all(box == seen[-1] for box in seen[-6:]):
            return seen[-1]  # type: ignore[no-any-return]
        page.wait_for_timeout(100)
    raise AssertionError(f"{locator} kept moving")


def loop_box(page: Page) -> Locator:
    return page.get_by_role("group", name=re.compile(r"^Step Repeat for each item(,|$)"))


def build_order_workflow(page: Page) -> None:
    """For each line of the order, reserve stock; if reserving fails, notify the buyer and go on."""
    new_workflow(page, "Reserve the order", "shop/order.placed")
    page.get_by_label("Sample event (JSON)").fill(json.dumps(ORDER))
    add_step(page, "Add a step after the trigger", "Repeat for each item")
    expect(loop_box(page)).to_be_visible()
    use_data(page, "items", "Lines")
    expect(page.get_by_role("status", name="Items uses Trigger event > Lines")).to_be_visible()

    add_step(page, "Add a step inside Repeat for each item", "Reserve stock")
    expect(node(page, "Reserve stock")).to_be_visible()
    use_data(page, "sku", "Current item > Sku")
    use_data(page, "quantity", "Current item > Quantity")
    expect(page.get_by_role("status", name="Sku uses Current item > Sku")).to_be_visible()

    failing = page.get_by_role("group", name="If this step fails")
    failing.get_by_role("spinbutton", name="Try again").fill("2")
    failing.get_by_role("textbox", name="Time limit for each try").fill("30s")
    failing.get_by_role("button", name="+ Add a step to run if this fails").click()
    menu = page.get_by_role("dialog", name="Add a step to run if Reserve stock fails")
    menu.get_by_role("option", name="Notify the buyer", exact=True).click()
    page.get_by_role("textbox", name="Message", exact=True).fill("A line of your order is out of stock")
    failure_connection = "Connection from Reserve stock to Notify the buyer (on failure)"
    expect(page.get_by_role("group", name=failure_connection)).to_have_count(1)


def test_for_each_line_reserve_stock_and_notify_the_buyer_when_it_fails(page: Page, shop: Server) -> None:
    open_list(page, shop)
    build_order_workflow(page)
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")

    # the loop's panel, in words
    loop_box(page).locator(".wk-loop-header").click()
    expect(page.get_by_role("radio", name="One at a time, in order")).to_be_checked()
    expect(page.get_by_role("radio", name="Stop: the loop fails")).to_be_checked()
    page.get_by_label("Each item's result").select_option(label="What “Reserve stock” gave")
    assert_plain(page, IDS, NAMES)
    screenshots(page, "loops-editor")

    # the on-failure connection says what it means
    # (a click on its label goes through to the connection, as on any connection)
    label = still_box(page, page.locator(".wk-edge-label.failure"))
    page.mouse.click(label["x"] + label["width"] / 2, label["y"] + label["height"] / 2)
    expect(page.locator(".wk-explain")).to_contain_text("Notify the buyer runs only if Reserve stock fails")
    screenshots(page, "loops-failure-connection")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    stored = draft(shop, page)["draft"]
    (loop,) = stored["actions"]
    assert loop["kind"] == "builtin:for_each"
    assert loop["inputs"]["items"] == "!ref($.event.data.lines)"
    body = loop["body"]
    assert body["result"] == "reserve"
    reserve = next(a for a in body["actions"] if a["kind"] == "reserve")
    assert reserve["inputs"] == {"sku": "!ref($.item.sku)", "quantity": "!ref($.item.quantity)"}
    assert reserve["policy"] == {"retries": 2, "timeout": "30s"}
    assert {"from": "$source", "to": "reserve"} in body["edges"]
    assert {"from": "reserve", "to": "notify", "conditional": {"type": "failed"}} in body["edges"]

    # a test run on the 3-line order: line 2 fails, handled; the run completes (its steps have side
    # effects: the editor asks first)
    page.get_by_role("tab", name="Runs").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Test run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=30_000)
    iterations = page.get_by_role("list", name="3 iterations of Repeat for each item")
    expect(iterations).to_be_visible()
    for number in (1, 2, 3):
        expect(iterations.get_by_role("group", name=f"Item {number}")).to_be_visible()
    second = iterations.get_by_role("group", name="Item 2")
    expect(second.get_by_role("button", name=re.compile("Reserve stock"))).to_contain_text("Failed — handled")
    expect(second.get_by_role("button", name=re.compile("Notify the buyer"))).to_contain_text("completed")
    first = iterations.get_by_role("group", name="Item 1")
    expect(first.get_by_role("button", name=re.compile("Reserve stock"))).to_contain_text("completed")
    expect(first.get_by_role("button", name=re.compile("Notify the buyer"))).to_contain_text("skipped")
    expect(node(page, "Reserve stock").locator(".wk-status")).to_have_text("2 done, 1 failed — handled")
    assert_plain(page, IDS, NAMES)
    screenshots(page, "loops-run")

    second.get_by_role("button", name=re.compile("Reserve stock")).click()
    timeline = page.get_by_label("Timeline of Reserve stock · Item 2")
    expect(timeline).to_contain_text("GONE-7 is out of stock")
    expect(timeline).to_contain_text("the run went on")
    assert_plain(page, IDS, NAMES)
    screenshots(page, "loops-run-handled-step")


def test_an_on_failure_connection_drawn_from_the_red_handle_and_undone(page: Page, shop: Server) -> None:
    open_list(page, shop)
    new_workflow(page, "Handles", "shop/order.placed")
    add_step(page, "Add a step after the trigger", "Reserve stock")
    add_step(page, "Add a step after Reserve stock", "Notify the buyer")
    page.get_by_role("button", name="Disconnect from Reserve stock").click()
    still_box(page, node(page, "Notify the buyer"))
    drag_between(
        page,
        node(page, "Reserve stock").get_by_label("connect from Reserve stock on failure"),
        node(page, "Notify the buyer").locator(".react-flow__handle-top"),
    )
    failure = page.get_by_role("group", name="Connection from Reserve stock to Notify the buyer (on failure)")
    expect(failure).to_have_count(1)
    expect(page.locator(".wk-edge-label.failure")).to_have_text("On failure")
    page.keyboard.press("Control+z")
    expect(failure).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(failure).to_have_count(1)


def test_keyboard_only_a_loop_with_a_step_inside(page: Page, shop: Server) -> None:
    open_list(page, shop)
    new_workflow(page, "By keyboard", "shop/order.placed")
    page.locator('.react-flow__node[data-id="$source"]').focus()
    page.keyboard.press("+")
    page.keyboard.type("Repeat for each")
    page.keyboard.press("Enter")
    expect(loop_box(page)).to_be_visible()
    inside = page.get_by_role("button", name="Add a step inside Repeat for each item")
    inside.focus()
    page.keyboard.press("Enter")
    page.keyboard.type("Reserve")
    page.keyboard.press("Enter")
    expect(node(page, "Reserve stock")).to_be_visible()
    first_connection = "Connection from the start of Repeat for each item to Reserve stock"
    expect(page.get_by_role("group", name=first_connection)).to_have_count(1)
    # undo takes the step out of the loop again, redo puts it back
    page.keyboard.press("Control+z")
    expect(node(page, "Reserve stock")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(node(page, "Reserve stock")).to_be_visible()
