"""Issue 4 errors and OpenAPI: JSON {code, message, path?} with 400, 401, 404, 409, 413, 422 (every problem
with its path), and OpenAPI 3.1 at /schema/openapi.json with typed routes."""

from __future__ import annotations

from typing import Any

import jsonschema

from acceptance.issue4_support import ADD_WF, Api


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return dict(body)


def test_400_malformed_json_and_bodies(api: Api) -> None:
    h = {**api.h(), "Content-Type": "application/json"}
    _error(api.client.post("/api/workflows", content=b'{"name": ', headers=h), 400)
    _error(api.client.post("/api/events", content=b"not json", headers=h), 400)
    _error(api.client.post("/api/workflows", json=[1, 2], headers=api.h()), 400)
    # a field of the wrong type: 400 with the field's path
    body = _error(
        api.client.post(
            "/api/workflows", json={"name": 5, "trigger": {"event": "a/b"}, "workflow": ADD_WF}, headers=api.h()
        ),
        400,
    )
    assert body.get("path") == "name" or "name" in body["message"]
    body = _error(
        api.client.post("/api/workflows", json={"trigger": {"event": "a/b"}, "workflow": ADD_WF}, headers=api.h()), 400
    )
    assert "name" in (body.get("path") or "") + body["message"]
    _error(api.client.post("/api/events", json={"data": {}}, headers=api.h()), 400)  # no event name
    _error(api.client.get("/api/runs", params={"limit": "lots"}, headers=api.h()), 400)


def test_400_event_with_nested_error_has_a_path(api: Api) -> None:
    r = api.client.post("/api/events", json=[{"name": "app/a"}, {"name": "app/b", "data": "nope"}], headers=api.h())
    body = _error(r, 400)
    assert "1" in (body.get("path") or body["message"])


def test_401_without_token(api: Api) -> None:
    for method, url in [
        ("GET", "/api/actions"),
        ("GET", "/api/workflows"),
        ("POST", "/api/events"),
        ("GET", "/api/runs"),
    ]:
        body = _error(api.client.request(method, url, json={"name": "a/b"} if method == "POST" else None), 401)
        assert body["code"]


def test_404_unknown_ids(api: Api) -> None:
    for method, url in [
        ("GET", "/api/workflows/nope"),
        ("PUT", "/api/workflows/nope"),
        ("DELETE", "/api/workflows/nope"),
        ("POST", "/api/workflows/nope/publish"),
        ("GET", "/api/workflows/nope/versions"),
        ("POST", "/api/workflows/nope/enable"),
        ("GET", "/api/workflows/nope/export"),
        ("POST", "/api/workflows/nope/test"),
        ("GET", "/api/runs/nope"),
        ("POST", "/api/runs/nope/cancel"),
        ("POST", "/api/runs/nope/rerun"),
        ("GET", "/api/runs/nope/stream"),
        ("GET", "/api/events/nope"),
    ]:
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PUT" else {}
        _error(api.client.request(method, url, headers=api.h(), **kwargs), 404)
    _error(api.client.get("/api/no-such-route", headers=api.h()), 404)


def test_409_stale_version_and_if_match(api: Api) -> None:
    w = api.create()
    api.client.put(f"/api/workflows/{w['id']}", json={"name": "n2", "version": w["version"]}, headers=api.h())
    _error(
        api.client.put(f"/api/workflows/{w['id']}", json={"name": "n3", "version": w["version"]}, headers=api.h()), 409
    )
    _error(
        api.client.put(
            f"/api/workflows/{w['id']}", json={"name": "n3"}, headers={**api.h(), "If-Match": f'"{w["version"]}"'}
        ),
        409,
    )


def test_413_too_large_body(api: Api) -> None:
    big = b'{"name": "app/big", "data": {"x": "' + b"a" * (9 * 1024 * 1024) + b'"}}'
    _error(api.client.post("/api/events", content=big, headers={**api.h(), "Content-Type": "application/json"}), 413)
    w = api.create()
    huge = {"name": "x", "version": w["version"], "workflow": {**ADD_WF, "metadata": {"blob": "b" * (9 * 1024 * 1024)}}}
    _error(api.client.put(f"/api/workflows/{w['id']}", json=huge, headers=api.h()), 413)


def test_oversized_event_is_refused(api: Api) -> None:
    r = api.client.post("/api/events", json={"name": "app/big", "data": {"x": "a" * 600_000}}, headers=api.h())
    assert r.status_code in (400, 413)
    _error(r, r.status_code)


BAD_WF: dict[str, Any] = {
    "actions": [
        {"id": "one", "kind": "no-such-kind"},
        {"id": "two", "kind": "add", "inputs": {"a": "text", "b": 1}},
        {"id": "two", "kind": "add", "inputs": {"a": 1, "b": 1}},
    ],
    "edges": [{"from": "$source", "to": "one"}, {"from": "one", "to": "ghost"}, {"from": "$source", "to": "two"}],
}


def _problem_paths(body: dict[str, Any]) -> list[str]:
    problems = body["problems"]
    assert all(isinstance(p["code"], str) and isinstance(p["path"], str) and p["message"] for p in problems)
    return [p["path"] for p in problems]


def test_422_invalid_workflow_with_every_problem_and_its_path(api: Api) -> None:
    expected = {"validate": api.client.post("/api/workflows/validate", json=BAD_WF, headers=api.h()).json()}
    want = sorted(_problem_paths(expected["validate"]))
    assert len(want) >= 4
    # publishing an invalid draft
    r = api.client.post(
        "/api/workflows", json={"name": "bad", "trigger": {"event": "a/b"}, "workflow": BAD_WF}, headers=api.h()
    )
    if r.status_code == 422:  # refusing to store it is one reasonable reading
        assert sorted(_problem_paths(_error(r, 422))) == want
        return
    assert r.status_code == 201
    w = r.json()
    body = _error(api.client.post(f"/api/workflows/{w['id']}/publish", headers=api.h()), 422)
    assert sorted(_problem_paths(body)) == want
    assert api.client.get(f"/api/workflows/{w['id']}/versions", headers=api.h()).json()["items"] == []
    body = _error(
        api.client.post(f"/api/workflows/{w['id']}/test", json={"event": {"name": "a/b", "data": {}}}, headers=api.h()),
        422,
    )
    assert sorted(_problem_paths(body)) == want
    # publish in one go with create, and with an update
    r = api.client.post(
        "/api/workflows",
        json={"name": "bad", "trigger": {"event": "a/b"}, "workflow": BAD_WF, "publish": True},
        headers=api.h(),
    )
    assert sorted(_problem_paths(_error(r, 422))) == want


def test_422_bad_trigger_condition_has_its_path(api: Api) -> None:
    r = api.client.post(
        "/api/workflows",
        json={"name": "t", "trigger": {"event": "a/b", "if": "event.data.(("}, "workflow": ADD_WF, "publish": True},
        headers=api.h(),
    )
    body = _error(r, 422)
    assert any(p.startswith("trigger") for p in _problem_paths(body))


def test_422_structurally_broken_instance(api: Api) -> None:
    r = api.client.post(
        "/api/workflows",
        json={"name": "t", "trigger": {"event": "a/b"}, "workflow": {"actions": "x", "edges": []}},
        headers=api.h(),
    )
    assert r.status_code in (400, 422)
    body = _error(r, r.status_code)
    assert "actions" in (body.get("path") or "") + str(body.get("problems")) + body["message"]


def test_update_accepts_the_record_draft_key(api: Api) -> None:
    w = api.create()
    draft = {"actions": [{"id": "sum", "kind": "add", "inputs": {"a": 7, "b": 1}}], "edges": ADD_WF["edges"]}
    r = api.client.put(f"/api/workflows/{w['id']}", json={"draft": draft, "version": w["version"]}, headers=api.h())
    assert r.status_code == 200, r.text
    assert r.json()["draft"]["actions"] == draft["actions"]


def test_openapi_31_with_typed_routes(api: Api) -> None:
    r = api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for route in [
        "/api/actions",
        "/api/workflows",
        "/api/workflows/{workflow_id}",
        "/api/workflows/validate",
        "/api/workflows/{workflow_id}/publish",
        "/api/workflows/{workflow_id}/versions",
        "/api/workflows/{workflow_id}/enable",
        "/api/workflows/{workflow_id}/disable",
        "/api/workflows/{workflow_id}/export",
        "/api/workflows/import",
        "/api/workflows/{workflow_id}/test",
        "/api/events",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/cancel",
        "/api/runs/{run_id}/rerun",
        "/api/runs/{run_id}/stream",
    ]:
        assert route in paths, route
    schemas = doc["components"]["schemas"]
    for method, route in [("post", "/api/workflows"), ("put", "/api/workflows/{workflow_id}")]:
        ref = paths[route][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.split("/")[-1] in schemas
    record = schemas[
        paths["/api/workflows/{workflow_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"
        ].split("/")[-1]
    ]
    assert {"id", "name", "trigger", "enabled", "version", "draft", "settings"} <= set(record["properties"])
    for route, ops in paths.items():
        for method, op in ops.items():
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, (method, route)


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "components": doc["components"]}


def test_openapi_documents_the_error_shape(api: Api) -> None:
    doc = api.client.get("/schema/openapi.json").json()
    op = doc["paths"]["/api/workflows/{workflow_id}"]["put"]
    for status in ("400", "401", "404", "409", "422"):
        assert status in op["responses"], status
    actual = api.client.get("/api/workflows", params={"limit": "x"}, headers=api.h()).json()
    schema = op["responses"]["400"]["content"]["application/json"]["schema"]
    jsonschema.validate(actual, _resolve(doc, schema))


def test_openapi_types_the_stream_route(api: Api) -> None:
    doc = api.client.get("/schema/openapi.json").json()
    content = doc["paths"]["/api/runs/{run_id}/stream"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in content
