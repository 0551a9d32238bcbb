"""Issue 5, the browser editor: build a three-action workflow with an if/else branch through the UI only
(drag, connect, fill forms, pick a ref), save, publish, enable, send a test event, and see the run complete
with the right branch skipped. Driven by visible labels and roles, at 1280x800."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from . import issue5_support
from .issue5_support import Server, drag_handle, new_workflow, page_of, shot, use_data, write_condition

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

# the shared fixtures: a real `workflow-kit serve`, Playwright, a fresh Chromium profile per test
playwright = issue5_support.playwright
server = issue5_support.server
browser = issue5_support.browser


def build(page: Any, server: Server, name: str) -> str:
    workflow_id = new_workflow(page, server, name)
    # A sample event to pick refs from.
    page.get_by_label("Sample event (JSON)").fill(
        '{"name": "app/user.signup", "data": {"n": 10, "email": "ann@example.com"}}'
    )
    canvas = page.get_by_role("application", name=re.compile("Workflow canvas"))

    # 1. drag "Compute score" from the palette onto the canvas, then connect the trigger to it by its handles.
    page.get_by_role("button", name=re.compile("^Add Compute score")).drag_to(
        canvas, target_position={"x": 200, "y": 150}
    )
    expect(canvas.get_by_text("Compute score")).to_be_visible()
    drag_handle(page, page.get_by_label("connect from the trigger"), page.get_by_label("connect into Compute score"))
    expect(canvas.get_by_role("group", name="Connection from Trigger to Compute score")).to_have_count(1)

    # its form: Value is a ref to the event's data.n, picked from the sample event (in the panel opened
    # when it was dropped, before the connection was drawn).
    canvas.get_by_text("Compute score").click()
    details = page.get_by_role("complementary", name="Details")
    expect(details.get_by_role("heading", name="Compute score")).to_be_visible()
    use_data(page, details, "Value", "N")
    expect(details.get_by_text("Trigger event > N")).to_be_visible()

    # 2. an If after it (selected node + palette button), with a CEL condition.
    page.get_by_role("button", name=re.compile("^Add If")).click()
    expect(details.get_by_role("heading", name="If")).to_be_visible()
    write_condition(details, "state.score.score > 10")

    # 3. the True branch: Send email after the If; To is a ref to the event's email.
    page.get_by_role("button", name=re.compile("^Add Send email")).click()
    expect(details.get_by_role("heading", name="Send email")).to_be_visible()
    use_data(page, details, "To", "Email")
    details.get_by_role("textbox", name="Body").fill("Welcome aboard, friend")

    # 4. the False branch: Log note dropped on the canvas and connected from the If by its handles.
    page.get_by_role("button", name="Auto layout").click()
    page.get_by_role("button", name="Fit View").click()
    page.get_by_role("button", name=re.compile("^Add Log note")).drag_to(canvas, target_position={"x": 560, "y": 120})
    drag_handle(page, page.get_by_label("connect from If"), page.get_by_label("connect into Log note"))
    expect(canvas.get_by_text("True", exact=True)).to_be_visible()
    expect(canvas.get_by_text("False", exact=True)).to_be_visible()
    canvas.get_by_text("Log note").click()
    expect(details.get_by_role("heading", name="Log note")).to_be_visible()
    details.get_by_role("textbox", name="Text").fill("small score")

    page.get_by_role("button", name="Auto layout").click()
    expect(page.get_by_role("toolbar", name="Workflow").get_by_text("No problems")).to_be_visible()
    shot(page, "built")
    return workflow_id


def test_build_save_publish_enable_and_test_run(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = build(page, server, "Signup branch")

    toolbar = page.get_by_role("toolbar", name="Workflow")
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    toolbar.get_by_role("button", name="Publish").click()
    expect(toolbar.get_by_text("Published v1")).to_be_visible()
    enable = toolbar.get_by_role("switch")
    expect(enable).to_have_attribute("aria-checked", "false")
    enable.click()
    expect(enable).to_have_attribute("aria-checked", "true")

    # The stored workflow is the one built: three actions and an if, the True/False edges.
    status, record = server.call("GET", f"/api/workflows/{workflow_id}")
    assert status == 200
    assert record["enabled"] is True and record["published_version"] == 1
    kinds = sorted(a["kind"] for a in record["draft"]["actions"])
    assert kinds == ["builtin:if", "log_note", "score", "send_email"]
    edges = {(e["from"], e["to"]): e for e in record["draft"]["edges"]}
    assert ("$source", "score") in edges and ("score", "if") in edges
    assert edges[("if", "send_email")].get("conditional", {}).get("type") == "if"
    assert edges[("if", "log_note")].get("conditional", {}).get("type") == "else"
    inputs = {a["id"]: a.get("inputs", {}) for a in record["draft"]["actions"]}
    assert inputs["score"]["value"] == "!ref($.event.data.n)"
    assert inputs["send_email"]["to"] == "!ref($.event.data.email)"
    assert "positions" in str(record["draft"].get("metadata", {}))

    # A test run from the editor with the sample event: n=10, score 20 -> True; the note is skipped.
    details = page.get_by_role("complementary", name="Details")
    details.get_by_role("tab", name="Runs").click()
    details.get_by_role("button", name="Test run").click()
    run_toolbar = page.get_by_role("toolbar", name="Run")
    expect(run_toolbar.get_by_text("completed", exact=True)).to_be_visible(timeout=15000)
    actions = page.get_by_role("list", name="Steps of this run")
    expect(actions.get_by_role("button", name=re.compile(r"skipped\s+Log note"))).to_be_visible()
    expect(actions.get_by_role("button", name=re.compile(r"completed\s+Send email"))).to_be_visible()
    run_canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(run_canvas.locator(".status-skipped")).to_have_count(1)
    expect(run_canvas.locator(".status-completed")).to_have_count(3)
    shot(page, "test-run")

    # a step's inputs and output
    actions.get_by_role("button", name=re.compile(r"Send email")).click()
    expect(page.get_by_label("output")).to_contain_text("ann@example.com")

    # A real event through the API: n=1 -> score 2 -> False; the email is skipped.
    page.get_by_role("button", name=re.compile("Back to the editor")).click()
    status, sent = server.call(
        "POST", "/api/events", {"name": "app/user.signup", "data": {"n": 1, "email": "bob@example.com"}}
    )
    assert status in (200, 201, 202), sent
    details = page.get_by_role("complementary", name="Details")
    details.get_by_role("tab", name="Runs").click()
    runs = page.get_by_role("list", name="Runs of this workflow")
    expect(runs.get_by_role("button")).to_have_count(2, timeout=10000)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and runs.get_by_role("button", name=re.compile("completed")).count() < 2:
        page.wait_for_timeout(300)
    runs.get_by_role("button").first.click()
    expect(page.get_by_role("toolbar", name="Run").get_by_text("completed", exact=True)).to_be_visible(timeout=15000)
    actions = page.get_by_role("list", name="Steps of this run")
    expect(actions.get_by_role("button", name=re.compile(r"skipped\s+Send email"))).to_be_visible()
    expect(actions.get_by_role("button", name=re.compile(r"completed\s+Log note"))).to_be_visible()
    shot(page, "event-run")
