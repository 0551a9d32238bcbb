"""The list of workflows as a home (frontend/src/ui/WorkflowList.tsx): each workflow's status, last run and
failures of the last day; duplicate, disable and delete (after a confirmation)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import open_list, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

FAILS = {
    "actions": [{"id": "boom", "kind": "greet", "inputs": {"name": "!ref($.event.data.missing)"}}],
    "edges": [{"from": "$source", "to": "boom"}],
}
WORKS = {
    "actions": [{"id": "hello", "kind": "greet", "inputs": {"name": "Ann"}}],
    "edges": [{"from": "$source", "to": "hello"}],
}


def settle(server: Server, workflow_id: str, count: int) -> None:
    deadline = time.monotonic() + 30
    with server.api("home") as api:
        while time.monotonic() < deadline:
            runs = api.get("/api/runs", params={"workflow_id": workflow_id}).json()["items"]
            if len([r for r in runs if r["status"] in ("completed", "failed")]) >= count:
                return
            time.sleep(0.2)
    raise AssertionError(f"{count} runs of {workflow_id} did not end")


def test_the_list_shows_how_each_workflow_is_doing_and_manages_them(page: Page, server: Server) -> None:
    with server.api("home") as api:
        failing = api.post(
            "/api/workflows",
            json={
                "name": "Fails",
                "trigger": {"event": "app/fail"},
                "workflow": FAILS,
                "publish": True,
                "enabled": True,
            },
        ).json()
        working = api.post(
            "/api/workflows",
            json={
                "name": "Works",
                "trigger": {"event": "app/work"},
                "workflow": WORKS,
                "publish": True,
                "enabled": True,
            },
        ).json()
        api.post(
            "/api/workflows",
            json={"name": "Drafty", "trigger": {"event": "app/x"}, "workflow": {"actions": [], "edges": []}},
        )
        for _ in range(2):
            api.post("/api/events", json={"name": "app/fail", "data": {}})
        api.post("/api/events", json={"name": "app/work", "data": {}})
    settle(server, failing["id"], 2)
    settle(server, working["id"], 1)

    open_list(page, server, "home")
    rows = page.get_by_role("table", name="Workflows").get_by_role("row")
    fails = rows.filter(has_text="Fails")
    expect(fails).to_contain_text("Enabled · v1")
    expect(fails).to_contain_text("failed")
    expect(fails.get_by_role("cell").nth(3)).to_have_text("2")
    works = rows.filter(has_text="Works")
    expect(works).to_contain_text("completed")
    expect(works.get_by_role("cell").nth(3)).to_have_text("0")
    drafty = rows.filter(has_text="Drafty")
    expect(drafty).to_contain_text("Disabled · not published yet")
    expect(drafty).to_contain_text("No runs yet")
    screenshots(page, "workflow-list")

    # duplicate: a disabled copy with the same steps
    works.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_role("status")).to_contain_text("Duplicated as “Works (copy)”")
    copy = rows.filter(has_text="Works (copy)")
    expect(copy).to_contain_text("Disabled · not published yet")

    # disable, then enable again
    works = rows.filter(has_text="Works").filter(has_not_text="(copy)")
    works.get_by_role("button", name="Disable").click()
    expect(works).to_contain_text("Disabled · v1")
    works.get_by_role("button", name="Enable").click()
    expect(works).to_contain_text("Enabled · v1")

    # delete asks first
    copy.get_by_role("button", name="Delete").click()
    copy.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()
    expect(copy).to_have_count(1)
    copy.get_by_role("button", name="Delete").click()
    copy.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(rows.filter(has_text="Works (copy)")).to_have_count(0)
    with server.api("home") as api:
        names = sorted(w["name"] for w in api.get("/api/workflows").json()["items"])
    assert names == ["Drafty", "Fails", "Works"]
