"""Forms for real inputs (frontend/src/ui/ActionPanel.tsx and its widgets): a fixed value or data on every
field, literal JSON in a JSON editor, a date-time picker, "Run a workflow" by name, one control for a
choice of plain values; a field for each kind of input (text area, number, check box, choice, list, nested
and optional objects) with its default, each step's own values, and data from earlier steps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Server
from .ui import (
    add_from_palette,
    add_step,
    details,
    new_workflow,
    node,
    open_list,
    screenshots,
    unnamed_controls,
    use_data,
    workflow_id,
)

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def saved_inputs(page: Page, server: Server, kind: str) -> dict[str, Any]:
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    with server.api() as api:
        actions = api.get(f"/api/workflows/{workflow_id(page)}").json()["draft"]["actions"]
    [found] = [a["inputs"] for a in actions if a["kind"] == kind]
    return found  # type: ignore[no-any-return]


def test_every_field_takes_a_fixed_value_or_data_and_objects_take_json(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Forms", "app/forms")
    page.get_by_label("Sample event (JSON)").fill(
        '{"name": "app/forms", "data": {"who": "Ann", "when": "2026-03-01T10:00:00Z"}}'
    )

    add_step(page, "Add a step after the trigger", "Send an event")
    page.get_by_role("textbox", name="Event name", exact=True).fill("app/sent")
    data = page.get_by_role("textbox", name="Data (JSON)")
    data.click()
    page.keyboard.press("Control+a")
    page.keyboard.type('{"plan": ')
    expect(page.locator('[data-field="data"]').get_by_role("status")).to_contain_text("Not valid JSON yet")
    page.keyboard.type('"pro"}')
    expect(page.locator('[data-field="data"]').get_by_role("status")).to_have_count(0)
    assert saved_inputs(page, server, "builtin:send_event") == {"name": "app/sent", "data": {"plan": "pro"}}

    # the whole object from data instead: a chip with the data's name
    page.locator('[data-field="data"]').get_by_role("radio", name="Data").click()
    page.get_by_role("dialog", name="Use data in Data").get_by_role("button", name="All data (group)").click()
    expect(page.locator('[data-field="data"]')).to_contain_text("Trigger event > Data")
    assert saved_inputs(page, server, "builtin:send_event")["data"] == "!ref($.event.data)"
    page.locator('[data-field="data"]').get_by_role("radio", name="Fixed").click()
    expect(page.get_by_role("textbox", name="Data (JSON)")).to_be_visible()

    # text with data in it
    page.locator('[data-field="name"]').get_by_role("button", name="+ Insert data").click()
    page.get_by_role("dialog", name="Use data in Event name").get_by_role(
        "button", name="Who (text), for example “Ann”"
    ).click()
    expect(page.get_by_role("group", name="Data in Event name")).to_contain_text("Trigger event > Who")
    screenshots(page, "action-form-send-event")


def test_times_get_a_date_time_picker_and_workflows_are_picked_by_name(page: Page, server: Server) -> None:
    with server.api() as api:
        callee = api.post(
            "/api/workflows",
            json={"name": "Callee", "trigger": {"event": "app/callee"}, "workflow": {"actions": [], "edges": []}},
        )
        assert callee.status_code == 201
    open_list(page, server)
    new_workflow(page, "Times and calls", "app/times")

    add_step(page, "Add a step after the trigger", "Sleep until")
    until = page.locator('[data-field="until"]')
    until.get_by_role("textbox").click()
    calendar = page.locator(".react-datepicker")
    expect(calendar).to_be_visible()
    calendar.locator(".react-datepicker__day:not(.react-datepicker__day--outside-month)").filter(
        has_text="15"
    ).first.click()
    calendar.locator(".react-datepicker__time-list-item").filter(has_text="09:30").click()
    value = saved_inputs(page, server, "builtin:sleep_until")["until"]
    assert isinstance(value, str) and value.endswith("Z") and "-15T" in value, value
    expect(until.get_by_role("textbox")).to_have_value(re.compile(r"-15 09:30$"))

    add_step(page, "Add a step after Sleep until", "Run a workflow")
    picker = page.get_by_role("combobox", name="Workflow", exact=True)
    expect(picker.locator("option")).to_contain_text(["Choose a workflow…", "Callee (not published yet)"])
    picker.select_option(label="Callee (not published yet)")
    timeout = page.get_by_role("combobox", name="Timeout", exact=True)  # `Duration | None`: one box
    timeout.fill("2h")
    assert saved_inputs(page, server, "builtin:invoke") == {
        "workflow_id": callee.json()["id"],
        "data": {},
        "timeout": "2h",
    }
    node(page, "Run a workflow").click()
    screenshots(page, "action-form-run-a-workflow")


# -- forms generated from an action's inputs (the kit of tests/apps/forms_app.py) -----------------------

SAMPLE = '{"name": "app/user.signup", "data": {"n": 10, "email": "ann@example.com"}}'


def start(page: Page, server: Server, name: str, sample: bool = False) -> None:
    open_list(page, server)
    new_workflow(page, name, "app/user.signup")
    if sample:
        page.get_by_label("Sample event (JSON)").fill(SAMPLE)


def chosen(select: Locator) -> str:
    """The shown text of a select's chosen option (the form library's option values are indices)."""
    return str(select.evaluate("e => e.selectedOptions[0]?.textContent ?? ''")).strip()


def saved_draft(page: Page, server: Server) -> dict[str, Any]:
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    with server.api() as api:
        found: dict[str, Any] = api.get(f"/api/workflows/{workflow_id(page)}").json()["draft"]
    return found


def test_a_form_has_a_field_for_each_kind_of_input_with_its_default(page: Page, forms_server: Server) -> None:
    start(page, forms_server, "Form widgets")
    add_from_palette(page, "Send email")
    panel = details(page)
    assert unnamed_controls(panel) == []  # every control has a name a screen reader says
    expect(panel.get_by_role("textbox", name="To")).to_have_value("")
    expect(panel.get_by_role("textbox", name="Subject")).to_have_value("Hello")
    expect(panel.locator("label", has_text=re.compile(r"^To\s*\*"))).to_be_visible()  # required, marked
    expect(panel.locator("label", has_text=re.compile(r"^Subject\s*\*"))).to_have_count(0)
    expect(panel.get_by_role("checkbox", name="Urgent")).not_to_be_checked()
    priority = panel.get_by_role("combobox", name="Priority")
    assert chosen(priority) == "normal"
    expect(priority.get_by_role("option")).to_have_count(3)
    expect(panel.get_by_role("spinbutton", name="Retries")).to_have_value("1")
    tags = panel.get_by_role("group", name="Tags")
    add = tags.get_by_role("button", name=re.compile("^Add"))
    box = add.bounding_box()
    assert box and box["width"] >= 24 and box["height"] >= 20, box  # a button one can see and hit
    assert add.inner_text().strip(), "the button to add an item says nothing"

    # items of a list, and the optional nested object (Address | None) given
    panel.get_by_role("textbox", name="To").fill("ann@example.com")
    add.click()
    expect(tags.get_by_role("textbox")).to_have_count(1)
    tags.get_by_role("textbox").fill("vip")
    add.click()
    tags.get_by_role("textbox").nth(1).fill("new")
    panel.locator("select").filter(has=page.locator("option", has_text="Address")).first.select_option(label="Address")
    panel.get_by_role("textbox", name=re.compile("^city$", re.I)).fill("Lyon")
    [inputs] = [a["inputs"] for a in saved_draft(page, forms_server)["actions"]]
    assert inputs["tags"] == ["vip", "new"] and inputs["address"]["city"] == "Lyon", inputs
    screenshots(page, "action-form-widgets")


def test_long_text_gets_a_text_area_and_a_nested_object_its_fields(page: Page, forms_server: Server) -> None:
    start(page, forms_server, "Nested")
    add_from_palette(page, "Write article")
    panel = details(page)
    content = panel.get_by_role("textbox", name="Content")
    assert content.evaluate("e => e.tagName") == "TEXTAREA"
    panel.get_by_role("textbox", name="Title").fill("My post")
    panel.get_by_role("textbox", name="City").fill("Lyon")
    panel.get_by_role("textbox", name="Zip").fill("69001")
    content.fill("line one\nline two")
    [inputs] = [a["inputs"] for a in saved_draft(page, forms_server)["actions"]]
    assert inputs["address"] == {"city": "Lyon", "zip": "69001"}
    assert inputs["content"] == "line one\nline two"


def test_two_steps_of_one_kind_keep_their_own_choices_and_check_boxes(page: Page, forms_server: Server) -> None:
    start(page, forms_server, "Two emails")
    panel = details(page)
    add_from_palette(page, "Send email")
    panel.get_by_role("textbox", name="To").fill("first@example.com")
    panel.get_by_role("combobox", name="Priority").select_option("high")
    panel.get_by_role("textbox", name="Name on the canvas").fill("First mail")
    add_from_palette(page, "Send email")
    panel.get_by_role("textbox", name="Name on the canvas").fill("Second mail")
    expect(panel.get_by_role("textbox", name="To")).to_have_value("")  # its own defaults, not the first's
    panel.get_by_role("textbox", name="To").fill("second@example.com")
    panel.get_by_role("checkbox", name="Urgent").check()

    def each_shows_its_own() -> None:
        node(page, "First mail").click()
        expect(panel.get_by_role("textbox", name="To")).to_have_value("first@example.com")
        assert chosen(panel.get_by_role("combobox", name="Priority")) == "high"
        expect(panel.get_by_role("checkbox", name="Urgent")).not_to_be_checked()
        node(page, "Second mail").click()
        expect(panel.get_by_role("textbox", name="To")).to_have_value("second@example.com")
        assert chosen(panel.get_by_role("combobox", name="Priority")) == "normal"
        expect(panel.get_by_role("checkbox", name="Urgent")).to_be_checked()

    each_shows_its_own()
    each_shows_its_own()
    stored = sorted(
        (a["inputs"]["to"], a["inputs"].get("priority"), a["inputs"].get("urgent"))
        for a in saved_draft(page, forms_server)["actions"]
    )
    assert stored in (
        [("first@example.com", "high", None), ("second@example.com", None, True)],
        [("first@example.com", "high", False), ("second@example.com", "normal", True)],
    ), stored
    page.reload()
    each_shows_its_own()


def test_data_from_an_earlier_step_goes_into_text_and_picking_data_keeps_the_rest(
    page: Page, forms_server: Server
) -> None:
    """The picker offers an earlier step's typed output; choosing data for one field leaves what was typed
    in the others, the data chosen for another field, and the connections as they were."""
    start(page, forms_server, "Refs", sample=True)
    add_from_palette(page, "Compute score")
    use_data(page, "Value", "N")
    expect(details(page).get_by_text("Trigger event > N")).to_be_visible()
    edge = page.get_by_role("group", name="Connection from Trigger to Compute score")
    expect(edge).to_have_count(1)

    add_from_palette(page, "Send email", after=node(page, "Compute score"))
    panel = details(page)
    panel.get_by_role("textbox", name="Body").fill("hello there")
    use_data(page, "To", "Email")
    expect(panel.get_by_role("status", name="To uses Trigger event > Email")).to_be_visible()
    expect(panel.get_by_role("textbox", name="Body")).to_have_value("hello there")
    panel.locator('[data-field="subject"]').get_by_role("button", name="+ Insert data").click()
    picker = page.get_by_role("dialog", name="Use data in Subject")
    picker.get_by_role("group", name="Compute score").get_by_role("button", name="Score (number)").click()
    expect(panel.get_by_role("textbox", name="Subject")).to_have_value(
        re.compile(r"^Hello.*!ref\(\$\.state\.score\.score\)")
    )
    expect(panel.get_by_label("Data in Subject")).to_contain_text("Compute score > Score")
    expect(panel.get_by_role("status", name="To uses Trigger event > Email")).to_be_visible()
    expect(edge).to_have_count(1)
    # the picker opens with the focus in its search, and Escape closes it
    panel.locator('[data-field="body"]').get_by_role("button", name="+ Insert data").click()
    expect(page.get_by_role("searchbox", name="Search data")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    stored = {a["kind"]: a["inputs"] for a in saved_draft(page, forms_server)["actions"]}
    assert stored["score"] == {"value": "!ref($.event.data.n)"}
    assert stored["send_email"]["to"] == "!ref($.event.data.email)"
    assert stored["send_email"]["body"] == "hello there"
    assert re.fullmatch(r"Hello ?!ref\(\$\.state\.score\.score\)", stored["send_email"]["subject"])
