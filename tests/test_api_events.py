"""The editor API's events view: received events paged by cursor, each with the runs it started; an event's
runs (started and resumed); from a run, its event. Through a TestClient with an in-process worker."""

from __future__ import annotations

from typing import Any

from conftest import Api
from helpers import action, assert_error, edge, workflow
from test_api_runs import create_workflow, send, wait_run

from workflow_kit import EvaluationLimits
from workflow_kit.runtime.rules.budgets import EvaluationBudget

ECHO = workflow([action("a", "echo", x="!ref($.event.data.x)")], [edge("$source", "a")])


def events_page(api: Api, **params: Any) -> dict[str, Any]:
    listed = api.client.get("/api/events", headers=api.headers(), params=params)
    assert listed.status_code == 200, listed.text
    body: dict[str, Any] = listed.json()
    return body


def test_events_page_by_cursor_and_link_to_the_runs_they_started(api: Api) -> None:
    first = create_workflow(api, ECHO, "app/echo", name="First")
    second = create_workflow(api, ECHO, "app/echo", name="Second")
    sent = [send(api, "app/echo", {"x": n}) for n in range(3)] + [send(api, "app/nothing")]
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10):
        page = events_page(api, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # every event once, newest first (with the workflow/run.* events the runs' ends send, if some ended)
    mine = [e for e in seen if not e["name"].startswith("workflow/")]
    assert [e["id"] for e in mine] == sent[::-1]
    assert len({e["id"] for e in seen}) == len(seen)
    seen = mine
    assert seen[0]["runs"] == []  # no workflow listens to app/nothing
    for event in seen[1:]:
        assert sorted(r["workflow_id"] for r in event["runs"]) == sorted([first, second])
        assert all(r["test"] is False for r in event["runs"])
    for run in seen[1]["runs"]:
        finished = wait_run(api, run["id"])
        assert finished["event"]["data"] == {"x": 2}
        # from a run, its event: the runs list filters by event
        by_event = api.client.get("/api/runs", headers=api.headers(), params={"event_id": seen[1]["id"]}).json()
        assert run["id"] in [r["id"] for r in by_event["items"]]
    bad = api.client.get("/api/events", headers=api.headers(), params={"cursor": "????"})
    assert bad.status_code == 422 and bad.json()["path"] == "cursor", bad.text


def test_an_event_lists_the_runs_it_started_and_resumed(api: Api) -> None:
    alone = send(api, "app/order")
    assert api.client.get(f"/api/events/{alone}/runs", headers=api.headers()).json() == {"started": [], "resumed": []}
    waiting = workflow(
        [action("w", "builtin:wait_for_event", event="app/approved", timeout="1h")], [edge("$source", "w")]
    )
    waits = create_workflow(api, waiting, "app/order", name="Approval")
    order = send(api, "app/order")
    links = api.client.get(f"/api/events/{order}/runs", headers=api.headers())
    assert links.status_code == 200, links.text
    [run] = links.json()["started"]
    assert run["workflow_id"] == waits and links.json()["resumed"] == []
    wait_run(api, run["id"], lambda r: r["status"] == "waiting")
    approval = send(api, "app/approved")
    assert wait_run(api, run["id"])["status"] == "completed"
    resumed = api.client.get(f"/api/events/{approval}/runs", headers=api.headers()).json()
    assert resumed["started"] == [] and [r["id"] for r in resumed["resumed"]] == [run["id"]]
    other = api.client.get(f"/api/events/{order}/runs", headers=api.headers("globex", "bob"))
    assert other.status_code == 404
    missing = api.client.get("/api/events/no-such-event/runs", headers=api.headers())
    assert missing.status_code == 404


def test_the_kits_own_run_updates_are_left_out_or_listed_alone_on_request(api: Api) -> None:
    create_workflow(api, ECHO, "app/echo", name="Echo")
    sent = send(api, "app/echo", {"x": 1})
    [run] = events_page(api, name="app/echo")["items"][0]["runs"]
    assert wait_run(api, run["id"])["status"] == "completed"
    updates = events_page(api, system="true")["items"]  # received with the run's end, in its transaction
    assert [e["name"] for e in updates] == ["workflow/run.completed"]
    assert [e["id"] for e in events_page(api, system="false")["items"]] == [sent]
    assert {e["name"] for e in events_page(api)["items"]} == {"app/echo", "workflow/run.completed"}
    bad = api.client.get("/api/events", headers=api.headers(), params={"system": "maybe"})
    assert bad.status_code in (400, 422) and "system" in bad.text, bad.text


def test_events_over_the_tenants_evaluation_budget_are_refused_with_429(api: Api) -> None:
    """Checking the events against the tenant's workflow conditions has a budget: past it, 429 with
    Retry-After and a plain message; nothing was received, and other tenants are not affected."""
    costly = {"event": "app/costly", "if": "event.data.xs.all(x, event.data.xs.all(y, x + y >= 0))"}
    api.kit.workflows.create_sync("acme", name="Costly", trigger=costly, workflow=ECHO)
    create_workflow(api, ECHO, "app/echo", tenant="globex")
    kept = api.kit.evaluation_budget
    api.kit.evaluation_budget = EvaluationBudget(EvaluationLimits(per_request=0.01, per_second=0.01, burst=0.01))
    try:
        events = [{"name": "app/costly", "data": {"xs": list(range(60))}}] * 5
        refused = api.client.post("/api/events", headers=api.headers("acme"), json=events)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        body = assert_error(refused, 429, "over_budget")
        assert "send fewer events at once" in body["message"]
        assert events_page(api)["items"] == []
        again = api.client.post("/api/events", headers=api.headers("acme"), json=events[0])
        assert again.status_code == 429 and "again in" in again.json()["message"], again.text  # in debt
        other = api.client.post("/api/events", headers=api.headers("globex"), json={"name": "app/echo"})
        assert other.status_code == 202, other.text
    finally:
        api.kit.evaluation_budget = kept
