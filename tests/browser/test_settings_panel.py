"""The workflow settings panel (flow control) in Chromium, through the UI, against a real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, Server
from .test_editor import open_editor
from .ui import new_workflow, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def group(page: Page, name: str) -> Locator:
    return page.get_by_role("group", name=name, exact=True)


def field(scope: Locator, label: str) -> Locator:
    """A form control by its label ("Period", shown as "Period *" when required)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def workflow_id(page: Page) -> str:
    return page.url.split("/workflows/")[1].split("?")[0]


def test_settings_are_saved_with_the_draft_shown_after_a_reload_and_problems_sit_on_their_fields(
    page: Page, server: Server
) -> None:
    open_editor(page, server)
    new_workflow(page, "Orders", "app/order.created")
    page.get_by_role("tab", name="Settings").click()

    # A concurrency limit with a key, a debounce period and a cancellation event.
    page.get_by_role("button", name="Add concurrency limit").click()
    limit = group(page, "Concurrency limit 1")
    expect(field(limit, "Limit")).to_be_focused()  # the new entry's first field
    field(limit, "Limit").fill("3")
    field(limit, "Key").fill("event.data.user_id")
    page.get_by_role("button", name="Add debounce").click()
    field(group(page, "Debounce"), "Period").fill("30s")
    page.get_by_role("button", name="Add cancel on event").click()
    field(group(page, "Cancel on event 1"), "Event").fill("app/order.cancelled")
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()

    # The API stores exactly these (the server leaves out defaults such as scope "workflow").
    stored = {
        "concurrency": [{"limit": 3, "key": "event.data.user_id"}],
        "debounce": {"period": "30s"},
        "cancel_on": [{"event": "app/order.cancelled"}],
    }
    with server.api() as api:
        assert api.get(f"/api/workflows/{workflow_id(page)}").json()["settings"] == stored

    page.reload()
    page.get_by_role("tab", name="Settings").click()
    limit = group(page, "Concurrency limit 1")
    expect(field(limit, "Limit")).to_have_value("3")
    expect(field(limit, "Key")).to_have_value("event.data.user_id")
    expect(field(limit, "Scope")).to_have_value("workflow")
    expect(field(group(page, "Debounce"), "Period")).to_have_value("30s")
    expect(field(group(page, "Cancel on event 1"), "Event")).to_have_value("app/order.cancelled")
    expect(page.get_by_role("button", name="Add throttle")).to_be_visible()  # absent sections stay closed
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)  # showing the settings changes nothing

    # A throttle, by keyboard: the section's button keeps the focus as it opens it; then its fields.
    page.get_by_role("button", name="Add throttle").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Remove throttle")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("1y")  # not a duration
    throttle = group(page, "Throttle")
    expect(field(throttle, "Limit")).to_have_value("1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved, except the settings")
    period = field(throttle, "Period")
    problem = throttle.locator('[data-field="throttle.period"] .wk-problems')  # right under the field
    expect(problem).to_contain_text("invalid duration '1y'")
    expect(period).to_have_accessible_description(re.compile("^invalid duration '1y'"))  # read out with the field
    expect(page.get_by_role("tab", name="Settings")).to_contain_text("1")  # its problem count
    period.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "settings-problem.png"))
    with server.api() as api:  # nothing was stored
        assert api.get(f"/api/workflows/{workflow_id(page)}").json()["settings"] == stored

    # Fixing the field clears its problem; saving stores the throttle too.
    period.fill("1m")
    expect(problem).to_have_count(0)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    with server.api() as api:
        settings = api.get(f"/api/workflows/{workflow_id(page)}").json()["settings"]
    assert settings == {**stored, "throttle": {"limit": 1, "period": "1m"}}

    # A stale save of the settings is a conflict like any other; keeping my changes saves them over theirs.
    with server.api() as api:
        current = api.get(f"/api/workflows/{workflow_id(page)}").json()
        changed = {"name": "Renamed elsewhere", "version": current["version"]}
        assert api.put(f"/api/workflows/{workflow_id(page)}", json=changed).status_code == 200
    field(page.get_by_role("tabpanel"), "Retries").fill("4")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this workflow")
    page.get_by_role("button", name="Keep my changes").click()
    expect(page.get_by_role("status").filter(has_text="Your changes are kept")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    with server.api() as api:
        assert api.get(f"/api/workflows/{workflow_id(page)}").json()["settings"]["retries"] == 4

    # How long its runs are kept: a duration, checked like the others, saved with the draft.
    keep = field(page.get_by_role("tabpanel"), "Keep history")
    keep.fill("5m")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved, except the settings")
    expect(page.locator('[data-field="retention"] .wk-problems')).to_contain_text("must be between 1h and 3650d")
    keep.fill("90d")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    with server.api() as api:
        assert api.get(f"/api/workflows/{workflow_id(page)}").json()["settings"]["retention"] == "90d"
    keep.scroll_into_view_if_needed()
    screenshots(page, "settings-keep-history")


def test_workspace_settings_keep_every_workflows_history_as_long_as_chosen(page: Page, server: Server) -> None:
    """From the list page: the workspace's time for its history, the default said in words, a wrong time
    refused with its reason, the choice kept after a reload."""
    tenant = server.for_tenant("workspace-settings")
    open_editor(page, tenant)
    page.get_by_role("button", name="Workspace settings").click()
    panel = page.get_by_role("region", name="Workspace settings")
    keep = panel.get_by_label("Keep run history for")
    expect(keep).to_have_attribute("placeholder", "30 days (e.g. 90d, 12h)")
    expect(panel).to_contain_text("Empty: 30 days, the default.")
    keep.fill("10m")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("alert")).to_have_text("History is kept from 1 hour to 10 years, got '10m'")
    keep.fill("90d")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_have_text("Saved: run history is kept for 90 days.")
    with tenant.api() as api:
        assert api.get("/api/tenant/settings").json()["retention"] == "90d"
    screenshots(page, "workspace-settings")

    page.reload()
    page.get_by_role("button", name="Workspace settings").click()
    expect(page.get_by_role("region", name="Workspace settings").get_by_label("Keep run history for")).to_have_value(
        "90d"
    )
