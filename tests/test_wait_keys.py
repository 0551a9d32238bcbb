"""Waits found through an index: the key a wait's ``if`` pins, the keys of an incoming event, and the
guarantee that the index only narrows the search (a wait whose expression holds is always a candidate)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.plans import listener_probe_plan, wait_lookup_plan
from workflow_kit import ActionContextSync, WorkflowKit, expressions
from workflow_kit.errors import ExpressionError
from workflow_kit.runtime.lifecycle.waits import statements
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.rules.wait_keys import MAX_EVENT_KEYS, event_keys, key_term, wait_key
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.worker.loop import Worker

TENANT = "acme"


@pytest.mark.parametrize(
    ("if_exp", "path", "pinned"),
    [
        ("event.data.id == async.data.id", ("data", "id"), "event.data.id"),
        ("async.data.id == event.data.id", ("data", "id"), "event.data.id"),
        ("async.data.ok && async.data.user.id == event.user.id", ("data", "user", "id"), "event.user.id"),
        ("async.data.status == 'approved' && async.data.id == event.data.id", ("data", "status"), "approved"),
        ("(async.data.n == 1.5)", ("data", "n"), 1.5),
        ("async.name == r'x\\y'", ("name",), "x\\y"),
    ],
)
def test_the_term_an_expression_pins(if_exp: str, path: tuple[str, ...], pinned: Any) -> None:
    term = key_term(if_exp)
    assert term is not None and term.path == path
    if isinstance(pinned, str) and pinned.startswith("event."):
        assert term.event_path == tuple(pinned.split(".")[1:])
    else:
        assert term.literal == pinned


@pytest.mark.parametrize(
    "if_exp",
    [
        "async.data.id == event.data.id || async.data.admin",  # a disjunction pins nothing
        "async.data.a == async.data.b",
        "async.data.id != event.data.id",
        "async.data['id'] == event.data.id",
        "async.data.ids[0] == 1",
        "async.data.n + 1 == 2",
        "event.data.id == 7",
        "async.data.tags == ['a']",
        "async.data.ok",
        "!(async.data.id == 1)",
        "size(async.data.id) == 1",
    ],
)
def test_expressions_that_pin_no_field_give_no_key(if_exp: str) -> None:
    expressions.compile_expression(if_exp)  # each is valid CEL
    assert key_term(if_exp) is None
    assert wait_key(if_exp, {"name": "x", "data": {"id": 1}}) is None


def test_numbers_are_keyed_by_value_and_types_are_kept_apart() -> None:
    trigger = {"name": "go", "data": {"id": 7, "f": 7.0, "s": "7", "b": True, "one": 1}}
    assert wait_key("async.data.x == event.data.id", trigger) == wait_key("async.data.x == event.data.f", trigger)
    assert wait_key("async.data.x == 7.0", trigger) == wait_key("async.data.x == 7", trigger)
    keys = {
        wait_key("async.data.x == event.data.id", trigger),
        wait_key("async.data.x == event.data.s", trigger),
        wait_key("async.data.x == event.data.b", trigger),
    }
    assert len(keys) == 3
    # cel-python finds true == 1, so a boolean shares the key of its number (the index never hides a match)
    assert wait_key("async.data.x == event.data.b", trigger) == wait_key("async.data.x == event.data.one", trigger)
    assert wait_key("async.data.x == event.data.missing", trigger) is None  # such a wait is checked against all


def test_an_event_with_too_many_fields_is_matched_against_every_wait() -> None:
    small = {"name": "x", "data": {f"f{i}": i for i in range(10)}}
    keys = event_keys(small)
    assert keys is not None and len(keys) == 11  # the ten fields and the name
    assert event_keys({"name": "x", "data": {f"f{i}": i for i in range(MAX_EVENT_KEYS + 1)}}) is None
    nested = event_keys({"name": "x", "data": {"list": [1, 2], "map": {"deep": {"er": 1}}}})
    assert nested == [wait_key("async.name == 'x'", {}), wait_key("async.data.map.deep.er == 1", {})]


_SCALARS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2.5, -1.0, 1e20]),
    st.sampled_from(["a", "b", "", "é", "1"]),
    st.booleans(),
    st.none(),
)
_FIELDS = st.sampled_from(["id", "n", "user"])


@settings(max_examples=300)  # cheap examples
@given(
    trigger_value=_SCALARS,
    incoming=st.dictionaries(_FIELDS, st.one_of(_SCALARS, st.dictionaries(_FIELDS, _SCALARS, max_size=2)), max_size=3),
    field=_FIELDS,
    form=st.sampled_from(["event", "literal", "extra"]),
)
def test_a_wait_whose_expression_holds_is_always_a_candidate(
    trigger_value: Any, incoming: dict[str, Any], field: str, form: str
) -> None:
    """The index is a filter ahead of CEL: it may let through waits that do not match, never the reverse."""
    trigger = {"name": "start", "data": {"v": trigger_value}}
    literal = _cel_literal(trigger_value)
    if_exp = {
        "event": f"async.data.{field} == event.data.v",
        "literal": f"async.data.{field} == {literal}",
        "extra": f"has(async.data.{field}) && async.data.{field} == event.data.v",
    }[form]
    event = {"name": "done", "data": incoming}
    try:
        holds = expressions.evaluate_bool(if_exp, {"event": trigger, "async": event})
    except ExpressionError:
        holds = False
    key = wait_key(if_exp, trigger)
    keys = event_keys(event)
    if holds:
        assert key is None or keys is None or key in keys, (if_exp, trigger, event)


def _cel_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return repr(value)


# -- through the runtime ----------------------------------------------------------------------------


@pytest.fixture
def approver(kit: WorkflowKit) -> WorkflowKit:
    @kit.action(kind="await_approval")
    def await_approval(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.wait_for_event(
            "approval", event="doc/approved", if_exp="async.data.doc == event.data.doc", timeout="1d"
        )

    @kit.action(kind="await_any")
    def await_any(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return ctx.step.wait_for_event("any", event="doc/approved", if_exp="async.data.doc > 0", timeout="1d")

    return kit


def _one(kind: str) -> dict[str, Any]:
    return {"actions": [{"id": "a", "kind": kind}], "edges": [{"from": "$source", "to": "a"}]}


async def test_an_event_resolves_the_waits_it_matches_through_the_index(approver: WorkflowKit, worker: Worker) -> None:
    kit = approver
    keyed = kit.workflows.create_sync(TENANT, name="keyed", trigger="doc/submitted", workflow=_one("await_approval"))
    unkeyed = kit.workflows.create_sync(TENANT, name="unkeyed", trigger="doc/opened", workflow=_one("await_any"))
    for doc in range(1, 6):
        await kit.send(TENANT, {"name": "doc/submitted", "data": {"doc": doc}})
    await kit.send(TENANT, {"name": "doc/opened", "data": {}})
    await worker.idle()
    with kit.db.read() as conn:
        waits = conn.execute(sa.select(schema.waits.c.if_exp, schema.waits.c.match_key)).all()
    assert len(waits) == 6
    assert sum(1 for w in waits if w.match_key is not None) == 5  # the unkeyed one has no key

    await kit.send(TENANT, {"name": "doc/approved", "data": {"doc": 3.0}})  # 3.0 == 3 in CEL
    await worker.idle()
    runs = await kit.runs.list(TENANT)
    done = sorted(
        (r.workflow_id == unkeyed.id, r.event["data"].get("doc")) for r in runs if r.status == RunStatus.COMPLETED
    )
    assert done == [(False, 3), (True, None)]
    still = [r for r in runs if r.status == RunStatus.WAITING]
    assert len(still) == 4 and all(r.workflow_id == keyed.id for r in still)


async def test_the_keyed_lookup_uses_the_index(approver: WorkflowKit) -> None:
    kit = approver
    kit.db.ensure_schema()
    rows = [
        {
            "id": f"run{i}/a/0",
            "tenant": TENANT,
            "run_id": f"run{i}",
            "action_id": "a",
            "position": 0,
            "event_name": "doc/approved",
            "if_exp": "async.data.doc == event.data.doc",
            "match_key": wait_key("async.data.doc == event.data.doc", {"data": {"doc": i}}),
            "registered_at": i,
            "expires_at": 10**15,
            "status": "waiting",
        }
        for i in range(2_000)
    ]
    with kit.db.write() as conn:
        conn.execute(schema.waits.insert(), rows)
    keys = event_keys({"name": "doc/approved", "data": {"doc": 42}})
    assert keys is not None
    params = {"tenant": TENANT, "name": "doc/approved", "now": 0, "keys": keys}
    with kit.db.write() as conn:
        conn.exec_driver_sql("ANALYZE" if kit.db.dialect == "sqlite" else "ANALYZE wk_waits")
        found = statements(kit.db.dialect).waits.rows(conn, params)
        plan = wait_lookup_plan(conn, TENANT, {"name": "doc/approved", "data": {"doc": 42}}, 0)
        probe = listener_probe_plan(conn, TENANT, {"name": "doc/approved", "data": {"doc": 42}}, 0)
    assert [w.run_id for w in found] == ["run42"]
    # both halves (the keys given, the waits without a key) search the index on the key too, no scan
    assert plan.count("ix_wk_waits_open") == 2, plan
    if kit.db.dialect == "sqlite":
        assert plan.count("USING INDEX ix_wk_waits_open (tenant=? AND event_name=? AND match_key=?)") == 2, plan
    else:
        assert "match_key)::text = ANY" in plan and "match_key IS NULL" in plan and "Seq Scan" not in plan, plan
    # receive's first look at an event (is anything listening?) finds the waits through the same index
    assert probe.count("ix_wk_waits_open") == 2, probe
    assert "SCAN wk_waits" not in probe and "Seq Scan on wk_waits" not in probe, probe
