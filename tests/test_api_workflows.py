"""The editor API's workflow routes through a TestClient: create, list, get, update (optimistic
concurrency), delete, validate, publish, versions, enable/disable, export/import and test runs, with
their success and error statuses and bodies."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from typing import Any

from conftest import Api
from helpers import assert_error

from workflow_kit.timeutil import VirtualClock

ECHO = {
    "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data.x)"}}],
    "edges": [{"from": "$source", "to": "a"}],
}

# A workflow with four distinct problems, each at a known path.
BROKEN = {
    "actions": [
        {"id": "a", "kind": "nope"},
        {"id": "b", "kind": "echo", "inputs": {"x": "!ref($.state.zz.q)"}},
    ],
    "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "q"}],
}
BROKEN_PROBLEMS = {
    ("unknown_kind", "actions[0].kind"),
    ("unknown_edge_target", "edges[1].to"),
    ("unreachable", "actions[1]"),
    ("ref_not_upstream", "actions[1].inputs.x"),
}

# A workflow exported by the TypeScript Workflow Kit: numeric ids, refs into state by those ids, and keys
# this kit does not know (which must survive).
TS_WORKFLOW = {
    "name": "Blog post review",
    "actions": [
        {"id": "1", "kind": "echo", "name": "Draft", "inputs": {"x": "!ref($.event.data.title)"}, "ui": {"x": 10}},
        {"id": "2", "kind": "echo", "inputs": {"y": "!ref($.state.1.x)"}, "position": {"x": 1, "y": 2}},
    ],
    "edges": [{"from": "$source", "to": "1", "style": "dashed"}, {"from": "1", "to": "2"}],
    "workflowVersion": 3,
    "createdBy": {"id": "u-1"},
}


def create(api: Api, expect: int = 201, **fields: Any) -> dict[str, Any]:
    body = {"name": "Echo", "trigger": {"event": "app/x"}, "workflow": ECHO, **fields}
    response = api.client.post("/api/workflows", headers=api.headers(), json=body)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def problems_of(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["code"], p["path"]) for p in body["problems"]}


def wait_for_run(api: Api, run_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = api.client.get(f"/api/runs/{run_id}", headers=api.headers())
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout}s"
        time.sleep(0.05)


def next_millisecond() -> None:
    """Let the wall clock move on so that consecutive writes get distinct timestamps."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 <= start:
        time.sleep(0.001)


# -- POST /api/workflows --------------------------------------------------------------------------


def test_create_stores_a_draft(api: Api) -> None:
    response = api.client.post(
        "/api/workflows",
        headers=api.headers(),
        json={"name": "  Echo  ", "description": "says it back", "trigger": {"event": "app/x"}, "workflow": ECHO},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["etag"] == '"1"'
    assert body["name"] == "Echo"
    assert body["description"] == "says it back"
    assert body["trigger"] == {"event": "app/x"}
    assert body["published_version"] is None
    assert body["enabled"] is False
    assert body["version"] == 1
    assert body["draft"] == ECHO
    assert body["problems"] == []
    assert body["settings"] == {}
    assert isinstance(body["id"], str) and body["id"]
    assert body["created_at"] == body["updated_at"] > 0
    listed = api.client.get("/api/workflows", headers=api.headers()).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert api.client.get(f"/api/workflows/{body['id']}/versions", headers=api.headers()).json() == {"items": []}


def test_create_keeps_an_invalid_draft_and_lists_its_problems(api: Api) -> None:
    body = create(api, workflow=BROKEN)
    assert body["published_version"] is None
    assert body["enabled"] is False
    assert problems_of(body) == BROKEN_PROBLEMS
    assert all(p["message"] for p in body["problems"])
    fetched = api.client.get(f"/api/workflows/{body['id']}", headers=api.headers()).json()
    assert problems_of(fetched) == BROKEN_PROBLEMS


def test_create_with_publish_and_enabled(api: Api) -> None:
    body = create(api, trigger={"event": "app/*", "if": "event.data.x > 1"}, publish=True, enabled=True)
    assert body["published_version"] == 1
    assert body["enabled"] is True
    assert body["trigger"] == {"event": "app/*", "if": "event.data.x > 1"}
    versions = api.client.get(f"/api/workflows/{body['id']}/versions", headers=api.headers()).json()["items"]
    assert [v["number"] for v in versions] == [1]
    assert versions[0]["workflow"] == ECHO


def test_create_rejects_malformed_json(api: Api) -> None:
    response = api.client.post(
        "/api/workflows", headers={**api.headers(), "Content-Type": "application/json"}, content=b'{"name": "x",'
    )
    body = assert_error(response, 400, "bad_request")
    assert set(body) <= {"code", "message", "path"}
    assert_error(api.client.post("/api/workflows", headers=api.headers(), json=[1, 2]), 400, "bad_request")
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_create_rejects_a_missing_name(api: Api) -> None:
    response = api.client.post(
        "/api/workflows", headers=api.headers(), json={"trigger": {"event": "app/x"}, "workflow": ECHO}
    )
    body = assert_error(response, 400, "bad_request")
    assert body["path"] == "name"
    assert set(body) <= {"code", "message", "path"}


def test_create_rejects_an_unknown_field(api: Api) -> None:
    response = api.client.post(
        "/api/workflows",
        headers=api.headers(),
        json={"name": "x", "trigger": {"event": "app/x"}, "workflow": ECHO, "colour": "red"},
    )
    body = assert_error(response, 400, "bad_request")
    assert body["path"] == "colour"
    assert "unknown" in body["message"]


def test_create_rejects_a_wrong_type_naming_the_field(api: Api) -> None:
    response = api.client.post(
        "/api/workflows", headers=api.headers(), json={"name": 5, "trigger": {"event": "app/x"}, "workflow": ECHO}
    )
    body = assert_error(response, 400, "bad_request")
    assert "str" in body["message"]
    assert body.get("path") == "name", body


def test_create_rejects_a_wrong_type_in_a_nested_field(api: Api) -> None:
    response = api.client.post(
        "/api/workflows", headers=api.headers(), json={"name": "x", "trigger": {"event": 5}, "workflow": ECHO}
    )
    body = assert_error(response, 400, "bad_request")
    assert body.get("path") == "trigger.event", body
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_create_rejects_a_workflow_that_cannot_load(api: Api) -> None:
    body = create(api, expect=422, workflow={"actions": 5, "edges": []})
    assert body["code"] == "invalid_workflow"
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_format", "actions")]
    assert "array" in body["problems"][0]["message"]
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_create_rejects_an_action_of_the_wrong_shape(api: Api) -> None:
    body = create(api, expect=422, workflow={"actions": [{"id": "a", "kind": 7}], "edges": []})
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_format", "actions[0].kind")]


def test_create_and_publish_an_invalid_workflow_lists_every_problem(api: Api) -> None:
    body = create(api, expect=422, workflow=BROKEN, publish=True)
    assert body["code"] == "invalid_workflow"
    assert problems_of(body) == BROKEN_PROBLEMS
    assert len(body["problems"]) == len(BROKEN_PROBLEMS)
    assert "4 problems" in body["message"]
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_create_rejects_a_bad_wildcard(api: Api) -> None:
    for event in ("app/x*", "app/*/y", "*"):
        body = create(api, expect=422, trigger={"event": event})
        assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_trigger", "trigger.event")], event
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_create_rejects_a_bad_trigger_condition(api: Api) -> None:
    body = create(api, expect=422, trigger={"event": "app/x", "if": "event.data.x >"})
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_expression", "trigger.if")]


def test_create_rejects_a_blank_name(api: Api) -> None:
    body = create(api, expect=422, name="   ")
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_name", "name")]


def test_create_rejects_unknown_settings(api: Api) -> None:
    body = create(api, expect=422, settings={"colour": "red"})
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_settings", "settings.colour")]


def test_routes_need_a_token(api: Api) -> None:
    response = api.client.post("/api/workflows", json={"name": "x", "trigger": {"event": "app/x"}, "workflow": ECHO})
    assert_error(response, 401, "unauthorized")
    assert_error(api.client.get("/api/workflows"), 401, "unauthorized")
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


# -- GET /api/workflows, GET /api/workflows/{id} --------------------------------------------------


def test_list_is_paged_newest_updated_first(api: Api) -> None:
    ids = []
    for index in range(4):
        ids.append(create(api, name=f"w{index}")["id"])
        next_millisecond()
    # editing the oldest makes it the most recently updated
    assert (
        api.client.patch(f"/api/workflows/{ids[0]}", headers=api.headers(), json={"name": "w0 again"}).status_code
        == 200
    )
    expected = [ids[0], ids[3], ids[2], ids[1]]

    page = api.client.get("/api/workflows", headers=api.headers()).json()
    assert (page["limit"], page["offset"]) == (50, 0)
    assert [w["id"] for w in page["items"]] == expected
    assert page["items"][0]["name"] == "w0 again"
    assert all("problems" in w and "draft" in w for w in page["items"])

    first = api.client.get("/api/workflows?limit=2", headers=api.headers()).json()
    assert (first["limit"], first["offset"]) == (2, 0)
    assert [w["id"] for w in first["items"]] == expected[:2]
    second = api.client.get("/api/workflows?limit=2&offset=2", headers=api.headers()).json()
    assert (second["limit"], second["offset"]) == (2, 2)
    assert [w["id"] for w in second["items"]] == expected[2:]
    beyond = api.client.get("/api/workflows?limit=2&offset=4", headers=api.headers()).json()
    assert beyond["items"] == []
    assert len(api.client.get("/api/workflows?limit=500", headers=api.headers()).json()["items"]) == 4


def test_list_rejects_out_of_range_paging(api: Api) -> None:
    for query, field in (("limit=0", "limit"), ("limit=501", "limit"), ("offset=-1", "offset")):
        body = assert_error(api.client.get(f"/api/workflows?{query}", headers=api.headers()), 400, "bad_request")
        assert field in body["message"] or field in (body.get("path") or ""), body
    assert_error(api.client.get("/api/workflows?limit=zero", headers=api.headers()), 400, "bad_request")


def test_paging_errors_name_the_query_parameter(api: Api) -> None:
    body = assert_error(api.client.get("/api/workflows?limit=0", headers=api.headers()), 400, "bad_request")
    assert body.get("path") == "query.limit", body
    body = assert_error(api.client.get("/api/workflows?offset=-1", headers=api.headers()), 400, "bad_request")
    assert body.get("path") == "query.offset", body


def test_list_is_scoped_to_the_tenant(api: Api) -> None:
    mine = create(api)["id"]
    other = api.headers("globex", "bob")
    assert api.client.get("/api/workflows", headers=other).json()["items"] == []
    assert_error(api.client.get(f"/api/workflows/{mine}", headers=other), 404, "not_found")
    assert_error(api.client.delete(f"/api/workflows/{mine}", headers=other), 404, "not_found")
    assert api.client.get(f"/api/workflows/{mine}", headers=api.headers()).status_code == 200


def test_get_returns_the_record_with_an_etag(api: Api) -> None:
    created = create(api, description="d")
    response = api.client.get(f"/api/workflows/{created['id']}", headers=api.headers())
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == created
    api.client.patch(f"/api/workflows/{created['id']}", headers=api.headers(), json={"name": "renamed"})
    again = api.client.get(f"/api/workflows/{created['id']}", headers=api.headers())
    assert again.headers["etag"] == '"2"'
    assert again.json()["version"] == 2


def test_get_an_unknown_workflow_is_404(api: Api) -> None:
    body = assert_error(api.client.get("/api/workflows/01NOSUCHWORKFLOW", headers=api.headers()), 404, "not_found")
    assert "01NOSUCHWORKFLOW" in body["message"]


FAIL = {"actions": [{"id": "f", "kind": "fail"}], "edges": [{"from": "$source", "to": "f"}]}


def listed(api: Api, workflow_id: str, tenant: str = "acme") -> dict[str, Any]:
    """The workflow as the list shows it, checked to be what GET shows too."""
    items = api.client.get("/api/workflows", headers=api.headers(tenant)).json()["items"]
    [item] = [w for w in items if w["id"] == workflow_id]
    assert api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers(tenant)).json() == item
    return item


def test_the_list_says_whether_a_draft_has_unpublished_changes(api: Api) -> None:
    untouched = create(api, workflow={"actions": [], "edges": []})
    assert untouched["draft_changed"] is False
    drafted = create(api)
    assert drafted["draft_changed"] is True  # never published, and it has an action
    workflow_id = create(api, publish=True)["id"]
    url = f"/api/workflows/{workflow_id}"
    assert listed(api, workflow_id)["draft_changed"] is False

    edited = {"actions": [{"id": "b", "kind": "echo"}], "edges": [{"from": "$source", "to": "b"}]}
    for change in ({"workflow": edited}, {"trigger": {"event": "app/other"}}, {"settings": {"retries": 2}}):
        assert api.client.patch(url, headers=api.headers(), json=change).json()["draft_changed"] is True, change
        assert listed(api, workflow_id)["draft_changed"] is True, change
        assert api.client.post(f"{url}/publish", headers=api.headers()).status_code == 201
        assert listed(api, workflow_id)["draft_changed"] is False, change
    renamed = api.client.patch(url, headers=api.headers(), json={"name": "Renamed"}).json()
    assert renamed["draft_changed"] is False
    assert listed(api, untouched["id"])["draft_changed"] is False
    assert listed(api, drafted["id"])["draft_changed"] is True


def test_the_list_shows_the_last_run_and_the_failures_of_the_day(api: Api) -> None:
    workflow_id = create(api)["id"]
    quiet = create(api, name="Quiet")
    assert (quiet["last_run"], quiet["failures_24h"]) == (None, 0)
    url = f"/api/workflows/{workflow_id}"
    completed = wait_for_run(api, api.client.post(f"{url}/test", headers=api.headers()).json()["run_id"])
    assert completed["status"] == "completed"
    assert listed(api, workflow_id)["last_run"]["id"] == completed["id"]
    assert api.client.put(url, headers=api.headers(), json={"workflow": FAIL}).status_code == 200
    failed = wait_for_run(api, api.client.post(f"{url}/test", headers=api.headers()).json()["run_id"])
    assert failed["status"] == "failed"

    item = listed(api, workflow_id)
    assert item["last_run"] == {
        "id": failed["id"],
        "status": "failed",
        "created_at": failed["created_at"],
        "ended_at": failed["ended_at"],
    }
    assert item["failures_24h"] == 1
    assert (listed(api, quiet["id"])["last_run"], listed(api, quiet["id"])["failures_24h"]) == (None, 0)

    # Another tenant's failures are theirs alone.
    theirs = api.client.post(
        "/api/workflows",
        headers=api.headers("globex", "bob"),
        json={"name": "Theirs", "trigger": {"event": "app/x"}, "workflow": FAIL},
    ).json()["id"]
    for _ in range(2):
        run_id = api.client.post(f"/api/workflows/{theirs}/test", headers=api.headers("globex")).json()["run_id"]
        deadline = time.monotonic() + 20
        while api.client.get(f"/api/runs/{run_id}", headers=api.headers("globex")).json()["status"] != "failed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert listed(api, theirs, "globex")["failures_24h"] == 2
    assert listed(api, workflow_id)["failures_24h"] == 1


def test_a_failure_over_a_day_old_is_not_counted(clocked_api: Api, clock: VirtualClock) -> None:
    api = clocked_api
    workflow_id = create(api, workflow=FAIL)["id"]
    failed = wait_for_run(
        api, api.client.post(f"/api/workflows/{workflow_id}/test", headers=api.headers()).json()["run_id"]
    )
    assert failed["status"] == "failed"
    assert listed(api, workflow_id)["failures_24h"] == 1
    clock.advance(timedelta(hours=24))
    assert listed(api, workflow_id)["failures_24h"] == 1
    clock.advance(timedelta(milliseconds=1))
    item = listed(api, workflow_id)
    assert item["failures_24h"] == 0
    assert item["last_run"]["id"] == failed["id"]  # still its newest run


# -- PUT and PATCH /api/workflows/{id} ------------------------------------------------------------


def test_put_and_patch_change_only_the_given_fields_and_bump_the_version(api: Api) -> None:
    created = create(api, description="first")
    workflow_id = created["id"]
    renamed = api.client.put(f"/api/workflows/{workflow_id}", headers=api.headers(), json={"name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == '"2"'
    body = renamed.json()
    assert (body["name"], body["description"], body["version"]) == ("Renamed", "first", 2)
    assert body["draft"] == ECHO and body["trigger"] == {"event": "app/x"}
    assert body["updated_at"] >= created["updated_at"]

    new_draft = {
        "actions": [{"id": "b", "kind": "echo", "inputs": {"y": 1}}],
        "edges": [{"from": "$source", "to": "b"}],
    }
    patched = api.client.patch(
        f"/api/workflows/{workflow_id}",
        headers=api.headers(),
        json={"workflow": new_draft, "trigger": {"event": "app/y"}, "settings": {}},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["description"], body["version"]) == ("Renamed", "first", 3)
    assert body["draft"] == new_draft
    assert body["trigger"] == {"event": "app/y"}
    assert patched.headers["etag"] == '"3"'

    described = api.client.patch(f"/api/workflows/{workflow_id}", headers=api.headers(), json={"description": ""})
    assert (described.json()["description"], described.json()["version"]) == ("", 4)
    stored = api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()
    assert (stored["name"], stored["description"], stored["version"], stored["draft"]) == ("Renamed", "", 4, new_draft)


def test_an_update_takes_the_instance_as_the_record_names_it(api: Api) -> None:
    """The instance goes in `workflow` or, as the record names it, `draft`."""
    created = create(api)
    draft = {"actions": [{"id": "b", "kind": "echo", "inputs": {"y": 7}}], "edges": [{"from": "$source", "to": "b"}]}
    response = api.client.put(
        f"/api/workflows/{created['id']}", headers=api.headers(), json={"draft": draft, "version": 1}
    )
    assert response.status_code == 200, response.text
    assert response.json()["draft"] == draft
    assert api.client.get(f"/api/workflows/{created['id']}", headers=api.headers()).json()["draft"] == draft


def test_a_record_as_read_can_be_sent_back(api: Api) -> None:
    created = create(api)
    url = f"/api/workflows/{created['id']}"
    record = api.client.get(url, headers=api.headers()).json()
    response = api.client.put(url, headers=api.headers(), json={**record, "name": "Sent back"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["draft"], response.json()["version"]) == ("Sent back", ECHO, 2)


def test_an_update_with_an_invalid_draft_lists_its_problems(api: Api) -> None:
    workflow_id = create(api)["id"]
    response = api.client.put(f"/api/workflows/{workflow_id}", headers=api.headers(), json={"workflow": BROKEN})
    assert response.status_code == 200, response.text
    assert problems_of(response.json()) == BROKEN_PROBLEMS
    assert response.json()["version"] == 2


def test_a_stale_version_in_the_body_is_409(api: Api) -> None:
    workflow_id = create(api)["id"]
    assert api.client.put(f"/api/workflows/{workflow_id}", headers=api.headers(), json={"name": "b"}).status_code == 200
    for method in ("PUT", "PATCH"):
        response = api.client.request(
            method, f"/api/workflows/{workflow_id}", headers=api.headers(), json={"version": 1, "name": "stale"}
        )
        body = assert_error(response, 409, "conflict")
        assert body["current_version"] == 2
    current = api.client.patch(
        f"/api/workflows/{workflow_id}", headers=api.headers(), json={"version": 2, "name": "fresh"}
    )
    assert current.status_code == 200
    assert (current.json()["name"], current.json()["version"]) == ("fresh", 3)


def test_if_match_makes_an_update_conditional(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    ok = api.client.put(url, headers={**api.headers(), "If-Match": '"1"'}, json={"name": "second"})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"2"'

    for method in ("PUT", "PATCH"):
        stale = api.client.request(method, url, headers={**api.headers(), "If-Match": '"1"'}, json={"name": "stale"})
        assert assert_error(stale, 409, "conflict")["current_version"] == 2

    weak = api.client.patch(url, headers={**api.headers(), "If-Match": 'W/"2"'}, json={"name": "third"})
    assert weak.status_code == 200, weak.text
    assert weak.json()["version"] == 3
    anything = api.client.patch(url, headers={**api.headers(), "If-Match": "*"}, json={"name": "fourth"})
    assert anything.status_code == 200
    assert anything.json()["version"] == 4
    assert api.client.get(url, headers=api.headers()).json()["name"] == "fourth"


def test_if_match_takes_an_unquoted_version_too(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    assert api.client.put(url, headers={**api.headers(), "If-Match": "1"}, json={"name": "second"}).status_code == 200
    stale = api.client.put(url, headers={**api.headers(), "If-Match": "1"}, json={"name": "stale"})
    assert assert_error(stale, 409, "conflict")["current_version"] == 2
    assert api.client.get(url, headers=api.headers()).json()["name"] == "second"


def test_if_match_garbage_is_400(api: Api) -> None:
    workflow_id = create(api)["id"]
    for method in ("PUT", "PATCH"):
        response = api.client.request(
            method,
            f"/api/workflows/{workflow_id}",
            headers={**api.headers(), "If-Match": "garbage"},
            json={"name": "n"},
        )
        body = assert_error(response, 400, "bad_request")
        assert "If-Match" in body["message"]
    stored = api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()
    assert (stored["name"], stored["version"]) == ("Echo", 1)


def test_two_editors_never_overwrite_each_other(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    ann, bob = api.headers("acme", "ann"), api.headers("acme", "bob")
    ann_view, bob_view = api.client.get(url, headers=ann), api.client.get(url, headers=bob)
    assert ann_view.headers["etag"] == bob_view.headers["etag"] == '"1"'

    ann_draft = {"actions": [{"id": "ann", "kind": "echo"}], "edges": [{"from": "$source", "to": "ann"}]}
    saved = api.client.put(
        url, headers={**ann, "If-Match": ann_view.headers["etag"]}, json={"name": "Ann's", "workflow": ann_draft}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2

    bob_draft = {"actions": [{"id": "bob", "kind": "echo"}], "edges": [{"from": "$source", "to": "bob"}]}
    lost = api.client.put(
        url,
        headers={**bob, "If-Match": bob_view.headers["etag"]},
        json={"name": "Bob's", "workflow": bob_draft, "description": "bob was here", "trigger": {"event": "bob/x"}},
    )
    assert assert_error(lost, 409, "conflict")["current_version"] == 2
    lost_again = api.client.patch(url, headers=bob, json={"version": 1, "name": "Bob's", "publish": True})
    assert assert_error(lost_again, 409, "conflict")["current_version"] == 2

    stored = api.client.get(url, headers=ann).json()
    assert stored["name"] == "Ann's"
    assert stored["draft"] == ann_draft
    assert stored["description"] == ""
    assert stored["trigger"] == {"event": "app/x"}
    assert stored["version"] == 2
    assert stored["published_version"] is None


def test_an_update_that_publishes_an_invalid_draft_changes_nothing(api: Api) -> None:
    workflow_id = create(api, workflow=BROKEN)["id"]
    url = f"/api/workflows/{workflow_id}"
    response = api.client.patch(url, headers=api.headers(), json={"name": "renamed", "publish": True})
    body = assert_error(response, 422, "invalid_workflow")
    assert problems_of(body) == BROKEN_PROBLEMS
    stored = api.client.get(url, headers=api.headers()).json()
    assert (stored["name"], stored["version"], stored["published_version"]) == ("Echo", 1, None)

    response = api.client.put(url, headers=api.headers(), json={"workflow": BROKEN, "publish": True})
    assert problems_of(assert_error(response, 422, "invalid_workflow")) == BROKEN_PROBLEMS
    response = api.client.put(url, headers=api.headers(), json={"trigger": {"event": "app/x*"}})
    body = assert_error(response, 422, "invalid_workflow")
    assert [p["path"] for p in body["problems"]] == ["trigger.event"]
    assert api.client.get(url, headers=api.headers()).json()["version"] == 1


def test_an_update_that_publishes_a_valid_draft(api: Api) -> None:
    workflow_id = create(api)["id"]
    new_draft = {"actions": [{"id": "b", "kind": "echo"}], "edges": [{"from": "$source", "to": "b"}]}
    response = api.client.put(
        f"/api/workflows/{workflow_id}", headers=api.headers(), json={"workflow": new_draft, "publish": True}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["published_version"]) == (2, 1)
    version = api.client.get(f"/api/workflows/{workflow_id}/versions/1", headers=api.headers()).json()
    assert version["workflow"] == new_draft


def test_update_errors(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    unknown = assert_error(api.client.put(url, headers=api.headers(), json={"colour": 1}), 400, "bad_request")
    assert unknown["path"] == "colour"
    assert_error(api.client.patch(url, headers=api.headers(), json={"version": "one"}), 400, "bad_request")
    assert_error(
        api.client.put(url, headers={**api.headers(), "Content-Type": "application/json"}, content=b"{"),
        400,
        "bad_request",
    )
    body = assert_error(api.client.put(url, headers=api.headers(), json={"name": " "}), 422, "invalid_workflow")
    assert [p["path"] for p in body["problems"]] == ["name"]
    body = assert_error(
        api.client.put(url, headers=api.headers(), json={"workflow": {"edges": {}}}), 422, "invalid_workflow"
    )
    assert [p["path"] for p in body["problems"]] == ["edges"]
    assert_error(api.client.put("/api/workflows/nope", headers=api.headers(), json={"name": "x"}), 404, "not_found")
    assert_error(api.client.patch("/api/workflows/nope", headers=api.headers(), json={"name": "x"}), 404, "not_found")
    assert api.client.get(url, headers=api.headers()).json()["version"] == 1


# -- DELETE /api/workflows/{id} -------------------------------------------------------------------


def test_delete(api: Api) -> None:
    keep = create(api, name="keep")["id"]
    workflow_id = create(api, publish=True)["id"]
    response = api.client.delete(f"/api/workflows/{workflow_id}", headers=api.headers())
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()), 404, "not_found")
    assert_error(api.client.delete(f"/api/workflows/{workflow_id}", headers=api.headers()), 404, "not_found")
    assert_error(api.client.post(f"/api/workflows/{workflow_id}/publish", headers=api.headers()), 404, "not_found")
    listed = api.client.get("/api/workflows", headers=api.headers()).json()["items"]
    assert [w["id"] for w in listed] == [keep]


# -- validate -------------------------------------------------------------------------------------


def test_validate_an_instance_saves_nothing(api: Api) -> None:
    response = api.client.post("/api/workflows/validate", headers=api.headers(), json=BROKEN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"problems"}
    assert problems_of(body) == BROKEN_PROBLEMS
    assert all(set(p) == {"code", "path", "message"} and p["message"] for p in body["problems"])

    valid = api.client.post("/api/workflows/validate", headers=api.headers(), json=ECHO)
    assert (valid.status_code, valid.json()) == (200, {"problems": []})

    unloadable = api.client.post("/api/workflows/validate", headers=api.headers(), json={"actions": 5})
    assert [(p["code"], p["path"]) for p in unloadable.json()["problems"]] == [("invalid_format", "actions")]
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_validate_an_instance_with_its_trigger(api: Api) -> None:
    """`{"workflow", "trigger"}` checks the trigger too, as saving it would (the editor's live validation)."""

    def check(body: dict[str, Any]) -> set[tuple[str, str]]:
        response = api.client.post("/api/workflows/validate", headers=api.headers(), json=body)
        assert response.status_code == 200, response.text
        return problems_of(response.json())

    good = {"event": "app/x", "if": "event.data.n > 1"}
    assert check({"workflow": ECHO, "trigger": good}) == set()
    assert check({"workflow": ECHO, "trigger": {"event": "app/x", "if": "event.data.n >"}}) == {
        ("invalid_expression", "trigger.if")
    }
    assert check({"workflow": ECHO, "trigger": {"event": "app/x", "if": "nope.x == 1"}}) == {
        ("invalid_expression", "trigger.if")
    }
    assert check({"workflow": ECHO, "trigger": {"event": ""}}) == {("invalid_trigger", "trigger.event")}
    assert check({"workflow": ECHO, "trigger": {"cron": "61 * * * *"}}) == {("invalid_trigger", "trigger.cron")}
    assert check({"workflow": ECHO, "trigger": "app/*"}) == set()
    assert check({"workflow": ECHO, "trigger": 5}) == {("invalid_trigger", "trigger")}
    # the workflow's problems and the trigger's together; the workflow alone in the envelope
    assert check({"workflow": BROKEN, "trigger": {"event": "app/x", "if": ")"}}) == BROKEN_PROBLEMS | {
        ("invalid_expression", "trigger.if")
    }
    assert check({"workflow": BROKEN}) == BROKEN_PROBLEMS
    assert check({"workflow": 5, "trigger": good}) == {("invalid_format", "")}
    # a bare instance is still an instance (its unknown keys are kept, not read as the envelope)
    assert check({**ECHO, "trigger": {"event": "app/x", "if": ")"}}) == set()
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_validate_an_instance_with_its_settings(api: Api) -> None:
    """`{"workflow", "settings"}` checks the settings too, with the problems saving them would give."""

    def check(body: dict[str, Any]) -> list[dict[str, Any]]:
        response = api.client.post("/api/workflows/validate", headers=api.headers(), json=body)
        assert response.status_code == 200, response.text
        problems: list[dict[str, Any]] = response.json()["problems"]
        return problems

    assert check({"workflow": ECHO, "settings": {"retries": 3, "debounce": {"period": "30s"}}}) == []
    assert check({"workflow": ECHO, "settings": {}}) == []
    assert check({"workflow": ECHO, "settings": None}) == []
    workflow_id = create(api)["id"]
    for bad in (
        {"throttle": {"limit": 1, "period": "1y"}, "idempotency": "event.data.("},
        {"colour": "red"},
        {"retries": 99},
        {"batch_events": {"max_size": 5, "timeout": "10s"}, "idempotency": "event.data.id"},
    ):
        saved = api.client.patch(f"/api/workflows/{workflow_id}", headers=api.headers(), json={"settings": bad})
        expected = assert_error(saved, 422, "invalid_workflow")["problems"]
        assert check({"workflow": ECHO, "settings": bad}) == expected, bad
        assert all(p["path"].startswith("settings") for p in expected)
    # settings that are not even an object (the save route's body type turns those away with a 400)
    assert problems_of({"problems": check({"workflow": ECHO, "settings": 5})}) == {("invalid_settings", "settings")}
    # every part's problems together
    together = check({"workflow": BROKEN, "trigger": {"event": "app/x", "if": ")"}, "settings": {"retries": -1}})
    assert problems_of({"problems": together}) == BROKEN_PROBLEMS | {
        ("invalid_expression", "trigger.if"),
        ("invalid_settings", "settings.retries"),
    }
    # a bare instance may have a key named settings: it stays an instance
    assert check({**ECHO, "settings": 5}) == []
    assert api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()["settings"] == {}


def test_validate_rejects_a_non_object_body(api: Api) -> None:
    assert_error(api.client.post("/api/workflows/validate", headers=api.headers(), json=[ECHO]), 400, "bad_request")


def test_validate_the_stored_draft(api: Api) -> None:
    broken = create(api, workflow=BROKEN)
    response = api.client.post(f"/api/workflows/{broken['id']}/validate", headers=api.headers())
    assert response.status_code == 200, response.text
    assert problems_of(response.json()) == BROKEN_PROBLEMS
    valid = create(api)
    assert api.client.post(f"/api/workflows/{valid['id']}/validate", headers=api.headers()).json() == {"problems": []}
    stored = api.client.get(f"/api/workflows/{broken['id']}", headers=api.headers()).json()
    assert stored["version"] == 1 and stored["updated_at"] == broken["updated_at"]
    assert_error(api.client.post("/api/workflows/nope/validate", headers=api.headers()), 404, "not_found")


def test_validate_a_workflow_checks_the_instance_in_the_body(api: Api) -> None:
    """As an edit of this workflow would be checked; the stored draft stays as it was."""
    stored = create(api)
    bad = {"actions": [{"id": "one", "kind": "no-such-kind"}], "edges": [{"from": "$source", "to": "one"}]}
    response = api.client.post(f"/api/workflows/{stored['id']}/validate", headers=api.headers(), json=bad)
    assert response.status_code == 200, response.text
    assert problems_of(response.json()) == {("unknown_kind", "actions[0].kind")}
    after = api.client.get(f"/api/workflows/{stored['id']}", headers=api.headers()).json()
    assert (after["draft"], after["version"]) == (ECHO, 1)


# -- publish and versions -------------------------------------------------------------------------


def test_publish_numbers_versions_and_keeps_them_immutable(api: Api) -> None:
    workflow_id = create(api)["id"]
    first = api.client.post(f"/api/workflows/{workflow_id}/publish", headers=api.headers())
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["number"] == 1
    assert body["workflow_id"] == workflow_id
    assert body["workflow"] == ECHO
    assert body["trigger"] == {"event": "app/x"}
    assert body["settings"] == {}
    assert isinstance(body["created_at"], int)

    record = api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()
    assert record["published_version"] == 1
    assert record["enabled"] is False

    second_draft = {"actions": [{"id": "z", "kind": "echo"}], "edges": [{"from": "$source", "to": "z"}]}
    api.client.patch(
        f"/api/workflows/{workflow_id}",
        headers=api.headers(),
        json={"workflow": second_draft, "trigger": {"event": "app/y"}},
    )
    second = api.client.post(f"/api/workflows/{workflow_id}/publish", headers=api.headers(), json={"version": 2})
    assert second.status_code == 201, second.text
    assert (second.json()["number"], second.json()["workflow"]) == (2, second_draft)
    assert second.json()["trigger"] == {"event": "app/y"}
    assert api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()["published_version"] == 2

    versions = api.client.get(f"/api/workflows/{workflow_id}/versions", headers=api.headers())
    assert versions.status_code == 200
    items = versions.json()["items"]
    assert [v["number"] for v in items] == [2, 1]
    assert [v["workflow"] for v in items] == [second_draft, ECHO]
    assert items[1] == body

    one = api.client.get(f"/api/workflows/{workflow_id}/versions/1", headers=api.headers())
    assert one.status_code == 200
    assert one.json() == body
    assert api.client.get(f"/api/workflows/{workflow_id}/versions/2", headers=api.headers()).json() == second.json()


def test_publish_an_invalid_draft_is_422(api: Api) -> None:
    workflow_id = create(api, workflow=BROKEN)["id"]
    body = assert_error(
        api.client.post(f"/api/workflows/{workflow_id}/publish", headers=api.headers()), 422, "invalid_workflow"
    )
    assert problems_of(body) == BROKEN_PROBLEMS
    assert api.client.get(f"/api/workflows/{workflow_id}/versions", headers=api.headers()).json() == {"items": []}
    assert api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()["published_version"] is None


def test_publish_with_a_stale_version_is_409(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    api.client.patch(url, headers=api.headers(), json={"name": "changed"})
    body = assert_error(api.client.post(f"{url}/publish", headers=api.headers(), json={"version": 1}), 409, "conflict")
    assert body["current_version"] == 2
    stale = api.client.post(f"{url}/publish", headers={**api.headers(), "If-Match": '"1"'})
    assert assert_error(stale, 409, "conflict")["current_version"] == 2
    assert api.client.get(f"{url}/versions", headers=api.headers()).json() == {"items": []}
    fresh = api.client.post(f"{url}/publish", headers={**api.headers(), "If-Match": '"2"'})
    assert (fresh.status_code, fresh.json()["number"]) == (201, 1)
    assert_error(api.client.post(f"{url}/publish", headers=api.headers(), json={"zz": 1}), 400, "bad_request")
    assert_error(api.client.post("/api/workflows/nope/publish", headers=api.headers()), 404, "not_found")


def test_a_published_version_keeps_its_author_and_message(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    first = api.client.post(f"{url}/publish", headers=api.headers("acme", "ann"), json={"message": "First cut"})
    assert first.status_code == 201, first.text
    assert (first.json()["author"], first.json()["message"]) == ("ann", "First cut")

    api.client.patch(url, headers=api.headers(), json={"workflow": ECHO, "description": "v2"})
    second = api.client.post(f"{url}/publish", headers=api.headers("acme", "bob"))  # no body: no message
    assert (second.json()["author"], second.json()["message"]) == ("bob", None)
    third = api.client.post(f"{url}/publish", headers=api.server_headers("acme"), json={"message": "From the backend"})
    assert (third.json()["author"], third.json()["message"]) == ("server", "From the backend")
    updated = api.client.put(url, headers=api.headers("acme", "cy"), json={"publish": True})
    assert updated.json()["published_version"] == 4

    items = api.client.get(f"{url}/versions", headers=api.headers()).json()["items"]
    assert [(v["number"], v["author"], v["message"]) for v in items] == [
        (4, "cy", None),
        (3, "server", "From the backend"),
        (2, "bob", None),
        (1, "ann", "First cut"),
    ]
    assert api.client.get(f"{url}/versions/1", headers=api.headers()).json() == first.json()
    created = create(api, publish=True)
    [version] = api.client.get(f"/api/workflows/{created['id']}/versions", headers=api.headers()).json()["items"]
    assert (version["author"], version["message"]) == ("ann", None)
    # A test run's snapshot has neither.
    run_id = api.client.post(f"{url}/test", headers=api.headers()).json()["run_id"]
    snapshot = api.client.get(f"/api/runs/{run_id}/workflow", headers=api.headers()).json()
    assert (snapshot["number"], snapshot["author"], snapshot["message"]) == (None, None, None)


def test_a_publish_message_over_500_characters_or_with_nul_is_422(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    for message in ("m" * 501, "before\u0000after"):
        response = api.client.post(f"{url}/publish", headers=api.headers(), json={"message": message})
        body = assert_error(response, 422, "invalid_workflow")
        assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_message", "message")]
    assert api.client.get(f"{url}/versions", headers=api.headers()).json() == {"items": []}
    longest = api.client.post(f"{url}/publish", headers=api.headers(), json={"message": "m" * 500})
    assert (longest.status_code, longest.json()["message"]) == (201, "m" * 500)


def test_version_errors(api: Api) -> None:
    workflow_id = create(api, publish=True)["id"]
    body = assert_error(
        api.client.get(f"/api/workflows/{workflow_id}/versions/2", headers=api.headers()), 404, "not_found"
    )
    assert "2" in body["message"]
    assert_error(api.client.get(f"/api/workflows/{workflow_id}/versions/0", headers=api.headers()), 400, "bad_request")
    assert_error(api.client.get("/api/workflows/nope/versions", headers=api.headers()), 404, "not_found")
    assert_error(api.client.get("/api/workflows/nope/versions/1", headers=api.headers()), 404, "not_found")


# -- enable and disable ---------------------------------------------------------------------------


def test_enable_needs_a_published_version(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}"
    body = assert_error(api.client.post(f"{url}/enable", headers=api.headers()), 422, "invalid_workflow")
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("not_published", "published_version")]
    assert api.client.get(url, headers=api.headers()).json()["enabled"] is False

    assert api.client.post(f"{url}/publish", headers=api.headers()).status_code == 201
    enabled = api.client.post(f"{url}/enable", headers=api.headers())
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] is True
    assert enabled.json()["published_version"] == 1
    assert enabled.headers["etag"] == '"1"'
    assert api.client.post(f"{url}/enable", headers=api.headers()).json()["enabled"] is True
    assert api.client.get(url, headers=api.headers()).json()["enabled"] is True

    disabled = api.client.post(f"{url}/disable", headers=api.headers())
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert api.client.post(f"{url}/disable", headers=api.headers()).json()["enabled"] is False
    assert api.client.get(url, headers=api.headers()).json()["enabled"] is False

    assert_error(api.client.post("/api/workflows/nope/enable", headers=api.headers()), 404, "not_found")
    assert_error(api.client.post("/api/workflows/nope/disable", headers=api.headers()), 404, "not_found")


def test_enabled_workflows_start_on_events_and_disabled_ones_do_not(api: Api) -> None:
    workflow_id = create(api, publish=True)["id"]
    headers = api.headers()
    api.client.post(f"/api/workflows/{workflow_id}/disable", headers=headers)
    api.client.post("/api/events", headers=headers, json={"name": "app/x", "data": {"x": 1}})
    api.client.post(f"/api/workflows/{workflow_id}/enable", headers=headers)
    api.client.post("/api/events", headers=headers, json={"name": "app/x", "data": {"x": 2}})
    deadline = time.monotonic() + 20
    while True:
        runs = api.client.get(f"/api/runs?workflow_id={workflow_id}", headers=headers).json()["items"]
        if runs and all(r["status"] == "completed" for r in runs):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)
    assert [r["output"] for r in runs] == [{"a": {"x": 2}}]


# -- export and import ----------------------------------------------------------------------------


def test_export_in_the_typescript_kit_format(api: Api) -> None:
    created = create(api, name="Exported", description="desc", trigger={"event": "app/x", "if": "event.data.x > 1"})
    response = api.client.get(f"/api/workflows/{created['id']}/export", headers=api.headers())
    assert response.status_code == 200, response.text
    exported = response.json()
    assert exported == {
        "name": "Exported",
        "description": "desc",
        "actions": ECHO["actions"],
        "edges": ECHO["edges"],
        "metadata": {
            "trigger": {"event": "app/x", "if": "event.data.x > 1"},
            "settings": {},
            # the draft itself has no name nor description: importing it again keeps it so
            "draft": {"name": None, "description": None},
        },
    }
    assert_error(api.client.get("/api/workflows/nope/export", headers=api.headers()), 404, "not_found")


def test_import_a_typescript_kit_workflow(api: Api) -> None:
    response = api.client.post(
        "/api/workflows/import?trigger=blog-post.updated", headers=api.headers(), json=TS_WORKFLOW
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Blog post review"
    assert body["trigger"] == {"event": "blog-post.updated"}
    assert body["published_version"] is None
    assert body["enabled"] is False
    assert body["version"] == 1
    assert body["problems"] == []
    assert body["draft"] == TS_WORKFLOW
    assert body["draft"]["workflowVersion"] == 3
    assert body["draft"]["createdBy"] == {"id": "u-1"}
    assert body["draft"]["actions"][0]["ui"] == {"x": 10}
    assert body["draft"]["edges"][0]["style"] == "dashed"
    stored = api.client.get(f"/api/workflows/{body['id']}", headers=api.headers()).json()
    assert stored["draft"] == TS_WORKFLOW

    # and it runs, refs by numeric id included
    run_id = api.client.post(
        f"/api/workflows/{body['id']}/test",
        headers=api.headers(),
        json={"event": {"name": "blog-post.updated", "data": {"title": "Hello"}}},
    ).json()["run_id"]
    run = wait_for_run(api, run_id)
    assert run["status"] == "completed", run
    assert run["output"] == {"1": {"x": "Hello"}, "2": {"y": "Hello"}}


def test_import_names(api: Api) -> None:
    named = api.client.post(
        "/api/workflows/import?trigger=app/x&name=Chosen", headers=api.headers(), json=TS_WORKFLOW
    ).json()
    assert named["name"] == "Chosen"
    nameless = {k: v for k, v in TS_WORKFLOW.items() if k != "name"}
    unnamed = api.client.post("/api/workflows/import?trigger=app/x", headers=api.headers(), json=nameless).json()
    assert unnamed["name"] == "Imported workflow"


def test_a_typescript_kit_file_imports_as_is_with_a_placeholder_trigger(api: Api) -> None:
    response = api.client.post("/api/workflows/import", headers=api.headers(), json=TS_WORKFLOW)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["trigger"] == {"event": "imported/" + re.sub(r"[^a-z0-9]+", "-", TS_WORKFLOW["name"].lower())}
    assert record["enabled"] is False and record["published_version"] is None
    assert record["draft"]["actions"] == TS_WORKFLOW["actions"]
    # The placeholder is replaced like any trigger, before it is enabled.
    changed = api.client.put(
        f"/api/workflows/{record['id']}", headers=api.headers(), json={"trigger": {"event": "app/real"}}
    )
    assert changed.status_code == 200 and changed.json()["trigger"] == {"event": "app/real"}


def test_import_errors(api: Api) -> None:
    bad_wildcard = api.client.post("/api/workflows/import?trigger=app/x*", headers=api.headers(), json=TS_WORKFLOW)
    body = assert_error(bad_wildcard, 422, "invalid_workflow")
    assert [p["path"] for p in body["problems"]] == ["trigger.event"]
    unloadable = api.client.post("/api/workflows/import?trigger=app/x", headers=api.headers(), json={"actions": 5})
    body = assert_error(unloadable, 422, "invalid_workflow")
    assert [(p["code"], p["path"]) for p in body["problems"]] == [("invalid_format", "actions")]
    assert_error(
        api.client.post("/api/workflows/import?trigger=app/x", headers=api.headers(), json=[TS_WORKFLOW]),
        400,
        "bad_request",
    )
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_the_query_trigger_wins_over_the_instance_metadata(api: Api) -> None:
    instance = {**TS_WORKFLOW, "metadata": {"trigger": {"event": "app/from-metadata"}}}
    from_metadata = api.client.post("/api/workflows/import", headers=api.headers(), json=instance).json()
    assert from_metadata["trigger"] == {"event": "app/from-metadata"}
    from_query = api.client.post("/api/workflows/import?trigger=app/from-query", headers=api.headers(), json=instance)
    assert from_query.json()["trigger"] == {"event": "app/from-query"}


def test_export_then_import_round_trips_exactly(api: Api) -> None:
    rich = {
        "name": "Rich",
        "description": "every feature",
        "metadata": {"owner": "ann", "ui": {"zoom": 1.5}},
        "actions": [
            {"id": "1", "kind": "echo", "name": "First", "inputs": {"v": "!ref($.event.data.v)"}, "pos": [1, 2]},
            {"id": "2", "kind": "builtin:if", "description": "branch", "inputs": {"condition": "event.data.v > 1"}},
            {"id": "3", "kind": "echo", "inputs": {}},
            {"id": "4", "kind": "echo", "inputs": {"nested": {"list": [1, "two", None, {"x": True}]}}},
        ],
        "edges": [
            {"from": "$source", "to": "1"},
            {"from": "1", "to": "2", "style": "dashed"},
            {"from": "2", "to": "3", "name": "True", "conditional": {"type": "if", "ref": "!ref($.output.result)"}},
            {
                "from": "2",
                "to": "4",
                "name": "False",
                "conditional": {"type": "match", "ref": "!ref($.output.result)", "value": False, "note": "n"},
            },
        ],
        "schemaVersion": 2,
    }
    original = api.client.post(
        "/api/workflows",
        headers=api.headers(),
        json={
            "name": "Rich",
            "description": "every feature",
            "trigger": {"event": "app/rich", "if": "event.data.v > 0"},
            "workflow": rich,
        },
    ).json()
    assert original["problems"] == []
    exported = api.client.get(f"/api/workflows/{original['id']}/export", headers=api.headers()).json()
    assert exported == {
        **rich,
        "metadata": {**rich["metadata"], "trigger": {"event": "app/rich", "if": "event.data.v > 0"}, "settings": {}},
    }

    imported = api.client.post("/api/workflows/import", headers=api.headers(), json=exported)
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["id"] != original["id"]
    assert copy["draft"] == rich == original["draft"]
    for key in ("name", "description", "trigger", "problems", "settings", "published_version", "enabled", "version"):
        assert copy[key] == original[key], key
    again = api.client.get(f"/api/workflows/{copy['id']}/export", headers=api.headers()).json()
    assert json.dumps(again, sort_keys=True) == json.dumps(exported, sort_keys=True)
    assert again == exported


SETTINGS = {
    "concurrency": [{"limit": 2, "key": "event.data.account"}],
    "throttle": {"limit": 5, "period": "1m", "burst": 2},
    "debounce": {"period": "30s", "key": "event.data.account", "timeout": "5m"},
    "cancel_on": [{"event": "app/stop", "if_exp": "async.data.id == event.data.id", "timeout": "1h"}],
    "retries": 2,
}


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in ("name", "description", "trigger", "settings", "draft", "problems")}


def test_an_export_carries_the_settings_and_importing_it_restores_the_same_record(api: Api) -> None:
    draft = {"actions": ECHO["actions"], "edges": ECHO["edges"]}  # a draft with no name of its own
    original = create(
        api,
        name="Flow controlled",
        description="throttled, debounced, cancellable",
        trigger={"event": "app/x", "if": "event.data.v > 0"},
        workflow=draft,
        settings=SETTINGS,
    )
    assert original["settings"] == SETTINGS
    exported = api.client.get(f"/api/workflows/{original['id']}/export", headers=api.headers()).json()
    assert exported["name"] == "Flow controlled" and exported["description"] == "throttled, debounced, cancellable"
    assert exported["metadata"]["trigger"] == {"event": "app/x", "if": "event.data.v > 0"}
    assert exported["metadata"]["settings"] == SETTINGS
    assert exported["actions"] == draft["actions"] and exported["edges"] == draft["edges"]

    imported = api.client.post("/api/workflows/import", headers=api.headers(), json=exported)
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert record_fields(copy) == record_fields(original)
    assert copy["draft"] == draft  # nothing the export added stays in the draft
    assert copy["enabled"] is False and copy["published_version"] is None
    stored = api.client.get(f"/api/workflows/{copy['id']}", headers=api.headers()).json()
    assert record_fields(stored) == record_fields(original)
    again = api.client.get(f"/api/workflows/{copy['id']}/export", headers=api.headers()).json()
    assert again == exported


def test_a_renamed_workflow_round_trips_with_its_drafts_own_name(api: Api) -> None:
    original = create(api, name="First name", workflow={**ECHO, "name": "First name", "description": "old"})
    renamed = api.client.put(
        f"/api/workflows/{original['id']}",
        headers=api.headers(),
        json={"name": "Second name", "description": "", "version": original["version"]},
    ).json()
    assert renamed["name"] == "Second name" and renamed["draft"]["name"] == "First name"
    exported = api.client.get(f"/api/workflows/{original['id']}/export", headers=api.headers()).json()
    assert exported["name"] == "Second name" and "description" not in exported
    copy = api.client.post("/api/workflows/import", headers=api.headers(), json=exported).json()
    assert record_fields(copy) == record_fields(renamed)


def test_an_old_export_without_settings_still_imports(api: Api) -> None:
    old = {**ECHO, "name": "Old", "metadata": {"trigger": {"event": "app/old"}}}
    response = api.client.post("/api/workflows/import", headers=api.headers(), json=old)
    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["name"], record["trigger"], record["settings"]) == ("Old", {"event": "app/old"}, {})
    assert record["draft"] == {k: v for k, v in old.items() if k != "metadata"}


def test_an_export_with_bad_settings_is_refused_with_their_path(api: Api) -> None:
    exported = {**ECHO, "name": "Bad", "metadata": {"trigger": {"event": "app/x"}, "settings": {"retries": 99}}}
    body = assert_error(
        api.client.post("/api/workflows/import", headers=api.headers(), json=exported), 422, "invalid_workflow"
    )
    assert [p["path"] for p in body["problems"]] == ["settings.retries"]
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


# -- test runs of the draft -----------------------------------------------------------------------


def test_a_test_run_uses_the_draft_of_a_never_published_workflow(api: Api) -> None:
    workflow_id = create(api)["id"]
    response = api.client.post(
        f"/api/workflows/{workflow_id}/test",
        headers=api.headers(),
        json={"event": {"name": "app/x", "data": {"x": 41}}},
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"run_id"}
    run = wait_for_run(api, response.json()["run_id"])
    assert run["status"] == "completed", run
    assert run["workflow_id"] == workflow_id
    assert run["version"] is None
    assert run["event"]["name"] == "app/x" and run["event"]["data"] == {"x": 41}
    assert run["output"] == {"a": {"x": 41}}
    assert run["actions"][0]["inputs"] == {"x": 41}
    record = api.client.get(f"/api/workflows/{workflow_id}", headers=api.headers()).json()
    assert (record["published_version"], record["enabled"]) == (None, False)
    assert api.client.get(f"/api/workflows/{workflow_id}/versions", headers=api.headers()).json() == {"items": []}


def test_the_next_test_run_uses_the_edited_draft_not_the_published_version(api: Api) -> None:
    workflow_id = create(api, publish=True, enabled=True)["id"]
    url = f"/api/workflows/{workflow_id}"
    event = {"event": {"name": "app/x", "data": {"x": 1}}}
    first = wait_for_run(api, api.client.post(f"{url}/test", headers=api.headers(), json=event).json()["run_id"])
    assert first["output"] == {"a": {"x": 1}}

    edited = {
        "actions": [
            {"id": "a", "kind": "echo", "inputs": {"doubled": "!ref($.event.data.x)", "tag": "draft-2"}},
            {"id": "b", "kind": "echo", "inputs": {"from_a": "!ref($.state.a.tag)"}},
        ],
        "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
    }
    assert api.client.put(url, headers=api.headers(), json={"workflow": edited}).status_code == 200
    second = wait_for_run(api, api.client.post(f"{url}/test", headers=api.headers(), json=event).json()["run_id"])
    assert second["status"] == "completed", second
    assert second["output"] == {"a": {"doubled": 1, "tag": "draft-2"}, "b": {"from_a": "draft-2"}}
    assert second["version_id"] != first["version_id"]
    # the published version is untouched
    assert api.client.get(f"{url}/versions/1", headers=api.headers()).json()["workflow"] == ECHO
    assert api.client.get(url, headers=api.headers()).json()["published_version"] == 1


def test_a_test_run_without_an_event_uses_the_trigger_name(api: Api) -> None:
    workflow_id = create(
        api,
        workflow={
            "actions": [{"id": "a", "kind": "echo", "inputs": {"n": "!ref($.event.name)"}}],
            "edges": [{"from": "$source", "to": "a"}],
        },
    )["id"]
    response = api.client.post(f"/api/workflows/{workflow_id}/test", headers=api.headers())
    assert response.status_code == 201, response.text
    run = wait_for_run(api, response.json()["run_id"])
    assert run["output"] == {"a": {"n": "app/x"}}


def test_a_test_run_of_an_invalid_draft_is_422(api: Api) -> None:
    workflow_id = create(api, workflow=BROKEN)["id"]
    response = api.client.post(
        f"/api/workflows/{workflow_id}/test", headers=api.headers(), json={"event": {"name": "app/x", "data": {}}}
    )
    assert problems_of(assert_error(response, 422, "invalid_workflow")) == BROKEN_PROBLEMS
    assert api.client.get(f"/api/runs?workflow_id={workflow_id}", headers=api.headers()).json()["items"] == []


def test_test_run_errors(api: Api) -> None:
    workflow_id = create(api)["id"]
    url = f"/api/workflows/{workflow_id}/test"
    assert_error(api.client.post(url, headers=api.headers(), json={"zz": 1}), 400, "bad_request")
    assert_error(api.client.post(url, headers=api.headers(), json={"event": {"data": {}}}), 400, "bad_request")
    assert_error(
        api.client.post(url, headers=api.headers(), json={"event": {"name": "app/x", "data": 3}}), 400, "bad_request"
    )
    assert_error(
        api.client.post("/api/workflows/nope/test", headers=api.headers(), json={"event": {"name": "app/x"}}),
        404,
        "not_found",
    )
    assert api.client.get(f"/api/runs?workflow_id={workflow_id}", headers=api.headers()).json()["items"] == []


# -- size limit -----------------------------------------------------------------------------------


def test_a_body_over_8_mb_is_413(api: Api) -> None:
    big = {"name": "big", "trigger": {"event": "app/x"}, "workflow": {**ECHO, "blob": "x" * (8 * 1024 * 1024)}}
    response = api.client.post("/api/workflows", headers=api.headers(), content=json.dumps(big).encode())
    body = assert_error(response, 413, "too_large")
    assert set(body) <= {"code", "message", "path"}
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_flow_control_settings_are_saved_and_checked(api: Api) -> None:
    settings = {"concurrency": [{"limit": 2, "key": "event.data.user"}], "debounce": {"period": "30s"}}
    created = create(api, settings=settings)
    assert created["settings"] == settings
    url = f"/api/workflows/{created['id']}"
    bad = {"throttle": {"limit": 1, "period": "1y"}, "idempotency": "event.data.("}
    body = assert_error(api.client.patch(url, headers=api.headers(), json={"settings": bad}), 422, "invalid_workflow")
    assert sorted(p["path"] for p in body["problems"]) == ["settings.idempotency", "settings.throttle.period"]
    assert api.client.get(url, headers=api.headers()).json()["settings"] == settings  # nothing stored


def test_the_settings_schema_is_served(api: Api) -> None:
    response = api.client.get("/api/settings-schema", headers=api.headers())
    assert response.status_code == 200
    schema = response.json()
    assert "concurrency" in schema["$defs"]["WorkflowSettings"]["properties"]
    assert api.client.get("/api/settings-schema").status_code == 401


# -- several triggers ---------------------------------------------------------------------------------

ORDERS = {"event": "shop/order.created", "if": "event.data.total > 100"}
DAILY = {"cron": "TZ=Europe/Paris 0 9 * * *"}


def runs_of(api: Api, workflow_id: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The workflow's runs once there are `count`, each ended."""
    deadline = time.monotonic() + timeout
    while True:
        runs = api.client.get(f"/api/runs?workflow_id={workflow_id}", headers=api.headers()).json()["items"]
        if len(runs) >= count and all(r["status"] in ("completed", "failed") for r in runs):
            return list(runs)
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)


def test_a_workflow_with_several_triggers(api: Api) -> None:
    created = create(
        api, trigger=None, triggers=[ORDERS, {"event": "shop/refund.*"}, DAILY], publish=True, enabled=True
    )
    assert created["triggers"] == [ORDERS, {"event": "shop/refund.*"}, DAILY]
    assert created["trigger"] == ORDERS  # the first, for clients that know one trigger
    assert created["next_tick_at"] is not None  # the daily schedule's next tick
    url = f"/api/workflows/{created['id']}"
    got = api.client.get(url, headers=api.headers()).json()
    assert (got["triggers"], got["trigger"]) == (created["triggers"], ORDERS)
    [version] = api.client.get(f"{url}/versions", headers=api.headers()).json()["items"]
    assert (version["triggers"], version["trigger"]) == (created["triggers"], ORDERS)

    headers = api.headers()
    api.client.post("/api/events", headers=headers, json={"name": "shop/order.created", "data": {"x": 1, "total": 9}})
    api.client.post("/api/events", headers=headers, json={"name": "shop/refund.issued", "data": {"x": 2}})
    runs = runs_of(api, created["id"], 1)
    time.sleep(0.2)  # the small order started nothing
    runs = runs_of(api, created["id"], 1)
    assert [(r["event"]["name"], r["trigger"], r["output"]) for r in runs] == [
        ("shop/refund.issued", {"index": 1, "event": "shop/refund.*"}, {"a": {"x": 2}})
    ]


def test_updating_the_triggers(api: Api) -> None:
    created = create(api)
    url = f"/api/workflows/{created['id']}"
    headers = api.headers()
    changed = api.client.put(url, headers=headers, json={"triggers": [{"event": "app/a"}, DAILY]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["triggers"], changed.json()["trigger"]) == ([{"event": "app/a"}, DAILY], {"event": "app/a"})

    # A record read and sent back carries both: an old client changes `trigger`, which replaces the first ...
    record = changed.json()
    old_client = api.client.put(url, headers=headers, json={**record, "trigger": {"event": "app/b"}})
    assert old_client.status_code == 200, old_client.text
    assert old_client.json()["triggers"] == [{"event": "app/b"}, DAILY]
    # ... a new one changes `triggers`, leaving `trigger` as it read it.
    record = old_client.json()
    new_client = api.client.put(url, headers=headers, json={**record, "triggers": [DAILY]})
    assert new_client.json()["triggers"] == [DAILY]
    # `trigger` alone (no `triggers`): the workflow has that one trigger.
    alone = api.client.patch(url, headers=headers, json={"trigger": {"event": "app/c"}})
    assert alone.json()["triggers"] == [{"event": "app/c"}]


def test_bad_triggers_are_422_with_their_paths(api: Api) -> None:
    too_many = create(api, 422, trigger=None, triggers=[{"event": f"app/e{i}"} for i in range(11)])
    assert problems_of(too_many) == {("too_many_triggers", "triggers")}
    twice = create(api, 422, trigger=None, triggers=[{"event": "app/a"}, {"event": "app/a"}])
    assert problems_of(twice) == {("duplicate_trigger", "triggers[1]")}
    bad = create(
        api,
        422,
        trigger=None,
        triggers=[{"event": "app/ok"}, {"event": "app/x", "if": "event.data.n >"}, {"cron": "x"}],
    )
    assert problems_of(bad) == {("invalid_expression", "triggers[1].if"), ("invalid_trigger", "triggers[2].cron")}
    none = create(api, 422, trigger=None)
    assert problems_of(none) == {("invalid_trigger", "triggers")}
    assert_error(
        api.client.post(
            "/api/workflows", headers=api.headers(), json={"name": "x", "triggers": [{"evnt": "a"}], "workflow": ECHO}
        ),
        400,
        "bad_request",
    )
    assert api.client.get("/api/workflows", headers=api.headers()).json()["items"] == []


def test_validate_an_instance_with_its_triggers(api: Api) -> None:
    def check(body: dict[str, Any]) -> set[tuple[str, str]]:
        response = api.client.post("/api/workflows/validate", headers=api.headers(), json=body)
        assert response.status_code == 200, response.text
        return problems_of(response.json())

    assert check({"workflow": ECHO, "triggers": [ORDERS, DAILY]}) == set()
    assert check({"workflow": ECHO, "triggers": [ORDERS, {"event": "app/x", "if": ")"}, ORDERS]}) == {
        ("invalid_expression", "triggers[1].if"),
        ("duplicate_trigger", "triggers[2]"),
    }
    assert check({"workflow": ECHO, "triggers": []}) == {("invalid_trigger", "triggers")}


def test_an_export_with_several_triggers_imports_them_again(api: Api) -> None:
    created = create(api, trigger=None, triggers=[ORDERS, DAILY])
    exported = api.client.get(f"/api/workflows/{created['id']}/export", headers=api.headers()).json()
    assert exported["metadata"]["triggers"] == [ORDERS, DAILY]
    assert "trigger" not in exported["metadata"]
    imported = api.client.post("/api/workflows/import", headers=api.headers(), json=exported).json()
    assert imported["triggers"] == [ORDERS, DAILY]
    assert api.client.get(f"/api/workflows/{imported['id']}/export", headers=api.headers()).json() == exported
    # one trigger exports as before (older versions import it)
    single = create(api, trigger=ORDERS)
    exported = api.client.get(f"/api/workflows/{single['id']}/export", headers=api.headers()).json()
    assert exported["metadata"]["trigger"] == ORDERS and "triggers" not in exported["metadata"]


def test_the_openapi_document_describes_the_triggers(api: Api) -> None:
    schemas = api.client.get("/schema/openapi.json").json()["components"]["schemas"]
    create_body = schemas["WorkflowCreate"]["properties"]
    assert create_body["triggers"]["oneOf"][0]["items"] == {"$ref": "#/components/schemas/Trigger"}
    assert "10" in create_body["triggers"]["description"]
    assert set(schemas["WorkflowOut"]["required"]) >= {"triggers", "trigger"}
    assert "triggers" in schemas["WorkflowUpdate"]["properties"]
    assert "trigger" in schemas["Run"]["properties"]
