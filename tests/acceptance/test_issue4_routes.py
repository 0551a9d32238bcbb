"""Issue 4 routes, black-box: the record shape, CRUD, versions, enable, validate, export/import, events,
test runs, runs (filters, paging, timeline, cancel, rerun) and the SSE stream."""

from __future__ import annotations

import json
import time
from typing import Any

from acceptance.issue4_support import ADD_WF, FLAGS, Api

RECORD_KEYS = {
    "id",
    "name",
    "description",
    "trigger",
    "enabled",
    "version",
    "draft",
    "settings",
    "created_at",
    "updated_at",
}


def test_actions_catalog_has_schemas_icons_edges_and_no_code(api: Api) -> None:
    r = api.client.get("/api/actions", headers=api.h())
    assert r.status_code == 200
    catalog = r.json()
    assert isinstance(catalog, list)
    by_kind = {a["kind"]: a for a in catalog}
    assert {"add", "count", "flaky", "nap", "builtin:if"} <= set(by_kind)
    add = by_kind["add"]
    assert add["name"] == "Add numbers" and add["description"] == "Adds two numbers" and add["icon"] == "plus"
    assert add["inputs"]["properties"]["a"]["type"] == "number"
    assert set(add["inputs"].get("required", [])) == {"a", "b"}
    assert add["outputs"].get("type") == "number"
    edge_names = json.dumps(by_kind["builtin:if"]["edges"])
    assert "True" in edge_names and "False" in edge_names
    text = r.text
    for leak in ("zz_private", "def ", "conftest", ".py", "lambda", "__module__"):
        assert leak not in text


def test_create_returns_the_record_shape(api: Api) -> None:
    body = {
        "name": "Adder",
        "description": "adds",
        "trigger": {"event": "app/add", "if": "event.data.a > 0"},
        "workflow": ADD_WF,
    }
    r = api.client.post("/api/workflows", json=body, headers=api.h())
    assert r.status_code in (200, 201)
    rec = r.json()
    assert set(rec) >= RECORD_KEYS
    assert isinstance(rec["id"], str) and rec["id"]
    assert rec["name"] == "Adder" and rec["description"] == "adds"
    assert rec["trigger"] == {"event": "app/add", "if": "event.data.a > 0"}
    assert rec["enabled"] is False
    assert isinstance(rec["version"], int)
    assert rec["draft"]["actions"] == ADD_WF["actions"] and rec["draft"]["edges"] == ADD_WF["edges"]
    assert rec.get("published_version") is None
    assert isinstance(rec["settings"], dict)
    assert isinstance(rec["created_at"], int) and isinstance(rec["updated_at"], int)
    # without `if` the trigger has no `if` (or a null one); description is optional on create
    r = api.client.post(
        "/api/workflows", json={"name": "B", "trigger": {"event": "app/b"}, "workflow": ADD_WF}, headers=api.h()
    )
    assert r.status_code in (200, 201)
    assert r.json()["trigger"].get("if") is None
    got = api.client.get(f"/api/workflows/{rec['id']}", headers=api.h())
    assert got.status_code == 200 and got.json() == rec


def test_list_workflows_is_paged(api: Api) -> None:
    ids = {api.create(name=f"w{i}")["id"] for i in range(5)}
    r = api.client.get("/api/workflows", headers=api.h())
    assert r.status_code == 200
    assert {w["id"] for w in r.json()["items"]} == ids
    seen: list[str] = []
    for offset in (0, 2, 4):
        page = api.client.get("/api/workflows", params={"limit": 2, "offset": offset}, headers=api.h()).json()
        assert len(page["items"]) <= 2
        seen += [w["id"] for w in page["items"]]
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_update_draft_versions_and_optimistic_concurrency(api: Api) -> None:
    w = api.create()
    new = {"actions": [{"id": "sum", "kind": "add", "inputs": {"a": 1, "b": 1}}], "edges": ADD_WF["edges"]}
    r = api.client.put(f"/api/workflows/{w['id']}", json={"workflow": new, "version": w["version"]}, headers=api.h())
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["draft"]["actions"] == new["actions"] and after["version"] > w["version"]
    assert after["updated_at"] >= w["updated_at"]
    # the first editor's version is stale now: 409, nothing overwritten
    r = api.client.put(f"/api/workflows/{w['id']}", json={"name": "mine", "version": w["version"]}, headers=api.h())
    assert r.status_code == 409
    assert r.json()["code"] and r.json()["message"]
    r = api.client.put(
        f"/api/workflows/{w['id']}", json={"name": "mine"}, headers={**api.h(), "If-Match": f'"{w["version"]}"'}
    )
    assert r.status_code == 409
    r = api.client.put(
        f"/api/workflows/{w['id']}", json={"name": "mine"}, headers={**api.h(), "If-Match": str(w["version"])}
    )
    assert r.status_code == 409
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()["name"] == "Adder"
    # the current version in If-Match succeeds
    r = api.client.put(
        f"/api/workflows/{w['id']}", json={"name": "mine"}, headers={**api.h(), "If-Match": f'"{after["version"]}"'}
    )
    assert r.status_code == 200 and r.json()["name"] == "mine"


def test_update_with_stale_version_via_patch(api: Api) -> None:
    w = api.create()
    ok = api.client.patch(f"/api/workflows/{w['id']}", json={"name": "x", "version": w["version"]}, headers=api.h())
    assert ok.status_code == 200
    r = api.client.patch(f"/api/workflows/{w['id']}", json={"name": "y", "version": w["version"]}, headers=api.h())
    assert r.status_code == 409


def test_two_concurrent_editors_never_silently_overwrite(api: Api) -> None:
    w = api.create()
    a = api.client.put(
        f"/api/workflows/{w['id']}", json={"description": "A", "version": w["version"]}, headers=api.h(user="a")
    )
    b = api.client.put(
        f"/api/workflows/{w['id']}", json={"description": "B", "version": w["version"]}, headers=api.h(user="b")
    )
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()["description"] == "A"


def test_delete(api: Api) -> None:
    w = api.create()
    r = api.client.delete(f"/api/workflows/{w['id']}", headers=api.h())
    assert r.status_code in (200, 204)
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).status_code == 404
    assert api.client.delete(f"/api/workflows/{w['id']}", headers=api.h()).status_code == 404


def test_validate_instance_answers_problems_with_paths_and_saves_nothing(api: Api) -> None:
    before = api.client.get("/api/workflows", headers=api.h()).json()["items"]
    ok = api.client.post("/api/workflows/validate", json=ADD_WF, headers=api.h())
    assert ok.status_code == 200 and ok.json() == {"problems": []}
    bad = {
        "actions": [
            {"id": "one", "kind": "no-such-kind"},
            {"id": "two", "kind": "add", "inputs": {"a": "text", "b": 1}},
        ],
        "edges": [{"from": "$source", "to": "one"}, {"from": "one", "to": "ghost"}, {"from": "$source", "to": "two"}],
    }
    r = api.client.post("/api/workflows/validate", json=bad, headers=api.h())
    assert r.status_code == 200
    problems = r.json()["problems"]
    assert all(set(p) >= {"code", "path", "message"} for p in problems)
    paths = [p["path"] for p in problems]
    assert any(p.startswith("actions[0]") for p in paths), paths
    assert any(p.startswith("actions[1].inputs") for p in paths), paths
    assert any(p.startswith("edges[1]") for p in paths), paths
    assert api.client.get("/api/workflows", headers=api.h()).json()["items"] == before


def test_publish_is_immutable_and_versions_are_listed(api: Api) -> None:
    w = api.create()
    r = api.client.post(f"/api/workflows/{w['id']}/publish", headers=api.h())
    assert r.status_code in (200, 201)
    rec = api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()
    assert rec["published_version"] == 1
    new = {"actions": [{"id": "sum", "kind": "add", "inputs": {"a": 5, "b": 5}}], "edges": ADD_WF["edges"]}
    api.client.put(f"/api/workflows/{w['id']}", json={"workflow": new, "version": rec["version"]}, headers=api.h())
    v1 = api.client.get(f"/api/workflows/{w['id']}/versions/1", headers=api.h())
    assert v1.status_code == 200
    assert v1.json()["workflow"]["actions"] == ADD_WF["actions"], "editing the draft changed a published version"
    api.client.post(f"/api/workflows/{w['id']}/publish", headers=api.h())
    versions = api.client.get(f"/api/workflows/{w['id']}/versions", headers=api.h())
    assert versions.status_code == 200
    items = versions.json()["items"] if isinstance(versions.json(), dict) else versions.json()
    assert sorted(v["number"] for v in items) == [1, 2]
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()["published_version"] == 2
    assert api.client.get(f"/api/workflows/{w['id']}/versions/9", headers=api.h()).status_code == 404


def test_enable_disable_controls_triggering(api: Api) -> None:
    w = api.live()
    assert w["enabled"] is True
    api.send("tenant-a", {"name": "app/add", "data": {"a": 1}})
    api.runs_of("tenant-a", w["id"], 1)
    r = api.client.post(f"/api/workflows/{w['id']}/disable", headers=api.h())
    assert r.status_code == 200 and r.json()["enabled"] is False
    api.send("tenant-a", {"name": "app/add", "data": {"a": 1}})
    time.sleep(0.3)
    assert len(api.runs(workflow_id=w["id"])) == 1
    r = api.client.post(f"/api/workflows/{w['id']}/enable", headers=api.h())
    assert r.status_code == 200 and r.json()["enabled"] is True


TS_KIT_INSTANCE: dict[str, Any] = {
    "name": "Process blog post",
    "description": "From the TypeScript Workflow Kit",
    "actions": [
        {
            "id": "1",
            "kind": "add",
            "name": "Add",
            "description": "adds",
            "inputs": {"a": "!ref($.event.data.a)", "b": 1},
        },
        {
            "id": "2",
            "kind": "builtin:if",
            "name": "Is big",
            "inputs": {"condition": {">": [{"var": "state.1"}, 10]}},
        },
        {"id": "3", "kind": "count", "name": "Count", "inputs": {}},
    ],
    "edges": [
        {"from": "$source", "to": "1"},
        {"from": "1", "to": "2"},
        {"from": "2", "to": "3", "name": "True", "conditional": {"type": "if", "ref": "!ref($.output.result)"}},
    ],
    "metadata": {"origin": "ts"},
}


def test_import_typescript_kit_json_with_trigger_then_export_roundtrip(api: Api) -> None:
    r = api.client.post(
        "/api/workflows/import", params={"trigger": "app/post.updated"}, json=TS_KIT_INSTANCE, headers=api.h()
    )
    assert r.status_code in (200, 201), r.text
    rec = r.json()
    assert rec["name"] == "Process blog post"
    assert rec["trigger"]["event"] == "app/post.updated"
    assert rec["draft"]["actions"] == TS_KIT_INSTANCE["actions"]
    assert rec["draft"]["edges"] == TS_KIT_INSTANCE["edges"]
    assert rec.get("problems", []) == []
    ex = api.client.get(f"/api/workflows/{rec['id']}/export", headers=api.h())
    assert ex.status_code == 200
    exported = ex.json()
    assert exported["actions"] == TS_KIT_INSTANCE["actions"] and exported["edges"] == TS_KIT_INSTANCE["edges"]
    assert exported["name"] == "Process blog post"
    assert exported.get("metadata", {}).get("origin") == "ts"
    again = api.client.post("/api/workflows/import", json=exported, headers=api.h())
    assert again.status_code in (200, 201), again.text
    assert again.json()["draft"]["actions"] == TS_KIT_INSTANCE["actions"]
    assert again.json()["trigger"]["event"] == "app/post.updated"
    # and it runs as imported: publish, enable, send
    api.client.post(f"/api/workflows/{rec['id']}/publish", headers=api.h())
    api.client.post(f"/api/workflows/{rec['id']}/enable", headers=api.h())
    api.send("tenant-a", {"name": "app/post.updated", "data": {"a": 20}})
    run = api.wait_run(api.runs_of("tenant-a", rec["id"])[0]["id"])
    assert run["status"] == "completed"
    assert run["output"]["1"] == 21 and run["output"]["3"] >= 1


def test_import_typescript_kit_json_exactly_as_is(api: Api) -> None:
    """A TypeScript kit instance carries no trigger (it lives on the Inngest function): importing the file as
    it is should store a draft, not refuse it."""
    r = api.client.post("/api/workflows/import", json=TS_KIT_INSTANCE, headers=api.h())
    assert r.status_code in (200, 201), r.text


def test_events_send_one_or_many_and_read_them(api: Api) -> None:
    one = api.send("tenant-a", {"name": "app/thing", "data": {"x": 1}})
    assert len(one) == 1
    many = api.send("tenant-a", [{"name": "app/thing", "data": {"x": i}} for i in range(3)])
    assert len(many) == 3 and len(set(many)) == 3
    got = api.client.get(f"/api/events/{many[1]}", headers=api.h())
    assert got.status_code == 200 and json.dumps(got.json()).count('"x": 1') >= 1
    listed = api.client.get("/api/events", headers=api.h()).json()["items"]
    assert {e["id"] for e in listed} >= set(one + many)


def test_send_event_starts_run_and_timeline(api: Api) -> None:
    w = api.live()
    [event_id] = api.send("tenant-a", {"name": "app/add", "data": {"a": 40}})
    [run] = api.runs_of("tenant-a", w["id"])
    run = api.wait_run(run["id"])
    assert run["status"] == "completed"
    assert run["output"] == {"sum": 42}
    assert run["workflow_id"] == w["id"]
    step = next(a for a in run["actions"] if a["id"] == "sum")
    assert step["status"] == "completed"
    assert step["inputs"] == {"a": 40, "b": 2}
    assert step["output"] == 42
    assert step.get("error") is None
    assert len(step["attempts"]) >= 1
    att = step["attempts"][0]
    assert (
        isinstance(att["started_at"], int) and isinstance(att["ended_at"], int) and att["ended_at"] >= att["started_at"]
    )
    assert isinstance(step["started_at"], int) and isinstance(step["ended_at"], int)
    assert api.runs(event_id=event_id)[0]["id"] == run["id"]


def test_test_run_of_the_draft(api: Api) -> None:
    w = api.create()  # never published
    r = api.client.post(
        f"/api/workflows/{w['id']}/test", json={"event": {"name": "app/add", "data": {"a": 1}}}, headers=api.h()
    )
    assert r.status_code in (200, 201, 202), r.text
    run = api.wait_run(r.json()["run_id"])
    assert run["status"] == "completed" and run["output"] == {"sum": 3}
    # it runs the draft, not the published version
    api.client.post(f"/api/workflows/{w['id']}/publish", headers=api.h())
    rec = api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()
    draft = {
        "actions": [{"id": "sum", "kind": "add", "inputs": {"a": "!ref($.event.data.a)", "b": 100}}],
        "edges": ADD_WF["edges"],
    }
    api.client.put(f"/api/workflows/{w['id']}", json={"workflow": draft, "version": rec["version"]}, headers=api.h())
    r = api.client.post(
        f"/api/workflows/{w['id']}/test", json={"event": {"name": "app/add", "data": {"a": 1}}}, headers=api.h()
    )
    assert api.wait_run(r.json()["run_id"])["output"] == {"sum": 101}


def test_test_run_of_an_invalid_draft_is_422(api: Api) -> None:
    w = api.create()
    bad = {"actions": [{"id": "sum", "kind": "nope"}], "edges": ADD_WF["edges"]}
    r = api.client.put(f"/api/workflows/{w['id']}", json={"workflow": bad, "version": w["version"]}, headers=api.h())
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        t = api.client.post(
            f"/api/workflows/{w['id']}/test", json={"event": {"name": "app/add", "data": {}}}, headers=api.h()
        )
        assert t.status_code == 422
        assert t.json()["problems"][0]["path"].startswith("actions[0]")


def test_runs_filters_and_paging(api: Api) -> None:
    w1 = api.live(event="app/one")
    w2 = api.live(
        workflow={"actions": [{"id": "f", "kind": "flaky"}], "edges": [{"from": "$source", "to": "f"}]}, event="app/two"
    )
    api.send("tenant-a", [{"name": "app/one", "data": {"a": i}} for i in range(3)])
    for run in api.runs_of("tenant-a", w1["id"], 3):
        api.wait_run(run["id"])
    mark = int(time.time() * 1000) + 5
    time.sleep(0.05)
    api.send("tenant-a", {"name": "app/two", "data": {}})
    [failed] = api.runs_of("tenant-a", w2["id"])
    assert api.wait_run(failed["id"])["status"] == "failed"
    assert {r["workflow_id"] for r in api.runs(workflow_id=w1["id"])} == {w1["id"]}
    assert [r["id"] for r in api.runs(status="failed")] == [failed["id"]]
    assert len(api.runs(status="completed")) == 3
    assert [r["id"] for r in api.runs(since=mark)] == [failed["id"]]
    assert {r["id"] for r in api.runs(until=mark)} == {r["id"] for r in api.runs(workflow_id=w1["id"])}
    pages = [api.runs(limit=2, offset=o) for o in (0, 2)]
    assert [len(p) for p in pages] == [2, 2]
    assert len({r["id"] for p in pages for r in p}) == 4
    bad = api.client.get("/api/runs", params={"status": "sideways"}, headers=api.h())
    assert bad.status_code == 400


def test_cancel_a_sleeping_run(api: Api) -> None:
    w = api.live(
        workflow={
            "actions": [{"id": "n", "kind": "nap", "inputs": {"duration": "1h"}}],
            "edges": [{"from": "$source", "to": "n"}],
        },
        event="app/nap",
    )
    api.send("tenant-a", {"name": "app/nap", "data": {}})
    [run] = api.runs_of("tenant-a", w["id"])
    api.wait_run(run["id"], until=lambda r: r["status"] == "sleeping")
    r = api.client.post(f"/api/runs/{run['id']}/cancel", headers=api.h())
    assert r.status_code in (200, 202)
    assert api.wait_run(run["id"])["status"] == "cancelled"
    again = api.client.post(f"/api/runs/{run['id']}/cancel", headers=api.h())
    assert again.status_code in (200, 202, 409)


def test_rerun_from_failed_step_and_from_scratch(api: Api) -> None:
    wf = {
        "actions": [{"id": "c", "kind": "count"}, {"id": "f", "kind": "flaky"}],
        "edges": [{"from": "$source", "to": "c"}, {"from": "c", "to": "f"}],
    }
    w = api.live(workflow=wf, event="app/flaky")
    api.send("tenant-a", {"name": "app/flaky", "data": {}})
    [run] = api.runs_of("tenant-a", w["id"])
    run = api.wait_run(run["id"])
    assert run["status"] == "failed"
    failed_step = next(a for a in run["actions"] if a["id"] == "f")
    assert failed_step["status"] == "failed" and "on purpose" in json.dumps(failed_step["error"])
    assert FLAGS["counted"] == 1
    FLAGS["fail"] = False
    r = api.client.post(f"/api/runs/{run['id']}/rerun", json={"from_failed_step": True}, headers=api.h())
    assert r.status_code in (200, 201, 202), r.text
    again = api.wait_run(r.json()["run_id"])
    assert again["status"] == "completed" and again["output"]["f"] == "recovered"
    assert FLAGS["counted"] == 1, "a rerun from the failed step ran a completed step again"
    # from scratch, on the latest published version
    rec = api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()
    wf2 = {"actions": [{"id": "c", "kind": "count"}], "edges": [{"from": "$source", "to": "c"}]}
    api.client.put(f"/api/workflows/{w['id']}", json={"workflow": wf2, "version": rec["version"]}, headers=api.h())
    api.client.post(f"/api/workflows/{w['id']}/publish", headers=api.h())
    r = api.client.post(f"/api/runs/{run['id']}/rerun", json={"from_failed_step": False}, headers=api.h())
    assert r.status_code in (200, 201, 202), r.text
    fresh = api.wait_run(r.json()["run_id"])
    assert fresh["status"] == "completed" and fresh["version"] == 2
    assert set(fresh["output"]) == {"c"} and FLAGS["counted"] == 2


def _sse(text: str) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((name, "\n".join(data)))
    return events


def test_stream_of_a_finished_run(api: Api) -> None:
    w = api.live()
    api.send("tenant-a", {"name": "app/add", "data": {"a": 1}})
    [run] = api.runs_of("tenant-a", w["id"])
    api.wait_run(run["id"])
    with api.client.stream("GET", f"/api/runs/{run['id']}/stream", headers=api.h()) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = _sse(body)
    payloads = [json.loads(d) for _, d in events if d.startswith("{")]
    assert payloads and payloads[-1]["id"] == run["id"] and payloads[-1]["status"] == "completed"
    assert payloads[-1]["actions"][0]["output"] == 3


def test_mountable_in_a_host_asgi_app(kit: Any) -> None:
    from litestar import Litestar, asgi, get
    from litestar.testing import TestClient
    from litestar.types import Receive, Scope, Send

    from editor_api import create_app

    editor = create_app(kit)

    @asgi("/automations", is_mount=True, copy_scope=True)
    async def automations(scope: Scope, receive: Receive, send: Send) -> None:
        await editor(scope, receive, send)

    @get("/")
    async def home() -> str:
        return "the host's own page"

    host = Litestar([automations, home])
    h = {"Authorization": f"Bearer {kit.editor_token('tenant-a', 'ann', ttl=60)}"}
    with TestClient(host) as c:
        assert c.get("/").text == "the host's own page"
        r = c.post(
            "/automations/api/workflows", json={"name": "m", "trigger": {"event": "a/b"}, "workflow": ADD_WF}, headers=h
        )
        assert r.status_code == 201
        assert [w["name"] for w in c.get("/automations/api/workflows", headers=h).json()["items"]] == ["m"]
        assert c.get("/automations/schema/openapi.json").json()["openapi"].startswith("3.1")
        assert c.get("/automations/api/workflows").status_code == 401


def test_timeline_has_sub_steps_and_errors(api: Api) -> None:
    w = api.live(
        workflow={
            "actions": [{"id": "n", "kind": "nap", "inputs": {"duration": "1ms"}}, {"id": "f", "kind": "flaky"}],
            "edges": [{"from": "$source", "to": "n"}, {"from": "n", "to": "f"}],
        },
        event="app/steps",
    )
    api.send("tenant-a", {"name": "app/steps", "data": {}})
    [run] = api.runs_of("tenant-a", w["id"])
    run = api.wait_run(run["id"])
    assert run["status"] == "failed" and run["error"]
    nap = next(a for a in run["actions"] if a["id"] == "n")
    assert nap["status"] == "completed" and nap["output"] == "rested"
    assert [s["key"] for s in nap["steps"]] and nap["steps"][0]["status"] == "completed"
    flaky = next(a for a in run["actions"] if a["id"] == "f")
    assert flaky["status"] == "failed" and "on purpose" in flaky["error"]["message"]
    assert flaky["attempts"] and "on purpose" in json.dumps(flaky["attempts"][-1]["error"])
    assert "Traceback" not in json.dumps(run) and ".py" not in json.dumps(run)


def test_validate_route_of_a_workflow_takes_an_instance(api: Api) -> None:
    w = api.create()
    bad = {"actions": [{"id": "one", "kind": "no-such-kind"}], "edges": [{"from": "$source", "to": "one"}]}
    r = api.client.post(f"/api/workflows/{w['id']}/validate", json=bad, headers=api.h())
    assert r.status_code in (200, 400, 422)
    assert r.status_code != 200 or [p["path"] for p in r.json()["problems"]] == ["actions[0].kind"]
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()["draft"] == ADD_WF
