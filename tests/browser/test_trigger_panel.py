"""The trigger panel (frontend/src/ui/TriggerPanel.tsx) in Chromium, through the UI only, against a real
server: a workflow with several triggers, added, edited and removed in plain words, each of which starts
a run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import add_step, assert_plain, new_workflow, open_list, screenshots, trigger_node, workflow_id
from .ui import ended_runs as runs_of

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def test_a_second_trigger_added_in_the_panel_starts_runs_too(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Orders and refunds", "shop/order.created")
    add_step(page, "Add a step after the trigger", "Log a message")

    # The trigger's panel: one trigger, shown as before; add an event and a schedule beside it.
    trigger_node(page).click()
    panel = page.get_by_label("Trigger settings")
    expect(panel.get_by_role("heading", name="Trigger", exact=True)).to_be_visible()
    panel.get_by_role("button", name="+ Add an event").click()
    second = panel.get_by_role("group", name="Trigger 2", exact=True)
    second.get_by_role("textbox", name="Event name", exact=True).fill("shop/refund.issued")
    panel.get_by_role("button", name="+ Add a schedule").click()
    third = panel.get_by_role("group", name="Trigger 3", exact=True)
    expect(third).to_contain_text("Every day at 09:00 (UTC)")
    expect(panel.get_by_role("heading", name="Triggers", exact=True)).to_be_visible()

    # The trigger node says all of them, in words.
    node = page.get_by_role("group", name=re.compile(r"^Triggers: "))
    said = "when shop/order.created, or when shop/refund.issued, or every day at 09:00 (UTC)"
    expect(node).to_have_accessible_name(f"Triggers: {said}")
    expect(node.locator(".wk-node-title")).to_have_text("When shop/order.created")
    expect(node.locator(".wk-node-kind")).to_have_text("or when shop/refund.issued, or every day at 09:00 (UTC)")
    screenshots(page, "trigger-panel-three")

    # A schedule is not wanted after all: removed, the node says the two events.
    third.get_by_role("button", name="Remove trigger 3").click()
    expect(panel.get_by_role("group", name="Trigger 3", exact=True)).to_have_count(0)
    expect(node).to_have_accessible_name("Triggers: when shop/order.created, or when shop/refund.issued")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    assert_plain(page, ["log"])

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch").click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    workflow = workflow_id(page)
    with server.api() as api:
        record = api.get(f"/api/workflows/{workflow}").json()
        assert record["triggers"] == [{"event": "shop/order.created"}, {"event": "shop/refund.issued"}]
        # Both triggers fire: one event of each.
        assert api.post("/api/events", json={"name": "shop/order.created", "data": {"id": 1}}).status_code == 202
        assert api.post("/api/events", json={"name": "shop/refund.issued", "data": {"id": 2}}).status_code == 202
    runs = runs_of(server, workflow, 2)
    assert sorted((r["event"]["name"], r["trigger"]["index"], r["status"]) for r in runs) == [
        ("shop/order.created", 0, "completed"),
        ("shop/refund.issued", 1, "completed"),
    ]
    page.get_by_role("tab", name="Runs").click()
    expect(
        page.get_by_role("list", name="Runs of this workflow").get_by_role("button", name=re.compile(", completed$"))
    ).to_have_count(2, timeout=20_000)

    # Reloaded, the panel shows the two triggers as saved.
    page.reload()
    node.click()
    expect(page.get_by_label("Trigger settings").get_by_role("group", name="Trigger 2", exact=True)).to_be_visible()
    expect(
        page.get_by_label("Trigger settings")
        .get_by_role("group", name="Trigger 2", exact=True)
        .get_by_role("textbox", name="Event name", exact=True)
    ).to_have_value("shop/refund.issued")
