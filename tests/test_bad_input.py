"""Bad input, through the editor API and the Python API: JSON nested too deeply, lone surrogates, NUL
characters, huge lists, values that are not JSON, bad timestamps, too many events at once, CEL that is
nested too deeply or too expensive to run.

Each gets a clear error naming where the problem is (over HTTP: 400 or 422 with ``{code, message,
path}``, or ``problems`` with a path each for a workflow), nothing is stored, and the process stays
healthy: the next good request works.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from conftest import Api
from helpers import assert_error
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow_kit import WorkflowKit, cel_limits, jsonlimits
from workflow_kit.cel_limits import MAX_STEPS
from workflow_kit.cli import main
from workflow_kit.errors import ExpressionError, WorkflowValidationError
from workflow_kit.events import MAX_EVENTS_PER_SEND, EventError
from workflow_kit.expressions import evaluate
from workflow_kit.jsonlimits import MAX_JSON_DEPTH
from workflow_kit.runtime.storage import schema
from workflow_kit.testing import run_workflow

ECHO = {
    "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data.x)"}}],
    "edges": [{"from": "$source", "to": "a"}],
}
DEEP_CEL = "(" * 300 + "1" + ")" * 300
# Four nested macros over 10 elements each: 10,000 evaluations of the innermost body.
TEN = "[" + ",".join(["0"] * 10) + "]"
EXPENSIVE_CEL = f"{TEN}.all(a, {TEN}.all(b, {TEN}.all(c, {TEN}.all(d, a + b + c + d == 0))))"


def nested(levels: int, leaf: Any = 1) -> Any:
    """``{"x": {"x": ... leaf}}``: `levels` objects inside each other."""
    value = leaf
    for _ in range(levels):
        value = {"x": value}
    return value


def deep_path(base: str, depth: int) -> str:
    """The path of the object at level ``MAX_JSON_DEPTH + 1`` (the first one too deep) in ``nested(...)``
    at `base`, whose own level is `depth`."""
    return base + ".x" * (MAX_JSON_DEPTH + 1 - depth)


def raw_json(api: Api, method: str, url: str, body: bytes) -> Any:
    headers = {**api.headers(), "Content-Type": "application/json"}
    return api.client.request(method, url, headers=headers, content=body)


def problems(response: Any) -> list[tuple[str, str]]:
    body = assert_error(response, 422, "invalid_workflow")
    return [(p["code"], p["path"]) for p in body["problems"]]


def assert_nothing_stored(api: Api) -> None:
    for url in ("/api/events", "/api/workflows", "/api/runs"):
        response = api.client.get(url, headers=api.headers())
        assert response.status_code == 200, response.text
        assert response.json()["items"] == [], (url, response.json())


def assert_healthy(api: Api) -> None:
    """The server answers, and a good event is still received."""
    assert api.client.get("/api/health").json() == {"status": "ok"}
    response = api.client.post("/api/events", headers=api.headers(), json={"name": "app/fine", "data": {"ok": 1}})
    assert response.status_code == 202, response.text


# -- events over HTTP ---------------------------------------------------------------------------------


def test_events_nested_too_deeply_are_400_with_the_path(api: Api) -> None:
    event = {"name": "app/x", "data": {"x": nested(MAX_JSON_DEPTH - 1)}}  # the event is level 1, data.x level 3
    response = api.client.post("/api/events", headers=api.headers(), json=event)
    assert_error(response, 400, "invalid_event", deep_path("events[0].data.x", 3))

    in_a_list = [{"name": "app/ok"}, {"name": "app/x", "data": nested(MAX_JSON_DEPTH)}]
    response = api.client.post("/api/events", headers=api.headers(), json=in_a_list)
    assert_error(response, 400, "invalid_event", deep_path("events[1].data", 2))

    # deeper than the JSON decoder's stack: still a 400, not a 500
    body = b'{"name": "app/x", "data": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    assert_error(raw_json(api, "POST", "/api/events", body), 400, "bad_request")
    assert_nothing_stored(api)
    assert_healthy(api)


def test_an_event_at_the_depth_limit_is_accepted(api: Api) -> None:
    event = {"name": "app/x", "data": {"x": nested(MAX_JSON_DEPTH - 2)}}
    response = api.client.post("/api/events", headers=api.headers(), json=event)
    assert response.status_code == 202, response.text
    stored = api.client.get(f"/api/events/{response.json()['ids'][0]}", headers=api.headers()).json()
    assert stored["event"]["data"] == event["data"]


def test_lone_surrogates_and_nul_in_events_are_400_with_the_path(api: Api) -> None:
    cases = [
        (b'{"name": "app/x", "data": {"a": {"b": "\\ud800"}}}', "data.a.b"),
        (b'[{"name": "app/x"}, {"name": "app/x", "data": {"a": ["ok", "\\udfff x"]}}]', "[1].data.a[1]"),
        (b'{"name": "app/x", "data": {"\\ud83d": 1}}', "data"),
        (b'{"name": "app/\\ud800"}', "name"),
        (b'{"name": "app/x", "id": "\\udc00"}', "id"),
    ]
    for body, path in cases:
        found = assert_error(raw_json(api, "POST", "/api/events", body), 400, "bad_request", path)
        assert "Unicode" in found["message"], found
    body = b'{"name": "app/x", "data": {"a": "nul \\u0000 here"}}'
    found = assert_error(raw_json(api, "POST", "/api/events", body), 400, "invalid_event", "events[0]")
    assert "NUL" in found["message"]
    assert_nothing_stored(api)
    assert_healthy(api)


def test_bad_timestamps_are_400_naming_ts(api: Api) -> None:
    for ts in (-1, 253_402_300_800_000, 10**20, 2**63):  # the last ms of year 9999 is ...799_999
        response = api.client.post("/api/events", headers=api.headers(), json={"name": "app/x", "ts": ts})
        found = assert_error(response, 400, "invalid_event", "events[0].ts")
        assert "9999" in found["message"]
    for wrong in ("2026-01-01", 1.5, True):
        response = api.client.post("/api/events", headers=api.headers(), json={"name": "app/x", "ts": wrong})
        assert_error(response, 400, "bad_request", "ts")
    assert_nothing_stored(api)
    assert_healthy(api)


def test_too_many_events_at_once_are_400(api: Api) -> None:
    events = [{"name": "app/x"}] * (MAX_EVENTS_PER_SEND + 1)
    found = assert_error(api.client.post("/api/events", headers=api.headers(), json=events), 400, "invalid_event")
    assert found["path"] == "events"
    assert str(MAX_EVENTS_PER_SEND) in found["message"]
    assert_nothing_stored(api)
    response = api.client.post("/api/events", headers=api.headers(), json=[{"name": "app/x"}] * MAX_EVENTS_PER_SEND)
    assert response.status_code == 202, response.text
    assert len(response.json()["ids"]) == MAX_EVENTS_PER_SEND


def test_a_body_over_the_size_limit_is_413(api: Api) -> None:
    body = b'{"name": "app/x", "data": {"rows": [' + b"0," * (5 * 1024 * 1024) + b"0]}}"
    assert_error(raw_json(api, "POST", "/api/events", body), 413, "too_large")
    assert_nothing_stored(api)
    assert_healthy(api)


# -- workflows over HTTP ------------------------------------------------------------------------------


def create(api: Api, **fields: Any) -> Any:
    body = {"name": "Echo", "trigger": {"event": "app/x"}, "workflow": ECHO, **fields}
    return api.client.post("/api/workflows", headers=api.headers(), json=body)


def test_workflows_nested_too_deeply_are_422_with_the_path(api: Api) -> None:
    deep_inputs = {"x": nested(MAX_JSON_DEPTH)}
    workflow = {**ECHO, "actions": [{"id": "a", "kind": "echo", "inputs": deep_inputs}]}
    expected = deep_path("actions[0].inputs.x", 5)
    assert problems(create(api, workflow=workflow)) == [("too_deep", expected)]
    response = api.client.post("/api/workflows/validate", headers=api.headers(), json=workflow)
    assert response.status_code == 200, response.text
    assert [(p["code"], p["path"]) for p in response.json()["problems"]] == [("too_deep", expected)]
    assert problems(api.client.post("/api/workflows/import?trigger=app/x", headers=api.headers(), json=workflow)) == [
        ("too_deep", expected)
    ]
    body = b'{"name": "W", "trigger": {"event": "app/x"}, "workflow": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    assert_error(raw_json(api, "POST", "/api/workflows", body), 400, "bad_request")
    assert_nothing_stored(api)
    assert_healthy(api)


def test_a_deep_workflow_in_an_update_changes_nothing(api: Api) -> None:
    created = create(api)
    assert created.status_code == 201, created.text
    record = created.json()
    url = f"/api/workflows/{record['id']}"
    workflow = {**ECHO, "metadata": {"notes": nested(MAX_JSON_DEPTH)}}
    assert problems(api.client.put(url, headers=api.headers(), json={"workflow": workflow})) == [
        ("too_deep", deep_path("metadata.notes", 3))
    ]
    after = api.client.get(url, headers=api.headers()).json()
    assert (after["version"], after["draft"]) == (record["version"], record["draft"])


def test_lone_surrogates_and_nul_in_workflows_are_rejected_with_the_path(api: Api) -> None:
    def body(name: str = "W", event: str = "app/x", x: str = "ok") -> bytes:
        workflow = {**ECHO, "actions": [{"id": "a", "kind": "echo", "inputs": {"x": x}}]}
        text = json.dumps({"name": name, "trigger": {"event": event}, "workflow": workflow})  # escapes them
        return text.encode()

    cases = [
        (body(x="\ud800"), "workflow.actions[0].inputs.x"),
        (body(name="W \udfff"), "name"),
        (body(event="app/\ud800"), "trigger.event"),
    ]
    for raw, path in cases:
        found = assert_error(raw_json(api, "POST", "/api/workflows", raw), 400, "bad_request", path)
        assert "Unicode" in found["message"], found
    response = raw_json(api, "POST", "/api/workflows", body(x="a \x00 b"))
    assert [(p["code"], p["path"]) for p in assert_error(response, 422, "invalid_workflow")["problems"]] == [
        ("invalid_text", "workflow")
    ]
    assert "NUL" in response.text
    assert_nothing_stored(api)
    assert_healthy(api)


def test_huge_workflows_get_one_problem_each(api: Api) -> None:
    many_actions = {
        "actions": [{"id": f"a{i}", "kind": "echo"} for i in range(1001)],
        "edges": [{"from": "$source", "to": f"a{i}"} for i in range(1001)],
    }
    assert problems(create(api, workflow=many_actions)) == [("too_many_actions", "actions")]
    many_edges = {**ECHO, "edges": [{"from": "$source", "to": "a"}] * 5001}
    started = time.monotonic()
    assert problems(create(api, workflow=many_edges)) == [("too_many_edges", "edges")]
    assert time.monotonic() - started < 5
    assert_nothing_stored(api)


def test_cel_nested_too_deeply_is_422_at_save(api: Api) -> None:
    response = create(api, trigger={"event": "app/x", "if": DEEP_CEL})
    assert problems(response) == [("invalid_expression", "trigger.if")]
    assert "nested too deeply" in response.json()["problems"][0]["message"]
    condition = {
        "actions": [{"id": "a", "kind": "builtin:if", "inputs": {"condition": DEEP_CEL}}],
        "edges": [{"from": "$source", "to": "a"}],
    }
    assert problems(create(api, workflow=condition, publish=True)) == [
        ("invalid_expression", "actions[0].inputs.condition")
    ]
    assert_nothing_stored(api)
    assert_healthy(api)


@pytest.fixture
def no_cel_time_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the tests of the CEL step bound: on a loaded machine 100,000 steps can take longer than the time
    bound (2 s), which would then stop the evaluation first (it has a test of its own)."""
    monkeypatch.setattr(cel_limits, "MAX_SECONDS", 600.0)


@pytest.mark.usefixtures("no_cel_time_bound")
def test_an_expensive_condition_fails_the_run_and_the_server_goes_on(api: Api) -> None:
    workflow = {
        "actions": [{"id": "a", "kind": "builtin:if", "inputs": {"condition": EXPENSIVE_CEL}}],
        "edges": [{"from": "$source", "to": "a"}],
    }
    created = create(api, workflow=workflow, publish=True)
    assert created.status_code == 201, created.text
    started = time.monotonic()
    response = api.client.post(f"/api/workflows/{created.json()['id']}/test", headers=api.headers(), json={})
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]
    while (run := api.client.get(f"/api/runs/{run_id}", headers=api.headers()).json())["status"] not in (
        "completed",
        "failed",
    ):
        assert time.monotonic() - started < 20, run
        time.sleep(0.05)
    assert run["status"] == "failed", run
    assert f"more than {MAX_STEPS} evaluation steps" in str(run["error"]), run["error"]
    assert_healthy(api)


def test_a_bad_test_event_stores_nothing(api: Api) -> None:
    created = create(api)
    assert created.status_code == 201, created.text
    url = f"/api/workflows/{created.json()['id']}/test"
    event = {"event": {"name": "app/x", "data": nested(MAX_JSON_DEPTH)}}
    assert_error(api.client.post(url, headers=api.headers(), json=event), 400, "invalid_event")
    with api.kit.db.read() as conn:  # not even the draft's snapshot, which a test run starts from
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.workflow_versions)).scalar() == 0
    assert api.client.get("/api/runs", headers=api.headers()).json()["items"] == []


# -- the Python API -----------------------------------------------------------------------------------


async def test_kit_send_rejects_bad_events_naming_the_path(kit: WorkflowKit) -> None:
    cases: list[tuple[Any, str, str]] = [
        ({"name": "app/x", "data": {"a": nested(MAX_JSON_DEPTH)}}, deep_path("events.data.a", 3), "deep"),
        ({"name": "app/x", "data": {"a": nested(5000)}}, deep_path("events.data.a", 3), "deep"),
        ({"name": "app/x", "data": {"a": ["\ud800"]}}, "events.data.a[0]", "Unicode"),
        ({"name": "app/x", "data": {"a": {"when": object()}}}, "events.data.a.when", "not a JSON value"),
        ({"name": "app/x", "data": {"a": {(1, 2): 2}}}, "events.data.a", "key that is not text"),
        ({"name": "app/x", "data": {"a": "\x00"}}, "events", "NUL"),
        ({"name": "app/x", "ts": 10**20}, "events.ts", "9999"),
        ({"name": "app/x", "ts": 1.5}, "events.ts", "milliseconds"),
    ]
    for event, path, words in cases:
        with pytest.raises(EventError) as info:
            await kit.send("acme", event)
        assert info.value.path == path, (event, info.value)
        assert words in str(info.value), info.value
    with pytest.raises(EventError) as info:
        await kit.send("acme", [{"name": "app/x"}] * (MAX_EVENTS_PER_SEND + 1))
    assert info.value.path == "events"
    with pytest.raises(EventError) as info:
        await kit.send("acme", [{"name": "app/x"}, {"name": "app/y", "data": {"s": "\udfff"}}])
    assert info.value.path == "events[1].data.s"
    assert kit.events.list_sync("acme") == []
    assert len(await kit.send("acme", {"name": "app/x", "data": {"a": nested(MAX_JSON_DEPTH - 2)}})) == 1


def test_a_bad_tenant_is_a_value_error(kit: WorkflowKit) -> None:
    for tenant in ("", " ", "t" * 129, "a\x00b", "a\ud800b"):
        with pytest.raises(ValueError, match="tenant"):
            kit.send_sync(tenant, {"name": "app/x"})
    assert kit.events.list_sync("acme") == []


def test_kit_workflows_reject_deep_and_unencodable_workflows(kit: WorkflowKit) -> None:
    deep = {**ECHO, "metadata": {"notes": nested(MAX_JSON_DEPTH)}}
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync("acme", name="W", trigger="app/x", workflow=deep)
    assert [(p.code, p.path) for p in info.value.problems] == [("too_deep", deep_path("metadata.notes", 3))]
    very_deep = {**ECHO, "metadata": {"notes": nested(10_000)}}
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync("acme", name="W", trigger="app/x", workflow=very_deep)
    assert [p.code for p in info.value.problems] == ["too_deep"]
    odd = {**ECHO, "metadata": {"notes": {"when": object()}}}
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync("acme", name="W", trigger="app/x", workflow=odd)
    assert [(p.code, p.path) for p in info.value.problems] == [("invalid_format", "metadata.notes.when")]
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"name": "W \ud800"}, ("invalid_name", "name")),
        ({"description": "\udfff"}, ("invalid_description", "description")),
        ({"trigger": "app/\ud800"}, ("invalid_trigger", "trigger")),
        ({"trigger": {"event": "app/x", "if": "event.name == '\ud800'"}}, ("invalid_trigger", "trigger")),
        ({"trigger": {"cron": "TZ=Europe/Paris\ud800 0 12 * * 5"}}, ("invalid_trigger", "trigger.cron")),
        ({"settings": {"idempotency": "event.data.\ud800"}}, ("invalid_settings", "settings.idempotency")),
    ]
    for fields, problem in cases:
        arguments: dict[str, Any] = {"name": "W", "trigger": "app/x", "workflow": ECHO, **fields}
        with pytest.raises(WorkflowValidationError) as info:
            kit.workflows.create_sync("acme", **arguments)
        assert [(p.code, p.path) for p in info.value.problems] == [problem]
        assert "Unicode" in str(info.value)
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync("acme", name="W", trigger=5, workflow=ECHO)  # type: ignore[arg-type]
    assert [(p.code, p.path) for p in info.value.problems] == [("invalid_trigger", "trigger")]
    text = '{"actions": [' * 5000
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync("acme", name="W", trigger="app/x", workflow=text)
    assert info.value.problems[0].code in ("invalid_json", "too_deep")
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.create_sync("acme", name="W", trigger={"event": "app/x", "if": DEEP_CEL}, workflow=ECHO)
    assert [p.path for p in info.value.problems] == ["trigger.if"]
    assert kit.workflows.list_sync("acme") == []


@pytest.mark.usefixtures("no_cel_time_bound")
def test_cel_bounds() -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        evaluate(DEEP_CEL, {})
    with pytest.raises(ExpressionError, match="evaluation steps"):
        evaluate(EXPENSIVE_CEL, {})
    with pytest.raises(ExpressionError, match="evaluation steps"):  # `||` does not absorb a bound
        evaluate(f"{EXPENSIVE_CEL} || true", {})
    doubling = "['ab'].map(a, a + a).map(a, a + a)" + ".map(a, a + a + a + a + a + a + a + a)" * 8
    with pytest.raises(ExpressionError, match="limit"):
        evaluate(doubling, {})
    for source in ("event.data.a == event.data.a", "size(event.data) > 0"):  # variables too deep to convert
        with pytest.raises(ExpressionError, match="nested too deeply"):
            evaluate(source, {"event": {"data": {"a": nested(5000)}}})
    assert evaluate("[1, 2, 3].map(x, x * 2)", {}) == [2, 4, 6]


def test_the_cel_time_bound_stops_an_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cel_limits, "MAX_SECONDS", 0.0)
    with pytest.raises(ExpressionError, match="takes longer than 0 seconds"):
        evaluate(EXPENSIVE_CEL, {})


def test_a_step_output_nested_too_deeply_fails_the_step() -> None:
    kit = WorkflowKit()

    @kit.action(kind="deep", name="Deep")
    def deep(ctx: Any, inputs: dict[str, Any]) -> Any:
        return nested(int(inputs["levels"]))

    workflow = {
        "actions": [{"id": "a", "kind": "deep", "inputs": {"levels": 5000}}],
        "edges": [{"from": "$source", "to": "a"}],
    }
    result = run_workflow(kit, workflow, {"name": "app/x"})
    assert result.status == "failed"
    assert result.error is not None and "nested more than" in result.error["message"], result.error
    workflow["actions"][0]["inputs"] = {"levels": MAX_JSON_DEPTH}  # type: ignore[index]
    assert run_workflow(kit, workflow, {"name": "app/x"}).status == "completed"


def test_the_command_line_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    with pytest.raises(SystemExit, match="nested too deeply"):
        main(["send", "acme", "[" * 100_000 + "]" * 100_000, "--database-url", url])
    with pytest.raises(SystemExit, match="tenant"):
        main(["send", " ", '{"name": "app/x"}', "--database-url", url])
    capsys.readouterr()
    deep = json.dumps({"name": "app/x", "data": nested(MAX_JSON_DEPTH)})
    assert main(["send", "acme", deep, "--database-url", url]) == 1
    assert deep_path("events.data", 2) + ": nested more than" in capsys.readouterr().err
    assert main(["send", "acme", '{"name": "app/x"}', "--database-url", url]) == 0
    assert len(json.loads(capsys.readouterr().out)["ids"]) == 1


# -- the depth check itself ---------------------------------------------------------------------------

TRICKY_TEXT = st.text(alphabet='[]{}"\\ab\n\x01é', max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY_TEXT, inner, max_size=4),
    max_leaves=40,
)


def depth_of(value: Any) -> int:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max((depth_of(child) for child in children), default=0)
    return 0


@settings(max_examples=500)  # cheap examples
@given(JSON_VALUES, st.integers(0, 10))
def test_the_depth_check_agrees_with_a_recursive_walk(value: Any, limit: int) -> None:
    """Brackets, quotes and backslashes inside strings must not fool the text-based check."""
    if depth_of(value) <= limit:
        assert jsonlimits.encode(value, "v", max_depth=limit) == msgspec.json.encode(value)
    else:
        with pytest.raises(jsonlimits.JSONShapeError) as info:
            jsonlimits.encode(value, "v", max_depth=limit)
        assert info.value.code == "too_deep"
