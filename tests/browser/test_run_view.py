"""The run view (frontend/src/ui/RunView.tsx) in Chromium against a real server: a run followed live until
it ends, rerun and cancel (asked first) from its header, the waterfall of its steps with their words (a
retry, a sleep, a wait), a selected step's details before the event, "Not run" on a cancelled run, and a
failed step's error, inputs and attempts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Server
from .ui import details, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def create(server: Server, name: str, actions: list[dict[str, Any]], edges: list[dict[str, Any]], **extra: Any) -> str:
    with server.api() as api:
        response = api.post(
            "/api/workflows",
            json={
                "name": name,
                "trigger": {"event": "app/run.view"},
                "workflow": {"actions": actions, "edges": edges},
                **extra,
            },
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def start_a_test_run(page: Page, server: Server, workflow_id: str) -> None:
    page.goto(f"{server.base}/#/workflows/{workflow_id}?token={server.token()}")
    details(page).get_by_role("tab", name="Runs").click()
    page.once("dialog", lambda dialog: dialog.accept())  # steps with side effects: the editor asks first
    details(page).get_by_role("button", name="Test run").click()


def run_header(page: Page) -> Locator:
    return page.get_by_role("region", name="Run summary")


def steps_of_the_run(page: Page) -> Locator:
    return page.get_by_role("list", name="Steps of this run")


def test_a_run_is_followed_live_and_rerun(page: Page, forms_server: Server) -> None:
    workflow_id = create(
        forms_server,
        "Live",
        [
            {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "2s"}},
            {"id": "note", "kind": "log_note", "inputs": {"text": "after nap"}},
        ],
        [{"from": "$source", "to": "nap"}, {"from": "nap", "to": "note"}],
        publish=True,
    )
    start_a_test_run(page, forms_server, workflow_id)
    status = page.get_by_test_id("run-status")
    expect(status).to_have_text(re.compile("^(running|queued|sleeping|waiting)$"))
    expect(status).to_have_text("completed", timeout=15_000)  # no reload needed
    header = run_header(page)
    expect(header.get_by_role("heading", name="Live")).to_be_visible()
    expect(header).to_contain_text("Test run of the draft")
    expect(page.get_by_test_id("run-sentence")).to_have_text(re.compile(r"^Completed in \d"))
    expect(header).to_contain_text(re.compile(r"Started\s*Today \d\d:\d\d:\d\d"))
    expect(steps_of_the_run(page).get_by_role("button", name=re.compile(r"^Log note: completed"))).to_be_visible()
    expect(steps_of_the_run(page).get_by_role("button", name=re.compile(r"^Sleep: completed, slept 2"))).to_be_visible()
    canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(canvas.locator(".react-flow__node").filter(has_text="completed")).to_have_count(2)

    # a completed run starts again from the start (there is no failed step to resume at)
    toolbar = page.get_by_role("toolbar", name="Run")
    expect(toolbar.get_by_role("button", name=re.compile("Rerun from the failed step"))).to_have_count(0)
    first = page.url
    toolbar.get_by_role("button", name="Run again from the start").click()
    expect(page).not_to_have_url(first, timeout=15_000)
    expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=15_000)
    expect(run_header(page)).to_contain_text("Version 1")


def test_a_retry_a_sleep_and_a_wait_on_the_waterfall(page: Page, forms_server: Server) -> None:
    workflow_id = create(
        forms_server,
        "Waterfall",
        [
            {"id": "call", "kind": "flaky", "inputs": {"service": "the printer"}},
            {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "1s"}},
            {
                "id": "approval",
                "kind": "builtin:wait_for_event",
                "inputs": {"event": "blog-post.approved", "timeout": "1d"},
            },
            {"id": "note", "kind": "log_note", "inputs": {"text": "approved"}},
        ],
        [
            {"from": "$source", "to": "call"},
            {"from": "call", "to": "nap"},
            {"from": "nap", "to": "approval"},
            {"from": "approval", "to": "note"},
        ],
    )
    start_a_test_run(page, forms_server, workflow_id)
    expect(page.get_by_test_id("run-status")).to_have_text("waiting", timeout=20_000)
    waiting_words = re.compile(r"waiting for blog-post\.approved until tomorrow \d\d:\d\d")
    expect(page.get_by_test_id("run-sentence")).to_have_text(
        re.compile(r"^Waiting for blog-post\.approved until tomorrow")
    )
    steps = steps_of_the_run(page)
    call = steps.get_by_role("button", name=re.compile(r"^Call a busy service: completed, .* 2 attempts"))
    expect(call).to_be_visible()
    # the failed attempt, the backoff (a second), the attempt that worked
    expect(call.locator(".wk-wf-seg.failed")).to_have_count(1)
    expect(call.locator(".wk-wf-seg.backoff")).to_have_attribute(
        "title", re.compile(r"^waited [\d.]+ s before retrying$")
    )
    expect(call.locator(".wk-wf-seg.attempt")).to_have_count(1)
    nap = steps.get_by_role("button", name=re.compile(r"^Sleep: completed, slept 1"))
    expect(nap.locator(".wk-wf-seg.sleep")).to_have_count(1)
    approval = steps.get_by_role("button", name=re.compile(r"^Wait for an event: waiting"))
    expect(approval).to_contain_text(waiting_words)
    expect(approval.locator(".wk-wf-seg.wait")).to_have_count(1)
    expect(steps.get_by_role("button", name=re.compile(r"^Log note: pending"))).to_be_visible()
    screenshots(page, "run-waterfall")

    # a bar is a button: the step's details come first, the event one click away
    call.focus()
    page.keyboard.press("Enter")
    run_details = page.get_by_role("complementary", name="Run details")
    expect(run_details.get_by_role("heading", name=re.compile("Call a busy service"))).to_be_visible()
    expect(run_details.get_by_role("tab", name="Step")).to_have_attribute("aria-selected", "true")
    expect(run_details.get_by_label("inputs")).to_contain_text("the printer")
    expect(run_details.get_by_label("output", exact=True)).to_contain_text("the printer answered")
    attempts = run_details.get_by_role("heading", name="Attempts").locator("xpath=following-sibling::ol[1]")
    expect(attempts.get_by_role("listitem")).to_have_count(2)
    expect(attempts.get_by_role("listitem").first).to_contain_text("failed: the printer is busy")
    expect(run_details.get_by_label("event", exact=True)).to_have_count(0)
    screenshots(page, "run-step-selected")
    run_details.get_by_role("tab", name="Event").click()
    expect(run_details.get_by_label("event", exact=True)).to_be_visible()
    expect(run_details).not_to_contain_text('"ts"')

    # cancel asks first; keeping it running changes nothing
    toolbar = page.get_by_role("toolbar", name="Run")
    expect(toolbar.get_by_role("button", name=re.compile("Rerun|Run again"))).to_have_count(0)  # still going
    toolbar.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("alertdialog", name="Cancel this run?")
    expect(dialog).to_contain_text("runs no further step")
    expect(dialog.get_by_role("button", name="Keep it running")).to_be_focused()
    screenshots(page, "run-cancel-asks")
    dialog.get_by_role("button", name="Keep it running").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("run-status")).to_have_text("waiting")
    toolbar.get_by_role("button", name="Cancel").click()
    page.get_by_role("alertdialog", name="Cancel this run?").get_by_role("button", name="Cancel the run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("cancelled", timeout=10_000)

    # on the cancelled run: the step it never reached is "Not run", and it only starts again
    expect(steps.get_by_role("button", name=re.compile(r"^Log note: Not run"))).to_be_visible()
    expect(steps.get_by_role("button", name=re.compile(r"^Wait for an event: Stopped"))).to_be_visible()
    expect(steps).not_to_contain_text("pending")
    expect(toolbar.get_by_role("button", name="Run again from the start")).to_be_visible()
    expect(toolbar.get_by_role("button", name=re.compile("Rerun from the failed step"))).to_have_count(0)
    expect(toolbar.get_by_role("button", name="Cancel")).to_have_count(0)
    canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(canvas.locator(".react-flow__node").filter(has_text="Not run")).to_have_count(1)
    screenshots(page, "run-cancelled")


def test_a_failed_step_shows_its_error_inputs_and_attempts(page: Page, forms_server: Server) -> None:
    workflow_id = create(
        forms_server,
        "Failing",
        [{"id": "bad", "kind": "fail_always", "inputs": {"reason": "because"}}],
        [{"from": "$source", "to": "bad"}],
        settings={"retries": 0},
    )
    start_a_test_run(page, forms_server, workflow_id)
    expect(page.get_by_test_id("run-status")).to_have_text("failed", timeout=15_000)
    page.get_by_role("list", name="Steps of this run").get_by_role("button", name=re.compile("Always fail")).click()
    run_details = page.get_by_role("complementary", name="Run details")
    expect(run_details.get_by_role("heading", name="Error")).to_be_visible()
    expect(run_details.get_by_text(re.compile("failed on purpose: because")).first).to_be_visible()
    expect(run_details.get_by_role("heading", name="Inputs")).to_be_visible()
    expect(run_details.get_by_label("inputs")).to_contain_text("because")
    attempts = run_details.get_by_role("heading", name="Attempts").locator("xpath=following-sibling::ol[1]")
    expect(attempts.get_by_role("listitem")).to_have_count(1)  # retries: 0
    run_canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(run_canvas.locator(".status-failed")).to_have_count(1)
    toolbar = page.get_by_role("toolbar", name="Run")
    expect(toolbar.get_by_role("button")).to_have_text(
        ["Rerun from the failed step", "Run again from the start", "Copy run id"]
    )
    expect(page.get_by_test_id("run-sentence")).to_have_text(re.compile(r"^Failed at “Always fail” after"))
