"""The editor API's runs: list (filters, paging), get (the timeline), cancel, rerun, and the live stream
(server-sent events). Through a TestClient with an in-process worker and a real clock."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from conftest import Api
from helpers import action, edge, workflow

from workflow_kit.timeutil import VirtualClock

TERMINAL = ("completed", "failed", "cancelled")


# -- helpers -------------------------------------------------------------------------------------


def create_workflow(
    api: Api, definition: dict[str, Any], trigger: str, *, name: str = "W", tenant: str = "acme"
) -> str:
    """Create, publish and enable a workflow; its id."""
    created = api.client.post(
        "/api/workflows",
        headers=api.headers(tenant),
        json={
            "name": name,
            "trigger": {"event": trigger},
            "workflow": definition,
            "publish": True,
            "enabled": True,
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["published_version"] == 1 and body["enabled"] is True, body
    return str(body["id"])


def send(api: Api, name: str, data: dict[str, Any] | None = None, *, tenant: str = "acme") -> str:
    """Send one event; its id."""
    sent = api.client.post("/api/events", headers=api.headers(tenant), json={"name": name, "data": data or {}})
    assert sent.status_code == 202, sent.text
    [event_id] = sent.json()["ids"]
    return str(event_id)


def run_of(api: Api, event_id: str, *, tenant: str = "acme") -> str:
    """The id of the one run an event started."""
    listed = api.client.get("/api/runs", headers=api.headers(tenant), params={"event_id": event_id})
    assert listed.status_code == 200, listed.text
    [run] = listed.json()["items"]
    return str(run["id"])


def get_run(api: Api, run_id: str, *, tenant: str = "acme") -> dict[str, Any]:
    got = api.client.get(f"/api/runs/{run_id}", headers=api.headers(tenant))
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def wait_run(
    api: Api,
    run_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda run: run["status"] in TERMINAL,
    *,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Poll the run until `until` holds (by default: until it has ended)."""
    deadline = time.monotonic() + timeout
    run = get_run(api, run_id)
    while not until(run):
        assert time.monotonic() < deadline, f"run {run_id} stayed {run['status']}: {run}"
        time.sleep(0.03)
        run = get_run(api, run_id)
    return run


def start(api: Api, trigger: str, data: dict[str, Any] | None = None) -> str:
    """Send an event that starts exactly one run; the run's id."""
    return run_of(api, send(api, trigger, data))


def list_runs(api: Api, **params: Any) -> list[dict[str, Any]]:
    listed = api.client.get("/api/runs", headers=api.headers(), params=params)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def action_status(record: dict[str, Any]) -> str:
    # ActionRecord omits defaults: the OpenAPI schema gives "pending" as the status's default
    return str(record.get("status", "pending"))


def read_events(lines: list[str]) -> list[dict[str, str]]:
    """Parse server-sent events: each is a dict of its fields (``event``, ``data``, ``id``)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if line == "":
            if current:
                events.append(current)
            current = {}
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive)
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        current[field] = current[field] + "\n" + value if field in current else value
    if current:
        events.append(current)
    return events


def stream(api: Api, url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0) -> Any:
    """GET a stream, collecting its lines until it ends (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    with api.client.stream("GET", url, headers=headers or {}) as response:
        status, content_type = response.status_code, response.headers.get("content-type", "")
        for line in response.iter_lines():
            lines.append(line)
            assert time.monotonic() < deadline, f"the stream did not end in {timeout} s: {lines}"
    return status, content_type, lines


ECHO = workflow([action("a", "echo", x="!ref($.event.data.x)")], [edge("$source", "a")])
BROKEN = workflow([action("a", "fail", message="broken !ref($.event.data.x)")], [edge("$source", "a")])


# -- list ------------------------------------------------------------------------------------------


def test_list_runs_newest_first_with_filters_and_paging(api: Api) -> None:
    echo_id = create_workflow(api, ECHO, "app/echo", name="Echo")
    broken_id = create_workflow(api, BROKEN, "app/broken", name="Broken")
    event_ids = []
    for name, x in [("app/echo", 0), ("app/broken", 1), ("app/echo", 2), ("app/echo", 3)]:
        event_ids.append(send(api, name, {"x": x}))
        time.sleep(0.01)  # distinct creation times
    run_ids = [run_of(api, e) for e in event_ids]
    for run_id in run_ids:
        wait_run(api, run_id)

    everything = list_runs(api)
    assert [r["id"] for r in everything] == run_ids[::-1]  # newest first
    created = [r["created_at"] for r in everything]
    assert created == sorted(created, reverse=True) and len(set(created)) == 4
    assert [r["event"]["data"]["x"] for r in everything] == [3, 2, 1, 0]
    assert [r["status"] for r in everything] == ["completed", "completed", "failed", "completed"]
    assert {r["tenant"] for r in everything} == {"acme"}

    # by workflow, status, event
    assert [r["id"] for r in list_runs(api, workflow_id=echo_id)] == [run_ids[3], run_ids[2], run_ids[0]]
    assert [r["id"] for r in list_runs(api, workflow_id=broken_id)] == [run_ids[1]]
    assert list_runs(api, workflow_id="no-such-workflow") == []
    assert [r["id"] for r in list_runs(api, status="failed")] == [run_ids[1]]
    assert [r["id"] for r in list_runs(api, status="completed")] == [run_ids[3], run_ids[2], run_ids[0]]
    assert list_runs(api, status="cancelled") == []
    assert list_runs(api, status="completed", workflow_id=broken_id) == []
    assert [r["id"] for r in list_runs(api, event_id=event_ids[2])] == [run_ids[2]]
    assert list_runs(api, event_id="no-such-event") == []

    # creation time: since is inclusive, until exclusive
    c0, c1, c2, c3 = created[::-1]
    assert [r["id"] for r in list_runs(api, since=c1)] == [run_ids[3], run_ids[2], run_ids[1]]
    assert [r["id"] for r in list_runs(api, until=c2)] == [run_ids[1], run_ids[0]]
    assert [r["id"] for r in list_runs(api, since=c1, until=c3)] == [run_ids[2], run_ids[1]]
    assert list_runs(api, since=c3 + 1) == []
    assert list_runs(api, until=c0) == []
    assert [r["id"] for r in list_runs(api, since=c0, workflow_id=echo_id, status="completed", until=c3)] == [
        run_ids[2],
        run_ids[0],
    ]

    # paging
    page = api.client.get("/api/runs", headers=api.headers(), params={"limit": 3}).json()
    assert (page["limit"], page["offset"]) == (3, 0)
    assert [r["id"] for r in page["items"]] == [run_ids[3], run_ids[2], run_ids[1]]
    page = api.client.get("/api/runs", headers=api.headers(), params={"limit": 3, "offset": 3}).json()
    assert (page["limit"], page["offset"]) == (3, 3)
    assert [r["id"] for r in page["items"]] == [run_ids[0]]
    assert [r["id"] for r in list_runs(api, limit=2, offset=1)] == [run_ids[2], run_ids[1]]
    assert list_runs(api, offset=4) == []

    # another tenant sees none of them
    other = api.client.get("/api/runs", headers=api.headers("globex", "bob"))
    assert other.status_code == 200 and other.json()["items"] == []


def test_list_runs_rejects_bad_parameters(api: Api) -> None:
    bad_status = api.client.get("/api/runs", headers=api.headers(), params={"status": "exploded"})
    assert bad_status.status_code == 400, bad_status.text
    body = bad_status.json()
    assert body["code"] == "bad_request"
    assert "exploded" in body["message"]
    for params in [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"since": -1}, {"until": "soon"}, {"limit": "x"}]:
        response = api.client.get("/api/runs", headers=api.headers(), params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] == "bad_request"
    for status in ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"]:
        assert api.client.get("/api/runs", headers=api.headers(), params={"status": status}).status_code == 200
    assert api.client.get("/api/runs").status_code == 401


def test_a_bad_query_parameter_error_names_the_parameter(api: Api) -> None:
    """The error's `path` names the query parameter as ``query.<name>`` (like ``body`` paths name fields)."""
    for params, path in [({"status": "exploded"}, "query.status"), ({"limit": 0}, "query.limit")]:
        response = api.client.get("/api/runs", headers=api.headers(), params=params)
        assert response.status_code == 400
        assert response.json()["path"] == path, response.json()


# -- get: the timeline -------------------------------------------------------------------------------


def test_get_run_returns_the_timeline_in_workflow_order(api: Api) -> None:
    definition = workflow(
        # listed out of execution order on purpose: the timeline follows the workflow's list
        [
            action("nap", "nap", ms=30),
            action("first", "echo", x="!ref($.event.data.x)"),
            action("boom", "fail", message="boom at !ref($.event.data.x)"),
            action("never", "echo", y=1),
        ],
        [edge("$source", "first"), edge("first", "nap"), edge("nap", "boom"), edge("boom", "never")],
    )
    workflow_id = create_workflow(api, definition, "app/timeline")
    before = int(time.time() * 1000)
    run_id = start(api, "app/timeline", {"x": 7})
    run = wait_run(api, run_id)

    assert run["id"] == run_id
    assert run["workflow_id"] == workflow_id and run["version"] == 1 and run["tenant"] == "acme"
    assert run["status"] == "failed"
    assert run["event"]["name"] == "app/timeline" and run["event"]["data"] == {"x": 7}
    assert run["output"] is None
    assert run["error"]["name"] == "NonRetriableError"
    assert run["error"]["message"] == "boom at 7"
    assert run["error"]["action"] == "boom"
    assert before - 1000 <= run["created_at"] <= run["started_at"] <= run["ended_at"]
    assert run.get("rerun_of") is None

    assert [a["id"] for a in run["actions"]] == ["nap", "first", "boom", "never"]
    nap, first, boom, never = run["actions"]

    assert action_status(first) == "completed"
    assert first["inputs"] == {"x": 7}
    assert first["output"] == {"x": 7}
    assert first.get("error") is None
    [attempt] = first["attempts"]
    assert run["started_at"] <= attempt["started_at"] <= attempt["ended_at"] <= run["ended_at"]
    assert attempt.get("error") is None
    assert first["started_at"] <= first["ended_at"]

    assert action_status(nap) == "completed"
    assert nap["inputs"] == {"ms": 30} and nap["output"] == "rested"
    [step] = nap["steps"]
    assert (step["key"], step["kind"], step["status"]) == ("nap", "sleep", "completed")
    assert nap["attempts"] and all(a["started_at"] <= a["ended_at"] for a in nap["attempts"])
    assert nap["ended_at"] - nap["started_at"] >= 30  # it slept 30 ms
    assert first["ended_at"] <= nap["started_at"]

    assert action_status(boom) == "failed"
    assert boom["inputs"] == {"message": "boom at 7"}
    assert boom["error"]["name"] == "NonRetriableError" and boom["error"]["message"] == "boom at 7"
    assert boom.get("output") is None
    [failed] = boom["attempts"]  # not retried: a NonRetriableError
    assert failed["error"]["message"] == "boom at 7"
    assert failed["started_at"] <= failed["ended_at"]
    assert nap["ended_at"] <= boom["started_at"]

    assert action_status(never) == "pending"
    assert never.get("inputs") is None and never.get("attempts", []) == [] and never.get("steps", []) == []


def test_the_editor_sees_errors_without_their_tracebacks(api: Api) -> None:
    """End users see what failed and why; the server's files and code stay with the developers
    (`kit.runs.get`), out of the run, its cancel answer and its stream."""
    create_workflow(api, BROKEN, "app/broken")
    run_id = start(api, "app/broken", {"x": 1})
    run = wait_run(api, run_id)
    assert run["status"] == "failed"
    [failed] = run["actions"]
    assert failed["error"]["message"] == "broken 1" and "stack" not in failed["error"]
    assert all("stack" not in attempt.get("error", {}) for attempt in failed["attempts"])
    developers = api.kit.runs.get_sync("acme", run_id)
    stack = developers.actions[0].error.stack  # type: ignore[union-attr]
    assert stack is not None and "Traceback" in stack and ".py" in stack
    for text in (
        api.client.get(f"/api/runs/{run_id}", headers=api.headers()).text,
        api.client.post(f"/api/runs/{run_id}/cancel", headers=api.headers()).text,
        "".join(stream(api, f"/api/runs/{run_id}/stream", headers=api.headers())[2]),
    ):
        assert "Traceback" not in text and 'File "' not in text and ".py" not in text, text


def test_get_run_unknown_or_of_another_tenant_is_404(api: Api) -> None:
    create_workflow(api, ECHO, "app/echo")
    run_id = start(api, "app/echo", {"x": 1})
    wait_run(api, run_id)
    for url, headers in [
        ("/api/runs/no-such-run", api.headers()),
        (f"/api/runs/{run_id}", api.headers("globex", "bob")),
    ]:
        response = api.client.get(url, headers=headers)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    assert api.client.get(f"/api/runs/{run_id}").status_code == 401


# -- cancel ----------------------------------------------------------------------------------------


def test_cancel_a_sleeping_run(clocked_api: Api, clock: VirtualClock) -> None:
    api = clocked_api
    definition = workflow(
        [action("sleep", "nap", ms=600_000), action("after", "echo", y=1)],
        [edge("$source", "sleep"), edge("sleep", "after")],
    )
    create_workflow(api, definition, "app/sleepy")
    run_id = start(api, "app/sleepy")
    sleeping = wait_run(api, run_id, lambda run: run["status"] == "sleeping")
    assert action_status(sleeping["actions"][0]) == "sleeping"
    assert sleeping.get("ended_at") is None

    cancelled = api.client.post(f"/api/runs/{run_id}/cancel", headers=api.headers())
    assert cancelled.status_code == 200, cancelled.text
    run = cancelled.json()
    assert run["id"] == run_id
    assert run["status"] == "cancelled"
    assert run["error"]["name"] == "Cancelled"
    assert run["ended_at"] is not None and run["ended_at"] >= run["created_at"]
    assert run["ended_at"] - run["created_at"] < 600_000
    assert [a["id"] for a in run["actions"]] == ["sleep", "after"]
    assert action_status(run["actions"][1]) == "pending"  # nothing ran after the cancel

    clock.advance(timedelta(minutes=11))  # past the end of the nap: nothing resumes the run
    api.idle()
    again = get_run(api, run_id)
    assert again["status"] == "cancelled" and again["ended_at"] == run["ended_at"]
    assert action_status(again["actions"][1]) == "pending"

    # cancelling it again changes nothing
    twice = api.client.post(f"/api/runs/{run_id}/cancel", headers=api.headers())
    assert twice.status_code == 200 and twice.json() == again

    [listed] = list_runs(api, status="cancelled")
    assert listed["id"] == run_id


def test_the_timeline_says_until_when_a_step_sleeps_and_which_event_it_waits_for(
    clocked_api: Api, clock: VirtualClock
) -> None:
    """What the run view's waterfall writes ("sleeping until 14:05", "waiting for app/approved until
    tomorrow 09:00") is in the run: a sleeping step's wake time, a waiting step's event and deadline."""
    api = clocked_api
    definition = workflow(
        [
            action("nap", "builtin:sleep", duration="10m"),
            action("approval", "builtin:wait_for_event", event="app/approved", timeout="1h"),
        ],
        [edge("$source", "nap"), edge("nap", "approval")],
    )
    create_workflow(api, definition, "app/review")
    run_id = start(api, "app/review")
    sleeping = wait_run(api, run_id, lambda run: run["status"] == "sleeping")
    nap = sleeping["actions"][0]
    [sleep] = nap["steps"]
    assert (sleep["kind"], sleep["status"]) == ("sleep", "sleeping")
    assert sleep["wake_at"] == nap["started_at"] + 600_000

    clock.advance(timedelta(minutes=11))
    api.idle()
    waiting = wait_run(api, run_id, lambda run: run["status"] == "waiting")
    [wait] = waiting["actions"][1]["steps"]
    assert (wait["kind"], wait["status"], wait["wait"]["event"]) == ("wait_for_event", "waiting", "app/approved")
    assert wait["wake_at"] == wait["wait"]["registered_at"] + 3_600_000
    assert waiting["actions"][0]["steps"][0]["status"] == "completed"


def test_cancel_an_ended_run_returns_it_unchanged(api: Api) -> None:
    create_workflow(api, ECHO, "app/echo")
    run_id = start(api, "app/echo", {"x": "done"})
    completed = wait_run(api, run_id)
    assert completed["status"] == "completed"
    response = api.client.post(f"/api/runs/{run_id}/cancel", headers=api.headers())
    assert response.status_code == 200, response.text
    assert response.json() == completed
    assert get_run(api, run_id) == completed
    assert response.json()["output"] == {"a": {"x": "done"}}


def test_cancel_a_failed_run_dismisses_it_one_run_or_in_bulk(api: Api) -> None:
    """Cancelling a failed run (alone or in bulk, with `failed` named) dismisses it: cancelled, no longer
    counted as failed, with its failure kept as the error's cause, its steps as they were; it can be rerun."""
    broken_id = create_workflow(api, BROKEN, "app/broken", name="Broken")
    first, second = (wait_run(api, start(api, "app/broken", {"x": x})) for x in (1, 2))
    assert first["status"] == "failed"
    cancelled = api.client.post(f"/api/runs/{first['id']}/cancel", headers=api.headers())
    assert cancelled.status_code == 200, cancelled.text
    run = cancelled.json()
    assert run["status"] == "cancelled" and run["ended_at"] == first["ended_at"]
    assert run["error"] == {
        "name": "Cancelled",
        "message": f"the run was cancelled after it failed: {first['error']['message']}",
        "cause": first["error"],
    }
    assert run["actions"] == first["actions"]  # the failed step still says what went wrong
    twice = api.client.post(f"/api/runs/{first['id']}/cancel", headers=api.headers())
    assert twice.json() == run  # cancelled already: unchanged
    stats = api.client.get(f"/api/workflows/{broken_id}/stats", headers=api.headers()).json()
    assert (stats["runs"], stats["failed"]) == (2, 1)

    plain = api.client.post("/api/runs/bulk-cancel", headers=api.headers(), json={"workflow_id": broken_id})
    assert plain.json()["matched"] == 0  # without a status, only runs that have not ended
    accepted = api.client.post(
        "/api/runs/bulk-cancel", headers=api.headers(), json={"workflow_id": broken_id, "status": ["failed"]}
    )
    assert accepted.status_code == 202 and accepted.json()["matched"] == 1, accepted.text
    done = operation_of(api, accepted.json()["id"])
    assert (done["matched"], done["done"], done["failed"]) == (1, 1, 0)
    assert list_runs(api, workflow_id=broken_id, status="failed") == []
    assert {r["id"] for r in list_runs(api, workflow_id=broken_id, status="cancelled")} == {first["id"], second["id"]}
    assert get_run(api, second["id"])["error"]["cause"] == second["error"]
    stats = api.client.get(f"/api/workflows/{broken_id}/stats", headers=api.headers()).json()
    assert (stats["runs"], stats["failed"], stats["failure_rate"]) == (2, 0, 0.0)
    rerun = api.client.post(f"/api/runs/{first['id']}/rerun", headers=api.headers(), json={"from_failed_step": True})
    assert rerun.status_code == 201, rerun.text


def test_cancel_unknown_or_without_scope(api: Api) -> None:
    missing = api.client.post("/api/runs/no-such-run/cancel", headers=api.headers())
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"

    create_workflow(api, workflow([action("s", "nap", ms=600_000)], [edge("$source", "s")]), "app/sleepy")
    run_id = start(api, "app/sleepy")
    wait_run(api, run_id, lambda run: run["status"] == "sleeping")
    other_tenant = api.client.post(f"/api/runs/{run_id}/cancel", headers=api.headers("globex", "bob"))
    assert other_tenant.status_code == 404
    read_only = api.headers(scopes=["runs:read"])
    refused = api.client.post(f"/api/runs/{run_id}/cancel", headers=read_only)
    assert refused.status_code in (401, 403), refused.text
    assert get_run(api, run_id)["status"] == "sleeping"  # neither cancelled it
    assert api.client.post(f"/api/runs/{run_id}/cancel", headers=api.headers()).json()["status"] == "cancelled"


# -- rerun -----------------------------------------------------------------------------------------


def test_rerun_a_failed_run_from_the_failed_step(api: Api) -> None:
    definition = workflow(
        [action("a", "echo", x="!ref($.event.data.x)"), action("b", "fail", message="still broken")],
        [edge("$source", "a"), edge("a", "b")],
    )
    create_workflow(api, definition, "app/flaky")
    original_id = start(api, "app/flaky", {"x": 3})
    original = wait_run(api, original_id)
    assert original["status"] == "failed"

    rerun = api.client.post(f"/api/runs/{original_id}/rerun", headers=api.headers(), json={"from_failed_step": True})
    assert rerun.status_code == 201, rerun.text
    new_id = rerun.json()["run_id"]
    assert new_id != original_id
    new = wait_run(api, new_id)
    assert new["rerun_of"] == original_id
    assert new["version"] == original["version"] and new["version_id"] == original["version_id"]
    assert new["event"] == original["event"]
    assert new["status"] == "failed" and new["error"]["action"] == "b"
    a_before, b_before = original["actions"]
    a_after, b_after = new["actions"]
    assert a_after == a_before  # kept as it was, not run again
    assert b_after["attempts"] != b_before["attempts"]  # the failed step ran again
    assert b_after["attempts"][0]["started_at"] >= new["created_at"]

    # the original is untouched, and both are listed
    assert get_run(api, original_id) == original
    assert {r["id"] for r in list_runs(api)} == {original_id, new_id}

    # the default body, and no body at all, mean from_failed_step
    for body in [{}, None]:
        again = api.client.post(f"/api/runs/{original_id}/rerun", headers=api.headers(), json=body)
        assert again.status_code == 201, again.text
        assert get_run(api, again.json()["run_id"])["rerun_of"] == original_id


def test_rerun_a_completed_run_from_the_failed_step_is_a_conflict(api: Api) -> None:
    create_workflow(api, ECHO, "app/echo")
    run_id = start(api, "app/echo", {"x": 1})
    assert wait_run(api, run_id)["status"] == "completed"
    for body in [{"from_failed_step": True}, None]:
        response = api.client.post(f"/api/runs/{run_id}/rerun", headers=api.headers(), json=body)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "cannot_rerun"
    assert [r["id"] for r in list_runs(api)] == [run_id]  # no run was started

    # from scratch works for a completed run
    fresh = api.client.post(f"/api/runs/{run_id}/rerun", headers=api.headers(), json={"from_failed_step": False})
    assert fresh.status_code == 201, fresh.text
    rerun = wait_run(api, fresh.json()["run_id"])
    assert rerun["status"] == "completed" and rerun["output"] == {"a": {"x": 1}} and rerun["rerun_of"] == run_id


def test_rerun_from_scratch_runs_the_latest_published_version(api: Api) -> None:
    v1 = workflow(
        [action("a", "echo", x="!ref($.event.data.x)"), action("b", "fail")],
        [edge("$source", "a"), edge("a", "b")],
    )
    workflow_id = create_workflow(api, v1, "app/fixme")
    original_id = start(api, "app/fixme", {"x": 9})
    original = wait_run(api, original_id)
    assert original["status"] == "failed" and original["version"] == 1

    v2 = workflow(
        [action("a", "echo", x="!ref($.event.data.x)"), action("c", "echo", got="!ref($.state.a.x)")],
        [edge("$source", "a"), edge("a", "c")],
    )
    updated = api.client.put(f"/api/workflows/{workflow_id}", headers=api.headers(), json={"workflow": v2})
    assert updated.status_code == 200, updated.text
    # the draft is not published yet: a rerun from scratch still runs version 1
    draft_rerun = api.client.post(
        f"/api/runs/{original_id}/rerun", headers=api.headers(), json={"from_failed_step": False}
    )
    assert draft_rerun.status_code == 201
    on_v1 = wait_run(api, draft_rerun.json()["run_id"])
    assert on_v1["version"] == 1 and on_v1["status"] == "failed"

    published = api.client.post(f"/api/workflows/{workflow_id}/publish", headers=api.headers())
    assert published.status_code == 201 and published.json()["number"] == 2
    rerun = api.client.post(f"/api/runs/{original_id}/rerun", headers=api.headers(), json={"from_failed_step": False})
    assert rerun.status_code == 201, rerun.text
    new = wait_run(api, rerun.json()["run_id"])
    assert new["rerun_of"] == original_id
    assert new["version"] == 2 and new["version_id"] != original["version_id"]
    assert new["event"] == original["event"]
    assert new["status"] == "completed"
    assert new["output"] == {"a": {"x": 9}, "c": {"got": 9}}
    assert [a["id"] for a in new["actions"]] == ["a", "c"]
    # run from scratch: a ran again (its attempt started after the new run was created)
    assert new["actions"][0]["attempts"][0]["started_at"] >= new["created_at"]

    # from the failed step stays on the original's version
    resumed = api.client.post(f"/api/runs/{original_id}/rerun", headers=api.headers(), json={"from_failed_step": True})
    assert resumed.status_code == 201
    assert wait_run(api, resumed.json()["run_id"])["version"] == 1


def test_rerun_unknown_run_or_bad_body(api: Api) -> None:
    missing = api.client.post("/api/runs/no-such-run/rerun", headers=api.headers(), json={"from_failed_step": False})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    create_workflow(api, BROKEN, "app/broken")
    run_id = start(api, "app/broken", {"x": 1})
    wait_run(api, run_id)
    for body in [{"from_failed_step": "yes please"}, {"from_scratch": True}, [1]]:
        response = api.client.post(f"/api/runs/{run_id}/rerun", headers=api.headers(), json=body)
        assert response.status_code == 400, (body, response.text)
    assert [r["id"] for r in list_runs(api)] == [run_id]


# -- stream ----------------------------------------------------------------------------------------


def completed_actions(run: dict[str, Any]) -> int:
    return sum(1 for a in run["actions"] if action_status(a) == "completed")


def test_stream_sends_the_run_as_it_progresses_then_end(api: Api) -> None:
    definition = workflow(
        [action("one", "nap", ms=600), action("two", "nap", ms=600), action("three", "echo", x=3)],
        [edge("$source", "one"), edge("one", "two"), edge("two", "three")],
    )
    create_workflow(api, definition, "app/slow")
    run_id = start(api, "app/slow")

    status, content_type, lines = stream(api, f"/api/runs/{run_id}/stream", headers=api.headers())
    assert status == 200
    assert content_type.startswith("text/event-stream")
    events = read_events(lines)
    assert events, lines
    *updates, end = events
    assert end["event"] == "end" and end["data"] == "completed"
    assert updates and all(e["event"] == "run" for e in updates), events

    runs = [json.loads(e["data"]) for e in updates]
    assert all(r["id"] == run_id for r in runs)
    assert all(e["id"] == r["status"] for e, r in zip(updates, runs, strict=True))
    progress = [completed_actions(r) for r in runs]
    assert progress == sorted(progress), progress  # never goes back
    assert len(set(progress)) >= 3, progress  # saw the run move through its actions
    assert all(a != b for a, b in itertools.pairwise(updates))  # only changes are sent
    assert [r["status"] for r in runs].count("completed") == 1
    last = runs[-1]
    assert last["status"] == "completed"
    assert last["output"] == {"one": "rested", "two": "rested", "three": {"x": 3}}
    assert last == get_run(api, run_id)  # the whole run, timeline included


def test_stream_of_an_ended_run_sends_it_once_then_end(api: Api) -> None:
    create_workflow(api, BROKEN, "app/broken")
    run_id = start(api, "app/broken", {"x": 2})
    failed = wait_run(api, run_id)
    _, _, lines = stream(api, f"/api/runs/{run_id}/stream", headers=api.headers())
    events = read_events(lines)
    assert [e["event"] for e in events] == ["run", "end"]
    assert json.loads(events[0]["data"]) == failed
    assert events[1]["data"] == "failed"


def stream_ticket(api: Api, run_id: str, *, tenant: str = "acme") -> str:
    asked = api.client.post(f"/api/runs/{run_id}/stream-ticket", headers=api.headers(tenant))
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert set(body) == {"ticket", "expires_at"}
    assert 0 < body["expires_at"] - api.kit.clock.now_ms() <= 60_000
    return str(body["ticket"])


def assert_no_stream(api: Api, url: str, code: int, mentions: str = "") -> None:
    status, _, lines = stream(api, url)
    assert status == code, (url, lines)
    assert not any(line.startswith("event:") for line in lines)
    assert mentions in "\n".join(lines), lines


def test_the_stream_opens_with_a_ticket_once_and_never_with_a_token_in_the_url(api: Api) -> None:
    create_workflow(api, ECHO, "app/echo")
    run_id = start(api, "app/echo", {"x": "q"})
    other_run = start(api, "app/echo", {"x": "other"})
    completed = wait_run(api, run_id)
    wait_run(api, other_run)

    ticket = stream_ticket(api, run_id)
    assert api.token() not in ticket
    status, content_type, lines = stream(api, f"/api/runs/{run_id}/stream?ticket={ticket}")
    assert status == 200 and content_type.startswith("text/event-stream")
    events = read_events(lines)
    assert [e["event"] for e in events] == ["run", "end"]
    assert json.loads(events[0]["data"]) == completed

    assert_no_stream(api, f"/api/runs/{run_id}/stream?ticket={ticket}", 401, "used already")  # once only
    assert_no_stream(api, f"/api/runs/{run_id}/stream?ticket={stream_ticket(api, other_run)}", 401, "another run")
    assert_no_stream(api, f"/api/runs/{run_id}/stream?ticket=not-a-ticket", 401)
    assert_no_stream(api, f"/api/runs/{run_id}/stream?ticket={api.token()}", 401)  # a token is no ticket
    assert_no_stream(api, f"/api/runs/{run_id}/stream", 401)
    # the editor token in the URL is read nowhere, the stream included
    assert_no_stream(api, f"/api/runs/{run_id}/stream?token={api.token()}", 401)
    assert api.client.get(f"/api/runs/{run_id}?token={api.token()}").status_code == 401
    # a ticket is for streams only
    assert (
        api.client.get(
            f"/api/runs/{run_id}", headers={"Authorization": f"Bearer {stream_ticket(api, run_id)}"}
        ).status_code
        == 401
    )


def test_a_ticket_is_for_its_tenant_s_run_only(api: Api) -> None:
    create_workflow(api, ECHO, "app/echo")
    create_workflow(api, ECHO, "app/echo", tenant="globex")
    run_id = start(api, "app/echo", {"x": 1})
    theirs = run_of(api, send(api, "app/echo", {"x": 2}, tenant="globex"), tenant="globex")
    # no ticket for another tenant's run, and a ticket of one tenant's run opens no other run
    refused = api.client.post(f"/api/runs/{run_id}/stream-ticket", headers=api.headers("globex", "bob"))
    assert refused.status_code == 404, refused.text
    assert_no_stream(api, f"/api/runs/{run_id}/stream?ticket={stream_ticket(api, theirs, tenant='globex')}", 401)
    assert api.client.post("/api/runs/no-such-run/stream-ticket", headers=api.headers()).status_code == 404


def test_an_expired_ticket_is_refused(clocked_api: Api, clock: VirtualClock) -> None:
    create_workflow(clocked_api, ECHO, "app/echo")
    run_id = run_of(clocked_api, send(clocked_api, "app/echo", {"x": 1}))
    ticket = stream_ticket(clocked_api, run_id)
    clock.advance(timedelta(seconds=60))
    assert_no_stream(clocked_api, f"/api/runs/{run_id}/stream?ticket={ticket}", 401, "expired")


def test_stream_of_an_unknown_run_is_404_before_any_event(api: Api) -> None:
    status, content_type, lines = stream(api, "/api/runs/no-such-run/stream", headers=api.headers())
    assert status == 404
    assert content_type.startswith("application/json")
    assert json.loads("\n".join(lines))["code"] == "not_found"
    assert not any(line.startswith(("event:", "data:")) for line in lines)


# -- the runs view: cursor, several statuses, test runs ---------------------------------------------


def test_list_runs_pages_by_cursor_and_filters_by_several_statuses_and_test_runs(api: Api) -> None:
    echo_id = create_workflow(api, ECHO, "app/echo", name="Echo")
    create_workflow(api, BROKEN, "app/broken", name="Broken")
    run_ids = [start(api, name, {"x": x}) for name, x in [("app/echo", 0), ("app/broken", 1), ("app/echo", 2)]]
    for run_id in run_ids:
        wait_run(api, run_id)
    tested = api.client.post(f"/api/workflows/{echo_id}/test", headers=api.headers(), json={})
    assert tested.status_code in (200, 201), tested.text
    test_run = wait_run(api, str(tested.json()["run_id"]))
    assert test_run["version"] is None

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/runs", headers=api.headers(), params=params).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [test_run["id"], *run_ids[::-1]]  # every run once, newest first

    assert [r["id"] for r in list_runs(api, test="true")] == [test_run["id"]]
    assert [r["id"] for r in list_runs(api, test="false")] == run_ids[::-1]
    both = api.client.get("/api/runs", headers=api.headers(), params=[("status", "failed"), ("status", "completed")])
    assert [r["id"] for r in both.json()["items"]] == [test_run["id"], *run_ids[::-1]]
    bad = api.client.get("/api/runs", headers=api.headers(), params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["path"] == "cursor", bad.text


# -- bulk actions --------------------------------------------------------------------------------------


def operation_of(api: Api, operation_id: str, *, timeout: float = 20.0) -> dict[str, Any]:
    """Poll the operation until it has completed."""
    deadline = time.monotonic() + timeout
    while True:
        got = api.client.get(f"/api/operations/{operation_id}", headers=api.headers())
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        if body["state"] == "completed":
            return body
        assert time.monotonic() < deadline, f"the operation stayed {body}"
        time.sleep(0.03)


def test_bulk_cancel_cancels_the_matching_runs_in_the_background(clocked_api: Api, clock: VirtualClock) -> None:
    api = clocked_api
    naps = workflow([action("a", "nap", ms=3_600_000)], [edge("$source", "a")])
    nap_id = create_workflow(api, naps, "app/nap", name="Naps")
    create_workflow(api, naps, "app/nap", name="Naps", tenant="globex")
    sleeping = [start(api, "app/nap", {"plan": plan}) for plan in ("pro", "free", "pro")]
    send(api, "app/nap", tenant="globex")
    api.idle()
    accepted = api.client.post(
        "/api/runs/bulk-cancel",
        headers=api.headers(),
        json={"workflow_id": nap_id, "status": ["sleeping"], "if": 'event.data.plan == "pro"'},
    )
    assert accepted.status_code == 202, accepted.text
    operation = accepted.json()
    assert operation["kind"] == "cancel" and operation["matched"] == 3
    done = operation_of(api, operation["id"])
    assert (done["matched"], done["done"], done["failed"]) == (2, 2, 0)
    statuses = {run_id: get_run(api, run_id)["status"] for run_id in sleeping}
    assert statuses == {sleeping[0]: "cancelled", sleeping[1]: "sleeping", sleeping[2]: "cancelled"}
    others = api.client.get("/api/runs", headers=api.headers("globex", "bob")).json()["items"]
    assert [r["status"] for r in others] == ["sleeping"]
    hidden = api.client.get(f"/api/operations/{operation['id']}", headers=api.headers("globex", "bob"))
    assert hidden.status_code == 404


def test_bulk_actions_refuse_a_bad_filter_with_its_path(api: Api) -> None:
    bad = api.client.post("/api/runs/bulk-cancel", headers=api.headers(), json={"if": "event.data.x =="})
    assert bad.status_code == 422 and bad.json()["path"] == "if", bad.text
    ended = api.client.post("/api/runs/bulk-cancel", headers=api.headers(), json={"status": ["completed"]})
    assert ended.status_code == 422 and ended.json()["path"] == "status", ended.text
    unknown = api.client.post("/api/runs/bulk-replay", headers=api.headers(), json={"version": "oldest"})
    assert unknown.status_code == 400 and unknown.json()["path"] == "version", unknown.text
    readonly = api.client.post("/api/runs/bulk-cancel", headers=api.headers(scopes=["runs:read"]), json={})
    assert readonly.status_code in (401, 403), readonly.text


def test_bulk_replay_starts_a_new_run_for_each_failed_run(api: Api) -> None:
    create_workflow(api, BROKEN, "app/broken", name="Broken")
    failed = [start(api, "app/broken", {"x": x}) for x in range(3)]
    for run_id in failed:
        wait_run(api, run_id)
    accepted = api.client.post("/api/runs/bulk-replay", headers=api.headers(), json={"status": ["failed"]})
    assert accepted.status_code == 202, accepted.text
    done = operation_of(api, accepted.json()["id"])
    assert (done["matched"], done["done"]) == (3, 3)
    replays = [r for r in list_runs(api) if r.get("rerun_of")]
    assert sorted(r["rerun_of"] for r in replays) == sorted(failed)


# -- at a glance ----------------------------------------------------------------------------------------


def test_workflow_stats_count_runs_and_failures_per_hour(api: Api) -> None:
    echo_id = create_workflow(api, ECHO, "app/echo", name="Echo")
    broken_id = create_workflow(api, BROKEN, "app/broken", name="Broken")
    for run_id in [start(api, "app/broken", {"x": 1}), start(api, "app/broken", {"x": 2})]:
        wait_run(api, run_id)
    wait_run(api, start(api, "app/echo", {"x": 3}))
    day = api.client.get(f"/api/workflows/{broken_id}/stats", headers=api.headers(), params={"range": "24h"}).json()
    assert (len(day["buckets"]), day["bucket_ms"]) == (24, 3_600_000)
    assert (day["runs"], day["failed"], day["failure_rate"]) == (2, 2, 1.0)
    assert sum(b["runs"] for b in day["buckets"][-2:]) == 2  # the current hour is the last (or just was)
    week = api.client.get(f"/api/workflows/{echo_id}/stats", headers=api.headers(), params={"range": "7d"}).json()
    assert (len(week["buckets"]), week["runs"], week["failed"], week["failure_rate"]) == (28, 1, 0, 0.0)
    other = api.client.get(f"/api/workflows/{echo_id}/stats", headers=api.headers("globex", "bob"))
    assert other.status_code == 404
