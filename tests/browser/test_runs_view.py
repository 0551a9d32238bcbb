"""The runs and events views (frontend/src/ui/RunsPage.tsx, EventsPage.tsx): an operator cancels all of
yesterday's stuck runs of one workflow in one action and watches the count go down; an event links to the
runs it started."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import assert_plain, details, open_list, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

NAPS = {
    "actions": [{"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "2h"}}],
    "edges": [{"from": "$source", "to": "nap"}],
}
HELLO = {
    "actions": [{"id": "hello", "kind": "greet", "inputs": {"name": "Ann"}}],
    "edges": [{"from": "$source", "to": "hello"}],
}


def _create(server: Server, tenant: str, name: str, event: str, definition: dict[str, object]) -> str:
    with server.api(tenant) as api:
        body = {"name": name, "trigger": {"event": event}, "workflow": definition, "publish": True, "enabled": True}
        created = api.post("/api/workflows", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


def _runs(server: Server, tenant: str, **params: object) -> list[dict[str, object]]:
    with server.api(tenant) as api:
        items: list[dict[str, object]] = api.get("/api/runs", params={"limit": 500, **params}).json()["items"]
        return items


def _until_sleeping(server: Server, tenant: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(_runs(server, tenant, status="sleeping")) < count:
        assert time.monotonic() < deadline, "the runs did not go to sleep"
        time.sleep(0.1)


def test_an_operator_cancels_yesterdays_stuck_runs_of_one_workflow(page: Page, server: Server) -> None:
    tenant = "operator"
    naps = _create(server, tenant, "Nightly import", "app/import", NAPS)
    _create(server, tenant, "Other naps", "app/other", NAPS)
    with server.api(tenant) as api:
        api.post("/api/events", json=[{"name": "app/import", "data": {"n": n}} for n in range(12)])
        api.post("/api/events", json={"name": "app/other", "data": {}})
    _until_sleeping(server, tenant, 13)
    # Ten of the imports started yesterday (moved back in the database: a test of the view, not of time).
    noon = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    yesterday = int(noon.timestamp() * 1000)
    runs = sa.table("wk_runs", sa.column("id"), sa.column("created_at"), sa.column("started_at"))
    ids = [str(r["id"]) for r in _runs(server, tenant, workflow_id=naps)][:10]
    engine = sa.create_engine(f"sqlite:///{server.log.parent / 'browser.db'}")
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.id.in_(ids)).values(created_at=yesterday, started_at=yesterday))
    engine.dispose()

    open_list(page, server, tenant)
    page.get_by_role("navigation", name="Views").get_by_role("button", name="All runs").click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    table = page.get_by_role("table", name="Runs")
    expect(table.get_by_role("row")).to_have_count(14)  # the header and 13 runs
    page.get_by_label("Workflow", exact=True).select_option(label="Nightly import")
    page.get_by_label("Status", exact=True).select_option(label="Sleeping")
    page.get_by_label("Started", exact=True).select_option(label="Yesterday")
    expect(table.get_by_role("row")).to_have_count(11)
    expect(table).to_contain_text("Nightly import")
    expect(table).not_to_contain_text("Other naps")
    screenshots(page, "runs-view")
    assert_plain(page, ["nap"], ["Nightly import", "Other naps"])

    page.get_by_role("button", name="Select all that match").click()
    page.get_by_role("button", name="Cancel runs…").click()
    question = page.get_by_role("alertdialog", name="Cancel these runs?")
    expect(question).to_contain_text("all the runs that match the filters")
    question.get_by_role("button", name="Yes, cancel them").click()
    progress = page.get_by_role("status", name="Progress")
    expect(progress).to_contain_text("Cancelled 10 runs.", timeout=30_000)
    expect(page.get_by_text("No runs match these filters.")).to_be_visible()
    screenshots(page, "runs-view-cancelled")

    statuses = [r["status"] for r in _runs(server, tenant)]
    assert statuses.count("cancelled") == 10 and statuses.count("sleeping") == 3


def test_an_event_links_to_the_runs_it_started(page: Page, server: Server) -> None:
    tenant = "events"
    _create(server, tenant, "Say hello", "app/hello", HELLO)
    with server.api(tenant) as api:
        api.post("/api/events", json={"name": "app/hello", "data": {"who": "Ann"}})
        api.post("/api/events", json={"name": "app/nobody", "data": {}})
    open_list(page, server, tenant)
    page.get_by_role("navigation", name="Views").get_by_role("button", name="Received events").click()
    table = page.get_by_role("table", name="Events")
    expect(table.get_by_role("row").filter(has_text="app/nobody")).to_contain_text("None")
    hello = table.get_by_role("row").filter(has_text="app/hello")
    expect(hello.get_by_role("button", name="Say hello")).to_be_visible()
    hello.get_by_role("button", name="app/hello").click()
    details = page.get_by_label("Event details")
    expect(details).to_contain_text('"who": "Ann"')
    expect(details.get_by_role("button", name="Say hello")).to_be_visible()
    screenshots(page, "events-view")
    details.get_by_role("button", name="Say hello").click()
    expect(page).to_have_url(re.compile(r"#/workflows/[^/]+/runs/[^/]+$"))


def test_the_workflow_page_charts_its_runs_of_the_last_day(page: Page, server: Server) -> None:
    tenant = "charts"
    workflow_id = _create(server, tenant, "Say hello", "app/hello", HELLO)
    with server.api(tenant) as api:
        api.post("/api/events", json=[{"name": "app/hello", "data": {"n": n}} for n in range(3)])
    page.goto(f"{server.base}/#/workflows/{workflow_id}?token={server.token(tenant)}")
    details(page).get_by_role("tab", name="Runs").click()
    glance = page.get_by_role("region", name="Runs at a glance")
    expect(glance.get_by_role("status")).to_contain_text("3 runs, 0% failed.")
    expect(glance.get_by_role("img", name="Runs per hour")).to_be_visible()
    expect(glance.locator("canvas")).to_have_count(2)
    glance.get_by_role("button", name="Last 7 days").click()
    expect(glance.get_by_role("img", name="Runs per 6 hours")).to_be_visible()
    screenshots(page, "workflow-charts")
