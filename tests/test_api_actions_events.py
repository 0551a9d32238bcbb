"""The editor API's action catalog, events, health check and OpenAPI document through a TestClient."""

from __future__ import annotations

import re
import time
from typing import Any

from conftest import Api
from helpers import assert_error
from jsonschema import Draft202012Validator

BUILTINS = {
    "builtin:if",
    "builtin:sleep",
    "builtin:sleep_until",
    "builtin:wait_for_event",
    "builtin:send_event",
    "builtin:invoke",
    "builtin:for_each",
    "builtin:repeat_until",
}


def names_field(body: dict[str, Any], field: str) -> bool:
    """Whether an error body says which field is wrong (in its path or its message)."""
    return field in (body.get("path") or "") or f"`{field}`" in body["message"] or f".{field}" in body["message"]


def next_millisecond() -> None:
    """Let the wall clock move on so that consecutive events get distinct receive times."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 <= start:
        time.sleep(0.001)


def stored_events(api: Api, query: str = "") -> list[dict[str, Any]]:
    response = api.client.get(f"/api/events{query}", headers=api.headers())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# -- GET /api/actions -----------------------------------------------------------------------------


def test_the_catalog_lists_every_registered_kind(api: Api) -> None:
    response = api.client.get("/api/actions", headers=api.headers())
    assert response.status_code == 200, response.text
    catalog = response.json()
    kinds = [entry["kind"] for entry in catalog]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == BUILTINS | {"echo", "fail", "nap"}
    assert set(kinds) == {definition.kind for definition in api.kit.registry}
    for entry in catalog:
        assert set(entry) == {"kind", "name", "description", "icon", "inputs", "outputs", "edges", "side_effects"}, (
            entry
        )
        assert isinstance(entry["side_effects"], bool)
        assert isinstance(entry["name"], str) and entry["name"]
        assert isinstance(entry["description"], str)
        Draft202012Validator.check_schema(entry["inputs"])
        Draft202012Validator.check_schema(entry["outputs"])
        assert set(entry["edges"]) == {"allow_add", "edges"}
        assert isinstance(entry["edges"]["allow_add"], bool)
        assert isinstance(entry["edges"]["edges"], list)

    by_kind = {entry["kind"]: entry for entry in catalog}
    echo = by_kind["echo"]
    assert (echo["name"], echo["description"], echo["icon"]) == ("Echo", "Returns its inputs", "repeat")
    assert echo["inputs"]["type"] == "object"
    assert echo["outputs"]["type"] == "object"
    assert echo["edges"] == {"allow_add": True, "edges": []}
    assert (by_kind["fail"]["name"], by_kind["fail"]["icon"]) == ("Fail", None)
    assert by_kind["nap"]["outputs"] == {"type": "string"}

    branch = by_kind["builtin:if"]
    assert branch["edges"]["allow_add"] is False
    assert [edge["name"] for edge in branch["edges"]["edges"]] == ["True", "False"]
    assert [edge["conditional"]["type"] for edge in branch["edges"]["edges"]] == ["if", "else"]
    assert branch["inputs"]["required"] == ["condition"]
    assert branch["outputs"]["properties"]["result"] == {"type": "boolean"}
    sleep = by_kind["builtin:sleep"]
    assert sleep["inputs"]["required"] == ["duration"]
    assert Draft202012Validator(sleep["inputs"]).is_valid({"duration": "1h30m"})
    assert not Draft202012Validator(sleep["inputs"]).is_valid({"duration": "soon"})
    waiting = by_kind["builtin:wait_for_event"]
    assert [edge["name"] for edge in waiting["edges"]["edges"]] == ["Received", "Timed out"]
    assert (echo["side_effects"], branch["side_effects"], sleep["side_effects"]) == (True, False, False)


def test_the_catalog_holds_no_handler_code(api: Api) -> None:
    response = api.client.get("/api/actions", headers=api.headers())
    text = response.text
    for leak in ("<function", "<bound", "<class", " at 0x", "handler", "lambda", "ActionContext", "__main__"):
        assert leak not in text, leak
    assert not re.search(r"0x[0-9a-f]{6,}", text)


def test_the_catalog_needs_a_token(api: Api) -> None:
    assert_error(api.client.get("/api/actions"), 401, "unauthorized")
    assert_error(api.client.get("/api/actions", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


# -- GET /api/event-types ------------------------------------------------------------------------


def declared(api: Api) -> None:
    """Declare `shop/order.placed` on the module's kit (once: the app is shared by the module's tests)."""
    if api.kit.event_types.get("shop/order.placed") is None:
        api.kit.event_type(
            "shop/order.placed",
            schema={"type": "object", "properties": {"id": {"type": "integer"}, "total": {"type": "number"}}},
            examples=[{"id": 7, "total": 12.5}],
            description="An order was placed",
        )


def test_the_declared_event_types_are_listed_with_schema_and_examples(api: Api) -> None:
    declared(api)
    response = api.client.get("/api/event-types", headers=api.headers())
    assert response.status_code == 200, response.text
    [order] = [entry for entry in response.json() if entry["name"] == "shop/order.placed"]
    assert order == {
        "name": "shop/order.placed",
        "description": "An order was placed",
        "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "total": {"type": "number"}}},
        "examples": [{"id": 7, "total": 12.5}],
    }


def test_the_event_types_need_a_token_with_the_catalog_scope(api: Api) -> None:
    assert_error(api.client.get("/api/event-types"), 401, "unauthorized")
    response = api.client.get("/api/event-types", headers=api.headers(scopes=["events:write"]))
    assert_error(response, 401, "unauthorized")


# -- POST /api/events -----------------------------------------------------------------------------


def test_send_one_event(api: Api) -> None:
    response = api.client.post("/api/events", headers=api.headers(), json={"name": "app/one", "data": {"n": 1}})
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"ids"}
    assert len(body["ids"]) == 1 and isinstance(body["ids"][0], str)
    stored = api.client.get(f"/api/events/{body['ids'][0]}", headers=api.headers())
    assert stored.status_code == 200
    event = stored.json()
    assert event["id"] == body["ids"][0]
    assert event["name"] == "app/one"
    assert event["event"]["name"] == "app/one"
    assert event["event"]["data"] == {"n": 1}
    assert isinstance(event["event"]["ts"], int) and event["event"]["ts"] > 0
    assert event["duplicate"] is False
    assert isinstance(event["received_at"], int)


def test_an_event_keeps_inngests_user_field(api: Api) -> None:
    sent = {"name": "app/one", "data": {}, "user": {"external_id": "u-1"}}
    [event_id] = api.client.post("/api/events", headers=api.headers(), json=sent).json()["ids"]
    stored = api.client.get(f"/api/events/{event_id}", headers=api.headers()).json()
    assert stored["event"]["user"] == {"external_id": "u-1"}


def test_send_a_list_of_events(api: Api) -> None:
    events = [
        {"name": "app/a", "data": {"i": 0}},
        {"name": "app/b"},
        {"name": "app/c", "data": {"i": 2}, "ts": 1_700_000_000_000, "v": "2", "id": "key-1"},
    ]
    response = api.client.post("/api/events", headers=api.headers(), json=events)
    assert response.status_code == 202, response.text
    ids = response.json()["ids"]
    assert len(ids) == len(set(ids)) == 3
    stored = [api.client.get(f"/api/events/{event_id}", headers=api.headers()).json() for event_id in ids]
    assert [s["name"] for s in stored] == ["app/a", "app/b", "app/c"]
    assert stored[0]["event"]["data"] == {"i": 0}
    assert stored[1]["event"]["data"] == {}
    assert stored[2]["event"]["ts"] == 1_700_000_000_000
    assert (stored[2]["event"]["v"], stored[2]["event"]["id"]) == ("2", "key-1")
    assert {e["id"] for e in stored_events(api)} == set(ids)

    empty = api.client.post("/api/events", headers=api.headers(), json=[])
    assert (empty.status_code, empty.json()) == (202, {"ids": []})


def test_an_event_id_deduplicates(api: Api) -> None:
    first = api.client.post("/api/events", headers=api.headers(), json={"name": "app/d", "id": "same"}).json()["ids"]
    second = api.client.post("/api/events", headers=api.headers(), json={"name": "app/d", "id": "same"}).json()["ids"]
    assert first != second
    assert api.client.get(f"/api/events/{first[0]}", headers=api.headers()).json()["duplicate"] is False
    assert api.client.get(f"/api/events/{second[0]}", headers=api.headers()).json()["duplicate"] is True


def test_events_start_enabled_workflows(api: Api) -> None:
    workflow = {
        "actions": [{"id": "a", "kind": "echo", "inputs": {"n": "!ref($.event.data.n)"}}],
        "edges": [{"from": "$source", "to": "a"}],
    }
    created = api.client.post(
        "/api/workflows",
        headers=api.headers(),
        json={"name": "On a", "trigger": {"event": "app/*"}, "workflow": workflow, "publish": True, "enabled": True},
    )
    assert created.status_code == 201, created.text
    event_id = api.client.post("/api/events", headers=api.headers(), json={"name": "app/a", "data": {"n": 7}}).json()[
        "ids"
    ][0]
    deadline = time.monotonic() + 20
    while True:
        runs = api.client.get(f"/api/runs?event_id={event_id}", headers=api.headers()).json()["items"]
        if runs and runs[0]["status"] == "completed":
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)
    assert runs[0]["output"] == {"a": {"n": 7}}


def test_a_malformed_event_is_400_naming_the_field(api: Api) -> None:
    cases: list[tuple[Any, str]] = [
        ({"data": {}}, "name"),
        ({"name": ""}, "name"),
        ({"name": "app/x", "ts": -5}, "ts"),
        ({"name": "app/x", "id": ""}, "id"),
        ({"name": "n" * 300}, "name"),
    ]
    for event, field in cases:
        response = api.client.post("/api/events", headers=api.headers(), json=event)
        assert response.status_code == 400, (event, response.text)
        body = response.json()
        assert body["code"] in ("bad_request", "invalid_event"), body
        assert names_field(body, field), (event, body)
    assert stored_events(api) == []


def test_an_event_of_the_wrong_type_is_400_naming_the_field(api: Api) -> None:
    response = api.client.post("/api/events", headers=api.headers(), json={"name": 5})
    body = assert_error(response, 400, "bad_request")
    assert names_field(body, "name"), body

    response = api.client.post("/api/events", headers=api.headers(), json={"name": "app/x", "data": 3})
    body = assert_error(response, 400, "bad_request")
    assert names_field(body, "data"), body

    response = api.client.post(
        "/api/events", headers=api.headers(), json=[{"name": "app/ok"}, {"name": "app/bad", "data": [1]}]
    )
    body = assert_error(response, 400, "bad_request")
    assert names_field(body, "data"), body
    assert stored_events(api) == []


def test_a_malformed_event_in_a_list_stores_nothing(api: Api) -> None:
    response = api.client.post("/api/events", headers=api.headers(), json=[{"name": "app/ok"}, {"name": " "}])
    body = assert_error(response, 400, "invalid_event")
    assert body["path"] == "events[1].name"
    assert stored_events(api) == []


def test_an_event_over_512_kb_is_400(api: Api) -> None:
    big = {"name": "app/big", "data": {"blob": "x" * (512 * 1024)}}
    body = assert_error(api.client.post("/api/events", headers=api.headers(), json=big), 400, "invalid_event")
    assert "512" in body["message"]
    assert body["path"].startswith("events")
    in_a_list = [{"name": "app/small"}, big]
    body = assert_error(api.client.post("/api/events", headers=api.headers(), json=in_a_list), 400, "invalid_event")
    assert body["path"] == "events[1]"
    assert stored_events(api) == []

    just_under = {"name": "app/big", "data": {"blob": "x" * (500 * 1024)}}
    assert api.client.post("/api/events", headers=api.headers(), json=just_under).status_code == 202


def test_an_unknown_event_field_is_400(api: Api) -> None:
    response = api.client.post("/api/events", headers=api.headers(), json={"name": "app/x", "colour": "red"})
    body = assert_error(response, 400, "bad_request")
    assert body["path"] == "colour"
    assert "unknown" in body["message"]
    response = api.client.post(
        "/api/events", headers=api.headers(), json=[{"name": "app/x"}, {"name": "app/y", "colour": "red"}]
    )
    body = assert_error(response, 400, "bad_request")
    assert "colour" in (body.get("path") or "")
    assert stored_events(api) == []


def test_malformed_json_and_non_events_are_400(api: Api) -> None:
    headers = {**api.headers(), "Content-Type": "application/json"}
    assert_error(api.client.post("/api/events", headers=headers, content=b"{"), 400, "bad_request")
    assert_error(api.client.post("/api/events", headers=api.headers(), json="app/x"), 400, "bad_request")
    assert_error(api.client.post("/api/events", headers=api.headers(), json=[1, 2]), 400, "bad_request")
    assert_error(api.client.post("/api/events", json={"name": "app/x"}), 401, "unauthorized")
    assert stored_events(api) == []


# -- GET /api/events, GET /api/events/{id} --------------------------------------------------------


def test_list_events_newest_first_with_a_name_filter_and_paging(api: Api) -> None:
    sent: list[tuple[str, str]] = []
    for index, name in enumerate(["app/a", "app/b", "app/a", "app/c", "app/a"]):
        response = api.client.post("/api/events", headers=api.headers(), json={"name": name, "data": {"i": index}})
        sent.append((response.json()["ids"][0], name))
        next_millisecond()
    newest_first = [event_id for event_id, _ in reversed(sent)]

    page = api.client.get("/api/events", headers=api.headers()).json()
    assert (page["limit"], page["offset"]) == (50, 0)
    assert [e["id"] for e in page["items"]] == newest_first
    assert [e["event"]["data"]["i"] for e in page["items"]] == [4, 3, 2, 1, 0]
    received = [e["received_at"] for e in page["items"]]
    assert received == sorted(received, reverse=True)

    only_a = stored_events(api, "?name=app/a")
    assert [e["id"] for e in only_a] == [event_id for event_id, name in reversed(sent) if name == "app/a"]
    assert all(e["name"] == "app/a" for e in only_a)
    assert stored_events(api, "?name=app/nothing") == []

    first = api.client.get("/api/events?limit=2", headers=api.headers()).json()
    assert (first["limit"], first["offset"]) == (2, 0)
    assert [e["id"] for e in first["items"]] == newest_first[:2]
    second = api.client.get("/api/events?limit=2&offset=2", headers=api.headers()).json()
    assert [e["id"] for e in second["items"]] == newest_first[2:4]
    assert [e["id"] for e in stored_events(api, "?limit=2&offset=4")] == newest_first[4:]
    assert [e["id"] for e in stored_events(api, "?name=app/a&limit=1&offset=1")] == [sent[2][0]]


def test_list_events_rejects_bad_paging(api: Api) -> None:
    for query in ("limit=0", "limit=501", "offset=-1", "limit=x"):
        assert_error(api.client.get(f"/api/events?{query}", headers=api.headers()), 400, "bad_request")


def test_events_are_scoped_to_the_tenant(api: Api) -> None:
    event_id = api.client.post("/api/events", headers=api.headers(), json={"name": "app/x"}).json()["ids"][0]
    other = api.headers("globex", "bob")
    assert api.client.get("/api/events", headers=other).json()["items"] == []
    assert_error(api.client.get(f"/api/events/{event_id}", headers=other), 404, "not_found")


def test_get_an_unknown_event_is_404(api: Api) -> None:
    body = assert_error(api.client.get("/api/events/01NOSUCHEVENT", headers=api.headers()), 404, "not_found")
    assert "01NOSUCHEVENT" in body["message"]


# -- GET /api/health ------------------------------------------------------------------------------


def test_health_needs_no_token(api: Api) -> None:
    response = api.client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert api.client.get("/api/health", headers=api.headers()).json() == {"status": "ok"}


def test_an_unknown_route_is_a_json_404(api: Api) -> None:
    for headers in (api.headers(), {}):
        response = api.client.get("/api/no-such-route", headers=headers)
        assert response.headers["content-type"].startswith("application/json")
        assert_error(response, 404, "not_found")


# -- GET /schema/openapi.json ---------------------------------------------------------------------


def test_the_openapi_document(api: Api) -> None:
    response = api.client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["title"]
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }

    expected: dict[str, set[str]] = {}
    for route in api.client.app.routes:
        if not route.path.startswith("/api"):
            continue
        if not any(handler.include_in_schema for handler in getattr(route, "route_handlers", [])):
            continue  # left out on purpose (the OAuth provider's return to the pop-up is no API)
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        expected.setdefault(path, set()).update(m.lower() for m in route.methods if m not in ("OPTIONS", "HEAD"))
    assert len(expected) >= 21
    assert "/api/workflows/{workflow_id}/versions/{number}" in expected
    for path, methods in expected.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, methods, set(schema["paths"][path]))

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path == "/api/health":
                assert operation.get("security") in (None, []), operation
            elif path == "/api/runs/{run_id}/stream":  # the header, or a stream ticket in the query
                assert operation.get("security") == [{"bearer": []}, {"ticket": []}], (method, path)
            elif path.startswith("/api"):
                assert operation.get("security") == [{"bearer": []}], (method, path)
    assert schema["components"]["securitySchemes"]["ticket"]["in"] == "query"


def test_the_openapi_document_describes_the_bodies(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    create = schema["paths"]["/api/workflows"]["post"]
    assert "201" in create["responses"]
    assert create["requestBody"]["content"]["application/json"]["schema"]
    names = set(schema["components"]["schemas"])
    assert any("WorkflowCreate" in name for name in names), names
    assert any("ErrorBody" in name or "Problem" in name for name in names) or "422" in str(create["responses"])
