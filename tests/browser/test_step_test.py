"""Sample data and "Test this step" (frontend/src/ui/StepTest.tsx, TriggerPanel.tsx, RefPicker.tsx) in
Chromium, through the editor only: a new workflow on a declared event starts with its example as the
sample, one step is tested and its output kept, a later step's input is mapped from it (the picker shows
the kept value), that step (which has real effects) is tested after a question, and the whole workflow is
test-run after another."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from .conftest import Server, start_server, stop_server
from .ui import add_step, assert_plain, details, field, new_workflow, open_list, screenshots, trigger_node, workflow_id

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


@pytest.fixture(scope="module")
def samples_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The kit of tests/apps/samples_app.py: a declared order event, a look-up, an email step."""
    found = start_server(tmp_path_factory.mktemp("samples"), app="apps.samples_app:kit")
    yield found
    stop_server(found)


def runs_of(server: Server, workflow: str) -> list[dict[str, Any]]:
    """The workflow's runs once there is one and all have ended."""
    deadline = time.monotonic() + 20
    with server.api() as api:
        while True:
            runs: list[dict[str, Any]] = api.get(f"/api/runs?workflow_id={workflow}").json()["items"]
            if runs and all(r["status"] in ("completed", "failed") for r in runs):
                return runs
            assert time.monotonic() < deadline, runs
            time.sleep(0.1)


def test_a_step_is_tested_its_output_kept_and_mapped_then_the_whole_is_test_run(
    page: Page, samples_server: Server
) -> None:
    open_list(page, samples_server)
    new_workflow(page, "Thank customers", "shop/order.placed")

    # The sample event is the declared event's first example, at once.
    trigger_node(page).click()
    sample = page.get_by_label("Sample event (JSON)")
    expect(sample).to_have_value(re.compile(r'"email": "ann@example.com"'))
    examples = page.get_by_role("list", name="Examples of this event")
    expect(examples.get_by_role("button")).to_have_count(2)
    expect(examples.get_by_role("button").first).to_contain_text("Example 1 (in use)")
    screenshots(page, "step-test-sample")

    # A first step, its input from the sample: the picker shows the sample's values, and the schema's
    # field no example has (the coupon).
    add_step(page, "Add a step after the trigger", "Find the customer")
    field(page, "Email").get_by_role("radio", name="Data").click()
    picker = page.get_by_role("dialog", name="Use data in Email")
    expect(picker.get_by_role("button", name=re.compile(r"^Coupon \(text\)"))).to_be_visible()
    picker.get_by_role("button", name="Email (text), for example “ann@example.com”").click()

    # Tested: it has no side effects, so nothing is asked; its output is kept as sample data.
    panel = details(page).get_by_label("Test this step")
    panel.get_by_role("button", name="Test this step").click()
    result = panel.get_by_role("status", name="Test result")
    expect(result).to_contain_text("It worked")
    expect(result).to_contain_text(re.compile(r"took \d+ ms"))
    expect(result.get_by_label("Output")).to_contain_text('"tier": "gold"')
    result.get_by_role("button", name="Use as sample data").click()
    expect(result.get_by_role("button", name="Kept as sample data")).to_be_disabled()
    screenshots(page, "step-test-result")

    # A later step maps its subject from the kept output: the picker shows the kept value.
    details(page).get_by_role("button", name="+ Add a step after this").click()
    menu = page.get_by_role("dialog", name=re.compile(r"^Add a step"))
    menu.get_by_role("combobox", name="Search steps").fill("Send an email")
    menu.get_by_role("option", name="Send an email", exact=True).click()
    field(page, "To").get_by_role("radio", name="Data").click()
    page.get_by_role("dialog", name="Use data in To").get_by_role(
        "button", name="Email (text), for example “ann@example.com”"
    ).click()
    field(page, "Subject").get_by_role("radio", name="Data").click()
    picker = page.get_by_role("dialog", name="Use data in Subject")
    kept = picker.get_by_role("group", name="Find the customer").get_by_role(
        "button", name="Name (text), for example “Ann”"
    )
    expect(kept).to_be_visible()
    screenshots(page, "step-test-picker")
    kept.click()

    # This step has real effects: it says so, and asks before testing.
    panel = details(page).get_by_label("Test this step")
    expect(panel.get_by_role("note")).to_have_text("This step has real effects: testing it does them for real.")
    panel.get_by_role("button", name="Test this step").click()
    question = panel.get_by_role("alertdialog", name="Test it for real?")
    expect(question).to_contain_text(
        "Testing this step does it for real: sends an email to the customer. Test it anyway?"
    )
    screenshots(page, "step-test-question")
    question.get_by_role("button", name="Test it anyway").click()
    output = panel.get_by_role("status", name="Test result").get_by_label("Output")
    expect(output).to_contain_text('"subject": "Ann"')
    expect(output).to_contain_text('"to": "ann@example.com"')
    assert_plain(page, ["find_customer", "send_email"])

    # The whole workflow, test-run: it asks first, naming the step with real effects.
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    workflow = workflow_id(page)
    page.once("dialog", answer)
    page.get_by_role("tab", name="Runs").click()
    page.get_by_role("button", name="Test run").click()
    expect(page).to_have_url(re.compile(r"/runs/"))
    assert len(asked) == 1 and "(Send an email)" in asked[0] and asked[0].endswith("Start the test run anyway?")
    [run] = runs_of(samples_server, workflow)
    assert (run["status"], run["version"], run["event"]["data"]["order_id"]) == ("completed", None, 1042)
    with samples_server.api() as api:
        draft = api.get(f"/api/workflows/{workflow}").json()["draft"]
    assert draft["metadata"]["sample_outputs"] == {draft["actions"][0]["id"]: {"name": "Ann", "tier": "gold"}}

    # Listed among the workflow's runs as a test run.
    page.go_back()
    page.get_by_role("tab", name="Runs").click()
    expect(page.get_by_role("list", name="Runs of this workflow")).to_contain_text("Test run")
