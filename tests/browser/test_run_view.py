"""The run view (frontend/src/ui/RunView.tsx) in Chromium against a real server: a run followed live until
it ends, rerun and cancel from its toolbar, and a failed step's error, inputs and attempts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

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
    details(page).get_by_role("button", name="Test run").click()


def test_a_run_is_followed_live_rerun_and_cancelled(page: Page, forms_server: Server) -> None:
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
    toolbar = page.get_by_role("toolbar", name="Run")
    expect(toolbar.get_by_text(re.compile("^(running|queued|sleeping|waiting)$", re.I))).to_be_visible()
    expect(toolbar.get_by_text("completed", exact=True)).to_be_visible(timeout=15_000)  # no reload needed
    steps = page.get_by_role("list", name="Steps of this run")
    expect(steps.get_by_role("button", name=re.compile(r"completed\s+Log note"))).to_be_visible()
    canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(canvas.locator(".react-flow__node").filter(has_text="completed")).to_have_count(2)

    # rerun: the view moves to the new run, which completes too
    first = page.url
    toolbar.get_by_role("button", name=re.compile("Rerun")).first.click()
    expect(page).not_to_have_url(first, timeout=15_000)
    expect(page.get_by_role("toolbar", name="Run").get_by_text("completed", exact=True)).to_be_visible(timeout=15_000)

    # cancel a sleeping run
    page.get_by_role("button", name=re.compile("Back to the editor")).click()
    details(page).get_by_role("tab", name="Runs").click()
    details(page).get_by_role("button", name="Test run").click()
    toolbar = page.get_by_role("toolbar", name="Run")
    toolbar.get_by_role("button", name="Cancel").click()
    expect(toolbar.get_by_text("cancelled", exact=True)).to_be_visible(timeout=10_000)
    expect(toolbar.get_by_role("button", name=re.compile("Rerun from the failed step"))).to_be_visible()
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
    expect(page.get_by_role("toolbar", name="Run").get_by_text("failed", exact=True)).to_be_visible(timeout=15_000)
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
