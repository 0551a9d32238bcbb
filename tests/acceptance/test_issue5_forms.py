"""Issue 5, the side panel per action: a form generated from the action's JSON Schema (strings, numbers,
booleans, enums, arrays, nested objects, textarea for long text), defaults filled, required fields marked,
values saved on change; switching between two nodes of one kind shows each node's own values; the ref picker
beside every input, refs shown as chips."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from . import issue5_support
from .issue5_support import Server, drag_handle, new_workflow, page_of, shot, use_data

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

# the shared fixtures: a real `workflow-kit serve`, Playwright, a fresh Chromium profile per test
playwright = issue5_support.playwright
server = issue5_support.server
browser = issue5_support.browser

SAMPLE = '{"name": "app/user.signup", "data": {"n": 10, "email": "ann@example.com"}}'


def canvas_of(page: Any) -> Any:
    return page.get_by_role("application", name=re.compile("Workflow canvas"))


def details_of(page: Any) -> Any:
    return page.get_by_role("complementary", name="Details")


def add_after_trigger(page: Any, kind_name: str) -> None:
    canvas_of(page).get_by_text(re.compile("^When ")).click()
    page.get_by_role("button", name=re.compile(f"^Add {kind_name}")).click()


def selected(select: Any) -> str:
    """The shown text of a select's chosen option (the form library's option values are indices)."""
    return str(select.evaluate("e => e.selectedOptions[0]?.textContent ?? ''")).strip()


def stored_inputs(server: Server, workflow_id: str) -> dict[str, Any]:
    status, record = server.call("GET", f"/api/workflows/{workflow_id}")
    assert status == 200
    return {a["id"]: a.get("inputs", {}) for a in record["draft"]["actions"]}


def test_generated_form_widgets_defaults_and_required(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Form widgets")
    add_after_trigger(page, "Send email")
    details = details_of(page)
    expect(details.get_by_role("heading", name="Send email")).to_be_visible()
    # strings, defaults filled
    expect(details.get_by_role("textbox", name="To")).to_have_value("")
    expect(details.get_by_role("textbox", name="Subject")).to_have_value("Hello")
    # required marked (visibly) on To, not on Subject
    expect(details.locator("label", has_text=re.compile(r"^To\s*\*"))).to_be_visible()
    expect(details.locator("label", has_text=re.compile(r"^Subject\s*\*"))).to_have_count(0)
    # booleans, enums, numbers, arrays
    expect(details.get_by_role("checkbox", name="Urgent")).not_to_be_checked()
    priority = details.get_by_role("combobox", name="Priority")
    assert selected(priority) == "normal"
    expect(priority.get_by_role("option")).to_have_count(3)
    expect(details.get_by_role("spinbutton", name="Retries")).to_have_value("1")
    expect(details.get_by_role("group", name="Tags")).to_be_visible()
    shot(page, "form-widgets")


def test_textarea_and_nested_object(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Nested")
    add_after_trigger(page, "Write article")
    details = details_of(page)
    expect(details.get_by_role("heading", name="Write article")).to_be_visible()
    content = details.get_by_role("textbox", name="Content")
    expect(content).to_have_count(1)
    assert content.evaluate("e => e.tagName") == "TEXTAREA"
    # a nested object's fields
    details.get_by_role("textbox", name="Title").fill("My post")
    details.get_by_role("textbox", name="City").fill("Lyon")
    details.get_by_role("textbox", name="Zip").fill("69001")
    content.fill("line one\nline two")
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    inputs = stored_inputs(server, workflow_id)["article"]
    assert inputs["address"] == {"city": "Lyon", "zip": "69001"}
    assert inputs["content"] == "line one\nline two"


def test_two_nodes_of_one_kind_keep_their_own_values(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Two emails")
    canvas = canvas_of(page)
    details = details_of(page)
    add_after_trigger(page, "Send email")
    details.get_by_role("textbox", name="To").fill("first@example.com")
    details.get_by_role("textbox", name="Subject").fill("First subject")
    details.get_by_role("combobox", name="Priority").select_option("high")
    details.get_by_role("textbox", name="Name on the canvas").fill("First mail")
    add_after_trigger(page, "Send email")
    details.get_by_role("textbox", name="Name on the canvas").fill("Second mail")
    # the second starts from its own defaults, not the first's values
    expect(details.get_by_role("textbox", name="To")).to_have_value("")
    expect(details.get_by_role("textbox", name="Subject")).to_have_value("Hello")
    details.get_by_role("textbox", name="To").fill("second@example.com")
    details.get_by_role("checkbox", name="Urgent").check()
    for _ in range(2):
        canvas.get_by_text("First mail").click()
        expect(details.get_by_role("textbox", name="To")).to_have_value("first@example.com")
        expect(details.get_by_role("textbox", name="Subject")).to_have_value("First subject")
        assert selected(details.get_by_role("combobox", name="Priority")) == "high"
        expect(details.get_by_role("checkbox", name="Urgent")).not_to_be_checked()
        canvas.get_by_text("Second mail").click()
        expect(details.get_by_role("textbox", name="To")).to_have_value("second@example.com")
        expect(details.get_by_role("textbox", name="Subject")).to_have_value("Hello")
        assert selected(details.get_by_role("combobox", name="Priority")) == "normal"
        expect(details.get_by_role("checkbox", name="Urgent")).to_be_checked()
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    inputs = stored_inputs(server, workflow_id)
    values = sorted((v.get("to"), v.get("priority"), v.get("urgent")) for v in inputs.values())
    assert values == [("first@example.com", "high", None), ("second@example.com", None, True)] or values == [
        ("first@example.com", "high", False),
        ("second@example.com", "normal", True),
    ], values
    # after a reload, the same
    page.reload()
    canvas_of(page).get_by_text("First mail").click()
    expect(details.get_by_role("textbox", name="To")).to_have_value("first@example.com")
    canvas_of(page).get_by_text("Second mail").click()
    expect(details.get_by_role("textbox", name="To")).to_have_value("second@example.com")


def test_ref_picker_inserts_refs_shown_as_chips(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Refs")
    page.get_by_label("Sample event (JSON)").fill(SAMPLE)
    add_after_trigger(page, "Compute score")
    page.get_by_role("button", name=re.compile("^Add Send email")).click()  # after score: its output is upstream
    details = details_of(page)
    # a whole-field ref into To, from the event
    use_data(page, details, "To", "Email")
    expect(details.get_by_text("Trigger event > Email")).to_be_visible()
    expect(details.get_by_role("status", name="To uses Trigger event > Email")).to_be_visible()
    # a ref into text (Subject holds its default "Hello"): the upstream action's typed output, appended
    picker_group = "Compute score"
    details.locator('[data-field="subject"]').get_by_role("button", name="+ Insert data").click()
    picker = page.get_by_role("dialog", name="Use data in Subject")
    expect(picker.get_by_role("group", name=picker_group).get_by_role("button", name="Score (number)")).to_be_visible()
    picker.get_by_role("group", name=picker_group).get_by_role("button", name="Score (number)").click()
    subject = details.get_by_role("textbox", name="Subject")
    expect(subject).to_have_value(re.compile(r"^Hello.*!ref\(\$\.state\.score\.score\)"))
    expect(details.get_by_label("Data in Subject")).to_contain_text("Compute score > Score")
    # the picker closes with Escape and gives focus to its search first
    details.locator('[data-field="body"]').get_by_role("button", name="+ Insert data").click()
    expect(page.get_by_role("searchbox", name="Search data")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    inputs = stored_inputs(server, workflow_id)
    assert inputs["send_email"]["to"] == "!ref($.event.data.email)"
    assert re.fullmatch(r"Hello ?!ref\(\$\.state\.score\.score\)", inputs["send_email"]["subject"])


def test_recent_event_as_sample(browser: Any, server: Server) -> None:
    status, _ = server.call("POST", "/api/events", {"name": "app/recent.thing", "data": {"colour": "blue"}})
    assert status in (200, 201, 202)
    page = page_of(browser)
    new_workflow(page, server, "Recent", event="app/recent.thing")
    page.get_by_role("button", name="Pick a recent event").click()
    page.get_by_role("list", name="Recent events").get_by_role("button", name="app/recent.thing").click()
    expect(page.get_by_label("Sample event (JSON)")).to_have_value(re.compile("colour"))
    add_after_trigger(page, "Log note")
    details_of(page).locator('[data-field="text"]').get_by_role("radio", name="Data").click()
    expect(page.get_by_role("dialog").get_by_role("button", name=re.compile(r"^Colour \(text\)"))).to_be_visible()


def test_typed_values_survive_picking_a_ref(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Typed then ref")
    page.get_by_label("Sample event (JSON)").fill(SAMPLE)
    add_after_trigger(page, "Send email")
    details = details_of(page)
    details.get_by_role("textbox", name="Body").fill("hello there")
    details.get_by_role("textbox", name="Subject").fill("Hi!")
    use_data(page, details, "To", "Email")
    expect(details.get_by_text("Trigger event > Email")).to_be_visible()
    expect(details.get_by_role("textbox", name="Body")).to_have_value("hello there", timeout=2000)
    expect(details.get_by_role("textbox", name="Subject")).to_have_value("Hi!", timeout=2000)
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    assert stored_inputs(server, workflow_id)["send_email"].get("body") == "hello there"


def test_connection_survives_picking_a_ref(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Connect then ref")
    page.get_by_label("Sample event (JSON)").fill(SAMPLE)
    canvas = canvas_of(page)
    page.get_by_role("button", name=re.compile("^Add Compute score")).drag_to(
        canvas, target_position={"x": 200, "y": 150}
    )
    drag_handle(page, page.get_by_label("connect from the trigger"), page.get_by_label("connect into Compute score"))
    edge = canvas.get_by_role("group", name="Connection from Trigger to Compute score")
    expect(edge).to_have_count(1)
    canvas.get_by_text("Compute score").click()
    details = details_of(page)
    use_data(page, details, "Value", "N")
    expect(details.get_by_text("Trigger event > N")).to_be_visible()
    expect(edge).to_have_count(1, timeout=2000)


def test_second_ref_keeps_the_first(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Two refs")
    page.get_by_label("Sample event (JSON)").fill(SAMPLE)
    add_after_trigger(page, "Send email")
    details = details_of(page)
    use_data(page, details, "To", "Email")
    expect(details.get_by_role("status", name=re.compile("^To uses "))).to_be_visible()
    use_data(page, details, "Body", "N")
    expect(details.get_by_role("status", name=re.compile("^Body uses "))).to_be_visible()
    expect(details.get_by_role("status", name=re.compile("^To uses "))).to_be_visible(timeout=2000)
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    inputs = stored_inputs(server, workflow_id)["send_email"]
    assert inputs.get("to") == "!ref($.event.data.email)", inputs


def test_array_items_and_optional_nested_object(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Arrays")
    add_after_trigger(page, "Send email")
    details = details_of(page)
    details.get_by_role("textbox", name="To").fill("ann@example.com")
    tags = details.get_by_role("group", name="Tags")
    tags.get_by_role("button", name=re.compile("^Add")).click()
    expect(tags.get_by_role("textbox")).to_have_count(1)
    tags.get_by_role("textbox").fill("vip")
    tags.get_by_role("button", name=re.compile("^Add")).click()
    expect(tags.get_by_role("textbox")).to_have_count(2)
    tags.get_by_role("textbox").nth(1).fill("new")
    # the optional nested object (Address | None): choose to give one, fill its fields
    chooser = details.locator("select").filter(has=page.locator("option", has_text="Address"))
    chooser.first.select_option(label="Address")
    details.get_by_role("textbox", name=re.compile("^city$", re.I)).fill("Lyon")
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    inputs = stored_inputs(server, workflow_id)["send_email"]
    assert inputs.get("tags") == ["vip", "new"], inputs
    assert inputs.get("address", {}).get("city") == "Lyon", inputs


def test_array_add_button_is_visible(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Array button")
    add_after_trigger(page, "Send email")
    button = details_of(page).get_by_role("group", name="Tags").get_by_role("button", name=re.compile("^Add"))
    box = button.bounding_box()
    assert box and box["width"] >= 24 and box["height"] >= 20, box
    assert button.inner_text().strip(), "no visible text"
