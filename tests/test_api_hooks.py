"""The webhook routes in process: the editor's (make one, settings, a new secret shown once, the last
requests, a test request), ``POST /hooks/{id}`` with no token, and another tenant's hooks (404 on every
route)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from conftest import Api
from helpers import action, assert_error, edge, workflow
from test_api_runs import run_of, wait_run

ECHO = workflow([action("a", "echo", x="!ref($.event.data.x)")], [edge("$source", "a")])


def hooked_workflow(api: Api, tenant: str = "acme", **trigger: Any) -> tuple[str, str]:
    """A published, enabled workflow with a webhook trigger: its id and its hook's."""
    created = api.client.post(
        "/api/workflows",
        headers=api.headers(tenant),
        json={
            "name": "On a webhook",
            "triggers": [{"type": "webhook", **trigger}],
            "workflow": ECHO,
            "publish": True,
            "enabled": True,
        },
    )
    assert created.status_code == 201, created.text
    record = created.json()
    [trigger_out] = record["triggers"]
    assert trigger_out["type"] == "webhook"
    return str(record["id"]), str(trigger_out["hook"])


def test_a_signed_request_starts_a_run_and_is_listed(api: Api) -> None:
    _, hook_id = hooked_workflow(api, event="shop/order")
    hook = api.client.get(f"/api/hooks/{hook_id}", headers=api.headers()).json()
    assert hook["url"].endswith(f"/hooks/{hook_id}") and hook["event"] == "shop/order"
    assert hook["has_secret"] is False and hook["verification"]["style"] == "none"
    settings = {"verification": {"style": "github"}}
    assert api.client.put(f"/api/hooks/{hook_id}", headers=api.headers(), json=settings).status_code == 200
    made = api.client.post(f"/api/hooks/{hook_id}/secret", headers=api.headers())
    assert made.status_code == 200, made.text
    secret = made.json()["secret"]
    body = json.dumps({"x": 7}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    posted = api.client.post(
        f"/hooks/{hook_id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert posted.status_code == 202, posted.text
    event_id = posted.json()["event_id"]
    assert wait_run(api, run_of(api, event_id))["output"] == {"a": {"x": 7}}
    unsigned = api.client.post(f"/hooks/{hook_id}", json={"x": 8})
    assert_error(unsigned, 401, "bad_signature")
    sample = api.client.post(f"/api/hooks/{hook_id}/test", headers=api.headers(), json={"body": {"x": 9}})
    assert sample.status_code == 200 and sample.json()["status"] == 202, sample.text
    lines = api.client.get(f"/api/hooks/{hook_id}/requests", headers=api.headers()).json()
    assert [(line["status"], line["outcome"]) for line in lines] == [
        (202, "accepted"),
        (401, "refused"),
        (202, "accepted"),
    ]
    assert "not signed" in lines[1]["why"]
    for route in (f"/api/hooks/{hook_id}", f"/api/hooks/{hook_id}/requests", f"/api/workflows/{hook['workflow_id']}"):
        assert secret not in api.client.get(route, headers=api.headers()).text


def test_bad_requests_get_their_status(api: Api) -> None:
    _, hook_id = hooked_workflow(api)
    assert_error(api.client.post("/hooks/no-such-hook", json={}), 404, "not_found")
    too_large = api.client.post(f"/hooks/{hook_id}", content=b"x" * (512 * 1024 + 1))
    assert_error(too_large, 413, "too_large")
    bad_json = api.client.post(f"/hooks/{hook_id}", content=b"{", headers={"Content-Type": "application/json"})
    assert "not JSON" in assert_error(bad_json, 422, "invalid_request")["message"]
    form = api.client.post(f"/hooks/{hook_id}", data={"x": "1"})
    assert form.status_code == 202, form.text
    text = api.client.post(f"/hooks/{hook_id}", content=b"hi", headers={"Content-Type": "text/plain"})
    assert text.status_code == 202, text.text


def test_settings_problems_have_paths(api: Api) -> None:
    _, hook_id = hooked_workflow(api)
    bad = api.client.put(
        f"/api/hooks/{hook_id}",
        headers=api.headers(),
        json={"verification": {"style": "hmac"}, "transform": "{", "rate_limit": 10},
    )
    body = assert_error(bad, 422, "invalid_workflow")
    assert [p["path"] for p in body["problems"]] == ["verification.header", "transform"]


def test_another_tenants_hooks_are_not_found_on_every_route(api: Api) -> None:
    workflow_id, hook_id = hooked_workflow(api, tenant="globex")
    other = api.headers("acme")
    for method, route, body in [
        ("GET", f"/api/hooks/{hook_id}", None),
        ("PUT", f"/api/hooks/{hook_id}", {"transform": None}),
        ("POST", f"/api/hooks/{hook_id}/secret", None),
        ("GET", f"/api/hooks/{hook_id}/requests", None),
        ("POST", f"/api/hooks/{hook_id}/test", {}),
        ("POST", f"/api/workflows/{workflow_id}/hooks", {}),
    ]:
        answer = api.client.request(method, route, headers=other, json=body)
        assert_error(answer, 404, "not_found")
        assert hook_id not in answer.text
