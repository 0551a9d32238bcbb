"""In-memory runs (workflow_kit.testing): order, concurrency, joins, skips, refs, failures."""

from __future__ import annotations

import asyncio
import copy
import itertools
import threading
import time
from pathlib import Path
from typing import Any, TypedDict

import msgspec
import pytest
from helpers import action, chain, edge, workflow

from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit, WorkflowValidationError
from workflow_kit.records import ActionStatus
from workflow_kit.retry import RetryPolicy
from workflow_kit.testing import arun_workflow, run_workflow

EVENT = {"name": "app/test", "data": {"n": 5, "name": "Ann", "plan": "pro"}}
IF_TRUE = {"type": "if", "ref": "!ref($.output.result)"}
IF_FALSE = {"type": "else", "ref": "!ref($.output.result)"}


@pytest.fixture
def kit() -> WorkflowKit:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast())

    @kit.action(kind="noop")
    def noop(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        return None

    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return inputs

    @kit.action(kind="pause")
    async def pause(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await asyncio.sleep(inputs["seconds"])  # real time: makes one branch finish after another
        return ctx.action.id

    @kit.action(kind="boom")
    def boom(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise ValueError(inputs.get("message", "boom"))

    return kit


def test_linear_workflow_runs_in_order(kit: WorkflowKit) -> None:
    result = run_workflow(kit, chain("a", "b", "c"), EVENT)
    assert result.status == "completed"
    assert result.executed == ["a", "b", "c"]
    assert result.skipped == []
    assert result.error is None
    assert result.state == {"a": None, "b": None, "c": None}


def test_accepts_json_text_and_workflow_objects(kit: WorkflowKit) -> None:
    from workflow_kit import Workflow

    wf = chain("a")
    text = msgspec.json.encode(wf).decode()
    assert run_workflow(kit, text, EVENT).executed == ["a"]
    assert run_workflow(kit, Workflow.from_dict(wf), EVENT).executed == ["a"]


def test_independent_branches_run_concurrently(kit: WorkflowKit) -> None:
    meeting = asyncio.Barrier(2)

    @kit.action(kind="meet")
    async def meet(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        try:
            async with asyncio.timeout(10):  # run one after the other, the first would wait here alone
                await meeting.wait()
        except TimeoutError:
            return "alone"
        return ctx.action.id

    wf = workflow(
        [action("root", "noop"), action("left", "meet"), action("right", "meet")],
        [edge("$source", "root"), edge("root", "left"), edge("root", "right")],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed"
    assert result.state["left"] == "left" and result.state["right"] == "right", "the branches did not overlap"


def test_sync_handlers_also_run_concurrently() -> None:
    kit = WorkflowKit()
    barrier = threading.Barrier(2, timeout=5)

    @kit.action(kind="meet")
    def meet(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        return barrier.wait()  # both branches must be inside their handlers at once

    wf = workflow([action("x", "meet"), action("y", "meet")], [edge("$source", "x"), edge("$source", "y")])
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed"
    assert sorted(result.state.values()) == [0, 1]


def test_join_waits_for_all_parents_and_runs_once(kit: WorkflowKit) -> None:
    # a -> b -> d and a -> c -> e -> d: d must wait for the slower branch
    wf = workflow(
        [
            action("a", "noop"),
            action("b", "pause", seconds=0.01),
            action("c", "pause", seconds=0.05),
            action("e", "pause", seconds=0.05),
            action("d", "echo", fromB="!ref($.state.b)", fromE="!ref($.state.e)"),
        ],
        [edge("$source", "a"), edge("a", "b"), edge("a", "c"), edge("c", "e"), edge("b", "d"), edge("e", "d")],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed"
    assert result.executed.count("d") == 1
    assert result.state["d"] == {"fromB": "b", "fromE": "e"}
    order = [a for what, a in result.trace if what in ("completed", "started")]
    assert order.index("e") < order.index("d")


def test_if_else_branches_and_skip_propagation(kit: WorkflowKit) -> None:
    wf = workflow(
        [
            action("check", "builtin:if", condition="event.data.plan == 'pro'"),
            action("t1", "noop"),
            action("t2", "noop"),
            action("f1", "noop"),
            action("f2", "noop"),
            action("f3", "noop"),
        ],
        [
            edge("$source", "check"),
            edge("check", "t1", IF_TRUE),
            edge("t1", "t2"),
            edge("check", "f1", IF_FALSE),
            edge("f1", "f2"),
            edge("f2", "f3"),
        ],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.executed == ["check", "t1", "t2"]
    assert result.skipped == ["f1", "f2", "f3"]
    assert result.actions["f3"].status == ActionStatus.SKIPPED
    other = run_workflow(kit, wf, {"name": "app/test", "data": {"plan": "free"}})
    assert other.executed == ["check", "f1", "f2", "f3"]
    assert other.skipped == ["t1", "t2"]


def test_join_runs_when_one_incoming_edge_was_taken_and_skipped_refs_are_null(kit: WorkflowKit) -> None:
    wf = workflow(
        [
            action("check", "builtin:if", condition="event.data.n > 3"),
            action("yes", "echo", v="yes"),
            action("no", "echo", v="no"),
            action("join", "echo", yes="!ref($.state.yes.v)", no="!ref($.state.no.v)"),
        ],
        [
            edge("$source", "check"),
            edge("check", "yes", IF_TRUE),
            edge("check", "no", IF_FALSE),
            edge("yes", "join"),
            edge("no", "join"),
        ],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.skipped == ["no"]
    assert result.state["join"] == {"yes": "yes", "no": None}


def test_join_is_skipped_when_no_incoming_edge_is_taken(kit: WorkflowKit) -> None:
    wf = workflow(
        [
            action("check", "builtin:if", condition="false"),
            action("a", "noop"),
            action("b", "noop"),
            action("j", "noop"),
        ],
        [
            edge("$source", "check"),
            edge("check", "a", IF_TRUE),
            edge("check", "b", IF_TRUE),
            edge("a", "j"),
            edge("b", "j"),
        ],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed"
    assert set(result.skipped) == {"a", "b", "j"}


def test_match_edges_are_strict(kit: WorkflowKit) -> None:
    wf = workflow(
        [action("src", "echo", n=42), action("num", "noop"), action("text", "noop"), action("float", "noop")],
        [
            edge("$source", "src"),
            edge("src", "num", {"type": "match", "ref": "!ref($.output.n)", "value": 42}),
            edge("src", "text", {"type": "match", "ref": "!ref($.output.n)", "value": "42"}),
            edge("src", "float", {"type": "match", "ref": "!ref($.output.n)", "value": 42.0}),
        ],
    )
    result = run_workflow(kit, wf, EVENT)
    assert set(result.executed) == {"src", "num", "float"}
    assert result.skipped == ["text"]


def test_conditions_on_source_edges_read_the_event(kit: WorkflowKit) -> None:
    wf = workflow(
        [action("pro", "noop"), action("free", "noop")],
        [
            edge("$source", "pro", {"type": "match", "ref": "!ref($.event.data.plan)", "value": "pro"}),
            edge("$source", "free", {"type": "match", "ref": "!ref($.event.data.plan)", "value": "free"}),
        ],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.executed == ["pro"] and result.skipped == ["free"]


def test_builtin_if_accepts_json_logic_with_refs(kit: WorkflowKit) -> None:
    wf = workflow(
        [
            action("check", "builtin:if", condition={"==": ["!ref($.event.data.plan)", "pro"]}),
            action("t", "noop"),
            action("f", "noop"),
        ],
        [edge("$source", "check"), edge("check", "t", IF_TRUE), edge("check", "f", IF_FALSE)],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.state["check"] == {"result": True}
    assert result.executed == ["check", "t"]


def test_builtin_if_reads_state(kit: WorkflowKit) -> None:
    wf = workflow(
        [action("a", "echo", total=12), action("check", "builtin:if", condition="state.a.total >= 10")],
        [edge("$source", "a"), edge("a", "check")],
    )
    assert run_workflow(kit, wf, EVENT).state["check"] == {"result": True}


def test_refs_in_inputs_keep_types_and_render_in_text(kit: WorkflowKit) -> None:
    wf = workflow(
        [
            action(
                "a", "echo", n="!ref($.event.data.n)", greeting="hi !ref($.event.data.name)", d="!ref($.event.data)"
            ),
            action(
                "b", "echo", text="a=!ref($.state.a.n) d=!ref($.state.a.d)", both="!ref($.state.a.n)!ref($.state.a.n)"
            ),
        ],
        [edge("$source", "a"), edge("a", "b")],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.state["a"] == {"n": 5, "greeting": "hi Ann", "d": EVENT["data"]}
    assert result.state["b"]["text"] == 'a=5 d={"n":5,"name":"Ann","plan":"pro"}'
    assert result.state["b"]["both"] == "55"


def test_embedded_ref_that_matches_nothing_fails_the_action_naming_the_ref(kit: WorkflowKit) -> None:
    wf = workflow([action("a", "echo", text="hello !ref($.event.data.missing)")], [edge("$source", "a")])
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "failed"
    assert result.error is not None
    assert "!ref($.event.data.missing)" in result.error["message"]
    assert "undefined" not in result.error["message"]
    assert len(result.actions["a"].attempts) == 1  # not retried: it cannot succeed


def test_inputs_are_validated_again_after_interpolation() -> None:
    kit = WorkflowKit()

    class Numbers(msgspec.Struct):
        qty: int

    @kit.action(kind="double")
    def double(ctx: ActionContextSync, inputs: Numbers) -> int:
        return inputs.qty * 2

    wf = workflow([action("d", "double", qty="!ref($.event.data.qty)")], [edge("$source", "d")])
    ok = run_workflow(kit, wf, {"name": "x", "data": {"qty": 4}})
    assert ok.state == {"d": 8}
    bad = run_workflow(kit, wf, {"name": "x", "data": {"qty": "four"}})
    assert bad.status == "failed"
    assert bad.error is not None and "inputs.qty" in bad.error["message"]
    assert len(bad.actions["d"].attempts) == 1


def test_typed_dict_inputs_and_struct_outputs() -> None:
    kit = WorkflowKit()

    class Greeting(TypedDict):
        name: str

    class Reply(msgspec.Struct):
        text: str
        length: int

    @kit.action(kind="greet")
    async def greet(ctx: ActionContext, inputs: Greeting) -> Reply:
        return Reply(text=f"hi {inputs['name']}", length=len(inputs["name"]))

    wf = workflow([action("g", "greet", name="!ref($.event.data.name)")], [edge("$source", "g")])
    assert run_workflow(kit, wf, EVENT).state == {"g": {"text": "hi Ann", "length": 3}}


def test_output_that_breaks_its_declared_type_fails() -> None:
    kit = WorkflowKit()

    @kit.action(kind="liar")
    def liar(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        return "not a number"  # type: ignore[return-value]

    result = run_workflow(kit, workflow([action("l", "liar")], [edge("$source", "l")]), EVENT)
    assert result.status == "failed"
    assert result.error is not None and "declared type" in result.error["message"]


def test_failed_action_stops_the_run_and_keeps_earlier_outputs(kit: WorkflowKit) -> None:
    wf = workflow(
        [action("a", "echo", v=1), action("b", "boom", message="kaput"), action("c", "noop")],
        [edge("$source", "a"), edge("a", "b"), edge("b", "c")],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "failed"
    assert result.executed == ["a", "b"]
    assert result.state == {"a": {"v": 1}}
    assert result.error == {"name": "ValueError", "message": "kaput", "action": "b"}
    assert len(result.actions["b"].attempts) == 5  # the default 4 retries
    assert result.actions["c"].status == ActionStatus.PENDING


def test_a_failing_branch_lets_running_siblings_finish_but_starts_nothing_new(kit: WorkflowKit) -> None:
    wf = workflow(
        [action("slow", "pause", seconds=0.05), action("bad", "boom"), action("after_slow", "noop")],
        [edge("$source", "slow"), edge("$source", "bad"), edge("slow", "after_slow")],
    )
    result = run_workflow(kit, wf, EVENT, retry_policy=RetryPolicy.fast(retries=0))
    assert result.status == "failed"
    assert result.actions["slow"].status == ActionStatus.COMPLETED
    assert "after_slow" not in result.executed


def test_handler_retries_then_succeeds_and_sees_the_attempt_number() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast())
    seen: list[int] = []

    @kit.action(kind="flaky")
    def flaky(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        seen.append(ctx.attempt)
        if ctx.attempt < 2:
            raise ConnectionError("try again")
        return "ok"

    result = run_workflow(kit, workflow([action("f", "flaky")], [edge("$source", "f")]), EVENT)
    assert result.state == {"f": "ok"}
    assert seen == [0, 1, 2]
    attempts = result.actions["f"].attempts
    assert [a.error.name if a.error else None for a in attempts] == ["ConnectionError", "ConnectionError", None]
    assert result.executed == ["f"]


def test_default_backoff_follows_the_schedule_without_real_waiting() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy(jitter_ms=0))

    @kit.action(kind="always_fails")
    def always_fails(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise RuntimeError("no")

    started = time.perf_counter()
    result = run_workflow(kit, workflow([action("x", "always_fails")], [edge("$source", "x")]), EVENT)
    assert time.perf_counter() - started < 2
    starts = [a.started_at for a in result.actions["x"].attempts]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == [15_000, 30_000, 60_000, 120_000]


def test_non_retriable_error_fails_at_once() -> None:
    kit = WorkflowKit()

    @kit.action(kind="refuse")
    def refuse(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError("bad request")

    result = run_workflow(kit, workflow([action("r", "refuse")], [edge("$source", "r")]), EVENT)
    assert result.error == {"name": "NonRetriableError", "message": "bad request", "action": "r"}
    assert len(result.actions["r"].attempts) == 1


def test_per_action_retries_override_the_policy() -> None:
    kit = WorkflowKit(retry_policy=RetryPolicy.fast())

    @kit.action(kind="once", retries=0)
    def once(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise RuntimeError("no")

    result = run_workflow(kit, workflow([action("o", "once")], [edge("$source", "o")]), EVENT)
    assert len(result.actions["o"].attempts) == 1


def test_invalid_workflow_raises_before_anything_runs(kit: WorkflowKit) -> None:
    calls: list[str] = []

    @kit.action(kind="spy")
    def spy(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        calls.append("called")

    wf = workflow([action("a", "spy"), action("b", "unknown")], [edge("$source", "a"), edge("a", "b")])
    with pytest.raises(WorkflowValidationError) as caught:
        run_workflow(kit, wf, EVENT)
    assert [p.code for p in caught.value.problems] == ["unknown_kind"]
    assert caught.value.problems[0].path == "actions[1].kind"
    assert calls == []


def test_context_carries_the_run(kit: WorkflowKit) -> None:
    seen: dict[str, Any] = {}

    @kit.action(kind="inspect")
    def inspect_ctx(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        seen.update(
            event=ctx.event,
            action_id=ctx.action.id,
            inputs=ctx.action.inputs,
            state=dict(ctx.state),
            run_id=ctx.run_id,
            workflow_name=ctx.workflow.name,
            is_context=isinstance(ctx, ActionContext),
            attempt=ctx.attempt,
            logs=callable(ctx.logger.info),
            steps=ctx.step.run("probe", lambda: "stepped"),
        )
        with pytest.raises(TypeError):
            ctx.state["x"] = 1  # type: ignore[index]

    wf = workflow(
        [action("a", "echo", v=1), action("i", "inspect", n="!ref($.state.a.v)")],
        [edge("$source", "a"), edge("a", "i")],
        name="Inspect",
    )
    before = copy.deepcopy(wf)
    result = run_workflow(kit, wf, EVENT, run_id="run-1")
    assert wf == before  # interpolating the inputs did not change the caller's workflow
    assert result.status == "completed", result.error
    assert seen["event"]["data"] == EVENT["data"] and isinstance(seen["event"]["ts"], int)
    assert seen["action_id"] == "i"
    assert seen["inputs"] == {"n": 1}
    assert seen["state"] == {"a": {"v": 1}}
    assert seen["run_id"] == "run-1"
    assert seen["workflow_name"] == "Inspect"
    assert seen["is_context"]  # a sync handler's context is an ActionContext too
    assert (seen["attempt"], seen["logs"], seen["steps"]) == (0, True, "stepped")


async def test_arun_workflow_inside_an_event_loop(kit: WorkflowKit) -> None:
    result = await arun_workflow(kit, chain("a", "b"), EVENT)
    assert result.executed == ["a", "b"]
    with pytest.raises(RuntimeError, match="arun_workflow"):
        run_workflow(kit, chain("a"), EVENT)


def test_typescript_kit_workflow_with_numeric_ids_and_extra_keys(kit: WorkflowKit) -> None:
    wf = {
        "name": "Generate social posts",
        "edges": [{"to": "1", "from": "$source"}, {"to": "2", "from": "1", "label": "kept"}],
        "actions": [
            {"id": "1", "kind": "echo", "name": "First", "inputs": {"v": 7}, "ui": {"x": 10}},
            {"id": "2", "kind": "echo", "name": "Second", "inputs": {"prev": "!ref($.state.1.v)"}},
        ],
        "metadata": {"positions": {"1": [0, 0]}},
    }
    result = run_workflow(kit, wf, EVENT)
    assert result.state == {"1": {"v": 7}, "2": {"prev": 7}}


def test_a_kit_without_a_database_runs_in_memory_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKFLOW_KIT_DATABASE_URL", raising=False)
    kit = WorkflowKit()

    class Pair(msgspec.Struct):
        a: float
        b: float

    class Total(msgspec.Struct):
        total: float

    @kit.action(kind="add")
    def add(ctx: ActionContextSync, inputs: Pair) -> Total:
        return Total(total=inputs.a + inputs.b)

    wf = workflow([action("x", "add", a="!ref($.event.data.n)", b=3)], [edge("$source", "x")])
    assert kit.validate(wf) == []
    kit.public_actions()
    result = run_workflow(kit, wf, EVENT)
    assert result.state == {"x": {"total": 8.0}}  # a Struct output is stored as JSON
    assert list(tmp_path.iterdir()) == []  # no database file was made


def test_tuple_and_list_outputs_are_json_lists_that_refs_index() -> None:
    """Outputs are stored as JSON whatever msgspec type the handler returns: a tuple (from the action
    or from a step) becomes a list, and refs index into it like into any list."""
    kit = WorkflowKit()

    class Fixed(msgspec.Struct):
        fixed: tuple[int, int]
        label: str

    @kit.action(kind="pair")
    def pair(ctx: ActionContextSync, inputs: dict[str, Any]) -> tuple[int, int]:
        return (1, 2)

    @kit.action(kind="fixed")
    def fixed(ctx: ActionContextSync, inputs: dict[str, Any]) -> Fixed:
        return Fixed(fixed=(3, 4), label="x")

    @kit.action(kind="stepped")
    async def stepped(ctx: ActionContext, inputs: dict[str, Any]) -> Any:
        return await ctx.step.run("t", lambda: (5, 6))

    @kit.action(kind="listed")
    def listed(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[int]:
        return [7, 8]

    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return inputs

    refs = {
        "first": "!ref($.state.p[0])",
        "last": "!ref($.state.p[-1])",
        "all": "!ref($.state.p[*])",
        "fixed1": "!ref($.state.o.fixed[1])",
        "step": "!ref($.state.s[1])",
        "listed": "!ref($.state.l[1])",
    }
    wf = workflow(
        [
            action("p", "pair"),
            action("o", "fixed"),
            action("s", "stepped"),
            action("l", "listed"),
            action("r", "echo", **refs),
        ],
        [edge("$source", n) for n in "posl"] + [edge(n, "r") for n in "posl"],
    )
    assert kit.validate(wf) == []
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "completed", result.error
    assert (result.state["p"], result.state["o"], result.state["s"], result.state["l"]) == (
        [1, 2],
        {"fixed": [3, 4], "label": "x"},
        [5, 6],
        [7, 8],
    )
    assert result.state["r"] == {"first": 1, "last": 2, "all": [1, 2], "fixed1": 4, "step": 6, "listed": 8}


def test_an_embedded_ref_to_a_skipped_action_fails_naming_it(kit: WorkflowKit) -> None:
    """Whole, a ref to a skipped action's output is null; inside a text it matches nothing, which fails
    the action with the ref in the message (never "undefined" or "None" in the text)."""
    wf = workflow(
        [
            action("a", "echo", v=0),
            action("s", "echo", v=1),
            action("j", "echo", text="s=!ref($.state.s)", whole="!ref($.state.s)"),
        ],
        [
            edge("$source", "a"),
            edge("a", "s", {"type": "if", "ref": "!ref($.output.v)"}),
            edge("s", "j"),
            edge("a", "j"),
        ],
    )
    result = run_workflow(kit, wf, EVENT)
    assert result.status == "failed"
    assert result.skipped == ["s"]
    assert result.error is not None and result.error["action"] == "j"
    assert "!ref($.state.s)" in result.error["message"] and "skipped" in result.error["message"]
    assert len(result.actions["j"].attempts) == 1

    wf["actions"][2]["inputs"] = {"whole": "!ref($.state.s)"}
    assert run_workflow(kit, wf, EVENT).state["j"] == {"whole": None}
