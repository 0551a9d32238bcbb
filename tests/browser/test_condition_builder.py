"""The condition builder (frontend/src/ui/ConditionBuilder.tsx) in Chromium on the blog demo's kit: an If,
a trigger filter and a connection's condition made without writing CEL, and hand-written CEL with its
error at the right place."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import (
    add_step,
    assert_plain,
    catalog_text,
    new_workflow,
    node,
    open_list,
    screenshots,
    trigger_node,
    workflow_id,
)

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def runs_of(server: Server, workflow: str, count: int, tenant: str = "demo") -> list[dict[str, Any]]:
    """The workflow's runs once `count` of them have stopped moving (completed, failed or waiting)."""
    deadline = time.monotonic() + 30
    with server.api(tenant) as api:
        while True:
            items: list[dict[str, Any]] = api.get("/api/runs", params={"workflow_id": workflow}).json()["items"]
            settled = [r for r in items if r["status"] in ("completed", "failed", "waiting")]
            if len(settled) >= count or time.monotonic() > deadline:
                return [api.get(f"/api/runs/{r['id']}").json() for r in items]
            time.sleep(0.2)


def test_if_the_title_contains_draft_wait_for_approval_else_publish(page: Page, demo_server: Server) -> None:
    with demo_server.api("demo") as api:  # an event like the product sends, for the sample
        sent = api.post(
            "/api/events", json={"name": "blog-post.updated", "data": {"id": 2, "title": "A draft", "status": "draft"}}
        )
        assert sent.status_code == 202, sent.text
    open_list(page, demo_server, "demo")
    new_workflow(page, "Drafts wait for approval", "blog-post.updated")
    page.get_by_role("button", name="Pick a recent event").click()
    page.get_by_role("list", name="Recent events").get_by_role("button").first.click()

    add_step(page, "Add a step after the trigger", "If")
    page.get_by_role("button", name="Add a condition").click()
    page.get_by_role("combobox", name="Field").select_option(label="Title")
    page.get_by_role("combobox", name="Comparison operator").select_option(label="contains")
    page.get_by_role("textbox", name="Value").fill("draft")
    expect(node(page, "If")).to_contain_text('Title contains "draft"')

    add_step(page, "Add a step on the True branch of If", "Apply changes after approval")
    page.locator('[data-field="post_id"]').get_by_role("radio", name="Data").click()
    page.get_by_role("dialog", name="Use data in Post id").get_by_role(
        "button", name="Id (number), for example 2"
    ).click()
    add_step(page, "Add a step on the False branch of If", "Send an event")
    page.get_by_role("textbox", name="Event name", exact=True).fill("blog-post.published")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    assert_plain(page, ["wait_for_approval", "send_event"], catalog_text(demo_server, "demo"))
    screenshots(page, "condition-builder-if")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch", name="Enabled").click()
    expect(page.get_by_role("switch", name="Enabled")).to_have_attribute("aria-checked", "true")

    with demo_server.api("demo") as api:
        stored = api.get(f"/api/workflows/{workflow_id(page)}").json()["draft"]
        [condition] = [a["inputs"]["condition"] for a in stored["actions"] if a["kind"] == "builtin:if"]
        assert condition == 'event.data.title.contains("draft")'
        for title in ("Another draft", "Finished"):
            api.post("/api/events", json={"name": "blog-post.updated", "data": {"id": 3, "title": title}})
    runs = runs_of(demo_server, workflow_id(page), 2)
    statuses = sorted(r["status"] for r in runs)
    assert statuses == ["completed", "waiting"], statuses
    by_title = {r["event"]["data"]["title"]: {a["id"]: a["status"] for a in r["actions"]} for r in runs}
    assert "waiting" in by_title["Another draft"].values()
    assert "completed" in by_title["Finished"].values() and "skipped" in by_title["Finished"].values()


def test_a_trigger_filter_and_hand_written_cel_with_its_error_where_it_is(page: Page, demo_server: Server) -> None:
    open_list(page, demo_server, "demo")
    page.get_by_role("button", name="When a blog post is moved to review", exact=True).click()
    trigger_node(page).click()
    builder = page.get_by_role("group", name="Only when (optional)")
    # the seed's filter (event.data.status == 'under review') reads back into the builder
    expect(builder.get_by_role("combobox", name="Field")).to_have_value("event.data.status")
    expect(builder.get_by_role("textbox", name="Value")).to_have_value("under review")
    expect(trigger_node(page)).to_contain_text('Status equals "under review"')
    screenshots(page, "condition-builder-trigger")

    builder.get_by_role("button", name="Edit as expression").click()
    expression = page.get_by_role("textbox", name="Only when (optional)")
    expression.fill("event.data.status == ")
    problem = page.locator(".wk-cond-problems, [id$='-problems']").first
    expect(problem).to_contain_text("column")
    expect(page.get_by_role("button", name="Use the builder")).to_be_disabled()
    expression.fill("event.data.status == 'published'")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    page.get_by_role("button", name="Use the builder").click()
    expect(page.get_by_role("group", name="Only when (optional)").get_by_role("textbox", name="Value")).to_have_value(
        "published"
    )


def test_a_connection_follows_when_a_value_is_what_you_choose(page: Page, demo_server: Server) -> None:
    open_list(page, demo_server, "demo")
    new_workflow(page, "Connection conditions", "blog-post.updated")
    add_step(page, "Add a step after the trigger", "Add a Table of Contents")
    add_step(page, "Add a step after Add a Table of Contents", "Apply changes")
    page.get_by_role("group", name="Connection from Add a Table of Contents to Apply changes").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Follow this connection").select_option(label="Only when…")
    page.get_by_label("Data", exact=True).select_option(label="Post id (number)")
    page.get_by_label("Comparison", exact=True).select_option(label="equals")
    page.get_by_label("Value", exact=True).fill("3")
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    with demo_server.api("demo") as api:
        stored = api.get(f"/api/workflows/{workflow_id(page)}").json()["draft"]
    [edge] = [e for e in stored["edges"] if e["from"] != "$source"]
    assert edge["conditional"] == {"type": "match", "ref": "!ref($.output.post_id)", "value": 3}
