"""The runs and events views (frontend/src/ui/RunsPage.tsx, EventsPage.tsx): an operator cancels all of
yesterday's stuck runs of one workflow in one action and watches the count go down, and does the same with
yesterday's failed runs, which become cancelled and keep their error; an event links to the runs it started."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from .conftest import Server
from .ui import assert_plain, details, open_list, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

NAPS = {
    "actions": [{"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "2h"}}],
    "edges": [{"from": "$source", "to": "nap"}],
}
EXPORT = {  # fails: the events it gets have no "who" to greet
    "actions": [{"id": "hello", "kind": "greet", "inputs": {"name": "!ref($.event.data.who)"}}],
    "edges": [{"from": "$source", "to": "hello"}],
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


def _until(server: Server, tenant: str, status: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(_runs(server, tenant, status=status)) < count:
        assert time.monotonic() < deadline, f"the runs did not become {status}"
        time.sleep(0.1)


def _seed(server: Server, tenant: str, names: tuple[str, str], definition: dict[str, object], status: str) -> list[str]:
    """Two workflows of `definition`: 12 runs of the first and 1 of the other, once they are all `status`;
    ten of the first's moved back to yesterday noon in the database (a test of the view, not of time).
    Their ids."""
    first = _create(server, tenant, names[0], "app/first", definition)
    _create(server, tenant, names[1], "app/other", definition)
    with server.api(tenant) as api:
        api.post("/api/events", json=[{"name": "app/first", "data": {"n": n}} for n in range(12)])
        api.post("/api/events", json={"name": "app/other", "data": {}})
    _until(server, tenant, status, 13)
    ids = [str(r["id"]) for r in _runs(server, tenant, workflow_id=first)][:10]
    noon = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    yesterday = int(noon.timestamp() * 1000)
    runs = sa.table("wk_runs", sa.column("id"), sa.column("created_at"), sa.column("started_at"), sa.column("ended_at"))
    ended = {"ended_at": yesterday + 1_200} if status == "failed" else {}
    engine = sa.create_engine(f"sqlite:///{server.log.parent / 'browser.db'}")
    with engine.begin() as conn:
        conn.execute(
            runs.update().where(runs.c.id.in_(ids)).values(created_at=yesterday, started_at=yesterday, **ended)
        )
    engine.dispose()
    return ids


def _yesterdays_runs(page: Page, server: Server, tenant: str, workflow: str, status: str) -> Locator:
    """The Runs view filtered on `workflow`, `status` and Yesterday (ten runs of the 13 `_seed` made)."""
    open_list(page, server, tenant)
    page.get_by_role("navigation", name="Views").get_by_role("button", name="All runs").click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    table = page.get_by_role("table", name="Runs")
    expect(table.get_by_role("row")).to_have_count(14)  # the header and 13 runs
    page.get_by_label("Workflow", exact=True).select_option(label=workflow)
    page.get_by_label("Status", exact=True).select_option(label=status)
    page.get_by_label("Started", exact=True).select_option(label="Yesterday")
    expect(table.get_by_role("row")).to_have_count(11)
    return table


def _cancel_all_that_match(page: Page) -> Locator:
    """ "Select all that match", "Cancel runs…": the question asked."""
    page.get_by_role("button", name="Select all that match").click()
    page.get_by_role("button", name="Cancel runs…").click()
    return page.get_by_role("alertdialog", name="Cancel these runs?")


def _yes_all_ten(page: Page, question: Locator) -> None:
    """Say yes and watch the ten go: the progress ends, and no run matches the filters any more."""
    question.get_by_role("button", name="Yes, cancel them").click()
    expect(page.get_by_role("status", name="Progress")).to_contain_text("Cancelled 10 runs.", timeout=30_000)
    expect(page.get_by_text("No runs match these filters.")).to_be_visible()


def test_an_operator_cancels_yesterdays_stuck_runs_of_one_workflow(page: Page, server: Server) -> None:
    tenant = "operator"
    _seed(server, tenant, ("Nightly import", "Other naps"), NAPS, "sleeping")

    table = _yesterdays_runs(page, server, tenant, "Nightly import", "Sleeping")
    expect(table).to_contain_text("Nightly import")
    expect(table).not_to_contain_text("Other naps")
    screenshots(page, "runs-view")
    assert_plain(page, ["nap"], ["Nightly import", "Other naps"])

    question = _cancel_all_that_match(page)
    expect(question).to_contain_text("all the runs that match the filters")
    _yes_all_ten(page, question)
    screenshots(page, "runs-view-cancelled")

    statuses = [r["status"] for r in _runs(server, tenant)]
    assert statuses.count("cancelled") == 10 and statuses.count("sleeping") == 3


def test_an_operator_cancels_yesterdays_failed_runs_of_one_workflow(page: Page, server: Server) -> None:
    """After an outage an operator gives up on yesterday's failures of one workflow: filtered on it, on
    Failed and on Yesterday, all that match are cancelled in one action; the list of failed runs empties,
    the runs show as Cancelled, and each still says where it failed and why."""
    tenant = "dismisser"
    yesterdays = _seed(server, tenant, ("Nightly export", "Other export"), EXPORT, "failed")

    table = _yesterdays_runs(page, server, tenant, "Nightly export", "Failed")
    question = _cancel_all_that_match(page)
    expect(question).to_contain_text("Failed runs are marked cancelled and keep their error")
    screenshots(page, "runs-view-cancel-failed")
    _yes_all_ten(page, question)  # the list, still filtered on Failed, empties
    screenshots(page, "runs-view-failed-cancelled")

    page.get_by_label("Status", exact=True).select_option(label="Cancelled")
    expect(table.get_by_role("row")).to_have_count(11)
    expect(table.locator(".wk-status-pill")).to_have_text(["Cancelled"] * 10)
    table.get_by_role("button", name="Nightly export").first.click()
    summary = page.get_by_role("region", name="Run summary")
    expect(summary.get_by_test_id("run-sentence")).to_have_text(
        re.compile(r"^Failed at “.+” after .+, then cancelled$")
    )
    expect(summary.get_by_role("button", name="Rerun from the failed step")).to_be_visible()
    expect(page.get_by_label("Run details")).to_contain_text("not valid")  # the failed step, with its error
    screenshots(page, "run-view-failed-then-cancelled")
    assert_plain(page, ["hello"], ["Nightly export"])

    by_id = {str(r["id"]): r for r in _runs(server, tenant)}
    assert {str(by_id[i]["status"]) for i in yesterdays} == {"cancelled"}
    assert sorted(str(r["status"]) for i, r in by_id.items() if i not in yesterdays) == ["failed"] * 3


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
