"""``POST /api/workflows/{id}/test-step`` through a TestClient: one step tried against a sample event and
the upstream outputs (given, kept in the draft, or the latest run's), errors in words, nothing stored,
another tenant's workflow never reached."""

from __future__ import annotations

import time
from typing import Any

from conftest import Api
from helpers import action, assert_error, edge, workflow

CHAIN = workflow(
    [
        action("first", "echo", post="!ref($.event.data.id)"),
        action("second", "echo", said="!ref($.state.first.post)"),
        action("broken", "fail", message="the shop is closed"),
    ],
    [edge("$source", "first"), edge("first", "second"), edge("second", "broken")],
)


def create(api: Api, draft: dict[str, Any] = CHAIN, trigger: str = "shop/order.placed", tenant: str = "acme") -> str:
    created = api.client.post(
        "/api/workflows",
        headers=api.headers(tenant),
        json={"name": "Orders", "trigger": {"event": trigger}, "workflow": draft},
    )
    assert created.status_code == 201, created.text
    workflow_id: str = created.json()["id"]
    return workflow_id


def try_step(api: Api, workflow_id: str, body: dict[str, Any], tenant: str = "acme") -> Any:
    return api.client.post(f"/api/workflows/{workflow_id}/test-step", headers=api.headers(tenant), json=body)


def runs_of(api: Api, workflow_id: str) -> list[dict[str, Any]]:
    listed = api.client.get("/api/runs", headers=api.headers(), params={"workflow_id": workflow_id})
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def test_one_step_runs_against_the_sample_event_and_nothing_is_stored(api: Api) -> None:
    workflow_id = create(api)
    event = {"name": "shop/order.placed", "data": {"id": 7}}
    response = try_step(api, workflow_id, {"action_id": "first", "event": event})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"] == {"post": 7}
    assert body["inputs"] == {"post": 7}
    assert body["error"] is None
    assert isinstance(body["duration_ms"], int) and body["duration_ms"] >= 0
    assert body["sent_events"] == []
    assert runs_of(api, workflow_id) == []


def test_upstream_outputs_given_win(api: Api) -> None:
    workflow_id = create(api)
    body = try_step(api, workflow_id, {"action_id": "second", "state": {"first": {"post": 42}}}).json()
    assert body["output"] == {"said": 42}


def test_a_failing_step_answers_its_error_in_words(api: Api) -> None:
    workflow_id = create(api)
    response = try_step(api, workflow_id, {"action_id": "broken"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] == "the shop is closed"
    assert body["output"] is None
    assert "Traceback" not in response.text and "NonRetriableError" not in response.text


def test_upstream_outputs_come_from_the_latest_run_then_the_kept_samples(api: Api) -> None:
    workflow_id = create(api)
    started = api.client.post(
        f"/api/workflows/{workflow_id}/test",
        headers=api.headers(),
        json={"event": {"name": "shop/order.placed", "data": {"id": 5}}},
    )
    assert started.status_code == 201, started.text
    deadline = time.monotonic() + 20
    while runs_of(api, workflow_id)[0]["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.03)
    assert try_step(api, workflow_id, {"action_id": "second"}).json()["output"] == {"said": 5}

    kept = {**CHAIN, "metadata": {"sample_outputs": {"first": {"post": 9}}}}
    assert try_step(api, workflow_id, {"action_id": "second", "workflow": kept}).json()["output"] == {"said": 9}


def test_the_unsaved_instance_is_tried(api: Api) -> None:
    workflow_id = create(api)
    edited = workflow([action("new", "echo", note="typed just now")], [edge("$source", "new")])
    body = try_step(api, workflow_id, {"action_id": "new", "workflow": edited}).json()
    assert body["output"] == {"note": "typed just now"}


def test_without_an_event_the_declared_example_is_the_sample(api: Api) -> None:
    if api.kit.event_types.get("shop/order.placed") is None:
        api.kit.event_type("shop/order.placed", examples=[{"id": 31}])
    workflow_id = create(api)
    assert try_step(api, workflow_id, {"action_id": "first"}).json()["output"] == {"post": 31}


def test_what_cannot_be_tried_is_a_400_with_a_path(api: Api) -> None:
    workflow_id = create(api)
    assert_error(try_step(api, workflow_id, {"action_id": "nope"}), 400, "bad_request", "action_id")
    assert_error(try_step(api, workflow_id, {"action_id": "first", "surprise": 1}), 400, "bad_request")
    bad_event = {"action_id": "first", "event": {"name": "", "data": {}}}
    assert try_step(api, workflow_id, bad_event).status_code == 400


def test_another_tenants_workflow_is_not_found(api: Api) -> None:
    workflow_id = create(api, tenant="globex")
    assert_error(try_step(api, workflow_id, {"action_id": "first"}), 404, "not_found")


def test_it_needs_the_runs_write_scope(api: Api) -> None:
    workflow_id = create(api)
    response = api.client.post(
        f"/api/workflows/{workflow_id}/test-step",
        headers=api.headers(scopes=["workflows:read", "runs:read"]),
        json={"action_id": "first"},
    )
    assert_error(response, 401, "unauthorized")
