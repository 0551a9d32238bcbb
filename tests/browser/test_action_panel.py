"""Forms for real inputs (frontend/src/ui/ActionPanel.tsx and its widgets): a fixed value or data on every
field, literal JSON in a JSON editor, a date-time picker, "Run a workflow" by name, one control for a
choice of plain values."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import add_step, new_workflow, node, open_list, screenshots, workflow_id

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
