"""The editor API end to end through a TestClient: create, publish, enable, send, watch the run."""

from __future__ import annotations

import time

from conftest import Api

WORKFLOW = {
    "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data.x)"}}],
    "edges": [{"from": "$source", "to": "a"}],
}


def test_create_publish_enable_send_and_watch(api: Api) -> None:
    client, headers = api.client, api.headers()
    created = client.post(
        "/api/workflows", headers=headers, json={"name": "Echo", "trigger": {"event": "app/x"}, "workflow": WORKFLOW}
    )
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert created.json()["published_version"] is None
    assert client.post(f"/api/workflows/{workflow_id}/publish", headers=headers).status_code == 201
    assert client.post(f"/api/workflows/{workflow_id}/enable", headers=headers).json()["enabled"] is True
    sent = client.post("/api/events", headers=headers, json={"name": "app/x", "data": {"x": 5}})
    assert sent.status_code == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = client.get("/api/runs", headers=headers).json()["items"]
        if runs and runs[0]["status"] == "completed":
            break
        time.sleep(0.05)
    assert runs[0]["output"] == {"a": {"x": 5}}
    run = client.get(f"/api/runs/{runs[0]['id']}", headers=headers).json()
    assert run["actions"][0]["inputs"] == {"x": 5}
