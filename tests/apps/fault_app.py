"""A kit for the fault tests (tests/test_faults.py): workflows of several shapes whose step bodies leave a
mark each time they execute, so a test can tell "executed at least once" from "recorded exactly once".

Each step body appends one line ``<n>/<action>/<step key>`` (``!fail`` appended when the attempt fails
on purpose) to ``$WK_MARKS/marks-<pid>.log``, one file per process, with a single ``write`` on an
``O_APPEND`` descriptor: a process killed with SIGKILL loses nothing it wrote (no fsync needed, the
kernel has it). ``n`` is the number in the triggering event's data.

`SHAPES` describes the workflows and, for each action, the step keys it records, in order: the test
checks the journal against them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit
from workflow_kit.retry import RetryPolicy

from .marks import mark

SIGNAL = "fault/signal"
CHILD_EVENT = "fault/child"
RETRIES = 5
kit = WorkflowKit(retry_policy=RetryPolicy(retries=RETRIES, backoff_ms=(20,), jitter_ms=0))


def _n(ctx: ActionContext) -> int:
    return int(ctx.event["data"]["n"])


def _work_ms(ctx: ActionContext, key: str) -> float:
    """A few milliseconds of "work" inside a body, varied, so kills land inside bodies too."""
    return ((_n(ctx) * 7 + len(key) * 13) % 9) / 1000


async def _body(ctx: ActionContext, key: str) -> str:
    line = f"{_n(ctx)}/{ctx.action.id}/{key}"
    mark(line)
    await asyncio.sleep(_work_ms(ctx, key))
    return line


@kit.action(kind="fault_steps")
async def steps(ctx: ActionContext, inputs: dict[str, Any]) -> list[str]:
    """`count` steps with the same id (keys ``s``, ``s:1``, ...)."""
    out = []
    for i in range(int(inputs.get("count", 1))):
        key = "s" if i == 0 else f"s:{i}"
        out.append(await ctx.step.run("s", _body, ctx, key))
    return out


@kit.action(kind="fault_steps_sync")
def steps_sync(ctx: ActionContextSync, inputs: dict[str, Any]) -> list[str]:
    """The same from a sync handler (it runs in a thread and blocks on each step)."""

    def body(key: str) -> str:
        line = f"{_n(ctx)}/{ctx.action.id}/{key}"
        mark(line)
        time.sleep(_work_ms(ctx, key))
        return line

    return [ctx.step.run("s", body, "s" if i == 0 else f"s:{i}") for i in range(int(inputs.get("count", 1)))]


@kit.action(kind="fault_nap")
async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> str:
    """A durable sleep of `ms` real milliseconds, then a step."""
    await ctx.step.sleep("nap", int(inputs["ms"]))
    return str(await ctx.step.run("after", _body, ctx, "after"))


@kit.action(kind="fault_flaky_step")
async def flaky_step(ctx: ActionContext, inputs: dict[str, Any]) -> str:
    """A step whose first attempt fails (retried by its own counter), then another step."""

    async def attempt() -> str:
        if ctx.attempt == 0:
            mark(f"{_n(ctx)}/{ctx.action.id}/try!fail")
            raise RuntimeError("the first attempt fails on purpose")
        return await _body(ctx, "try")

    first = await ctx.step.run("try", attempt)
    return f"{first}+{await ctx.step.run('ok', _body, ctx, 'ok')}"


@kit.action(kind="fault_flaky_action")
async def flaky_action(ctx: ActionContext, inputs: dict[str, Any]) -> str:
    """The handler fails (outside any step) on its first attempt, after a step that is then replayed."""
    before = await ctx.step.run("before", _body, ctx, "before")
    if ctx.attempt == 0:
        raise RuntimeError("the handler's first attempt fails on purpose")
    return f"{before}+{await ctx.step.run('after', _body, ctx, 'after')}"


@kit.action(kind="fault_await")
async def await_signal(ctx: ActionContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Waits for ``fault/signal`` with the run's `n` (or times out after `timeout_ms`), then a step."""
    got = await ctx.step.wait_for_event(
        "signal", event=SIGNAL, timeout=int(inputs["timeout_ms"]), if_exp="async.data.n == event.data.n"
    )
    line = await ctx.step.run("after", _body, ctx, "after")
    return {"got": None if got is None else got["data"]["n"], "line": line}


@kit.action(kind="fault_notify")
async def notify(ctx: ActionContext, inputs: dict[str, Any]) -> list[str]:
    """Sends ``fault/child`` once (a send_event step), which starts a run of the child workflow."""
    return list(await ctx.step.send_event("notify", {"name": CHILD_EVENT, "data": {"n": _n(ctx)}}))


# -- the workflows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    name: str
    trigger: str
    workflow: dict[str, Any]
    steps: dict[str, list[str]]
    """Per action, the keys of the steps it records, by position."""

    @property
    def step_count(self) -> int:
        return sum(len(keys) for keys in self.steps.values())


def _action(action_id: str, kind: str, **inputs: Any) -> dict[str, Any]:
    return {"id": action_id, "kind": kind, "inputs": inputs}


def _edges(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"from": a, "to": b} for a, b in pairs]


SHAPES = {
    shape.name: shape
    for shape in (
        Shape(
            "chain",
            "fault/chain",
            {
                "actions": [
                    _action("a", "fault_steps", count=2),
                    _action("b", "fault_nap", ms="!ref($.event.data.ms)"),
                    _action("c", "fault_steps", count=1),
                ],
                "edges": _edges(("$source", "a"), ("a", "b"), ("b", "c")),
            },
            {"a": ["s", "s:1"], "b": ["nap", "after"], "c": ["s"]},
        ),
        Shape(
            "flaky",
            "fault/flaky",
            {
                "actions": [
                    _action("a", "fault_flaky_step"),
                    _action("b", "fault_flaky_action"),
                    _action("c", "fault_steps", count=1),
                ],
                "edges": _edges(("$source", "a"), ("a", "b"), ("b", "c")),
            },
            {"a": ["try", "ok"], "b": ["before", "after"], "c": ["s"]},
        ),
        Shape(
            "fanout",
            "fault/fanout",
            {
                "actions": [
                    _action("x", "fault_steps_sync", count=2),
                    _action("y", "fault_nap", ms="!ref($.event.data.ms)"),
                    _action("z", "fault_steps", count=1),
                ],
                "edges": _edges(("$source", "x"), ("$source", "y"), ("x", "z"), ("y", "z")),
            },
            {"x": ["s", "s:1"], "y": ["nap", "after"], "z": ["s"]},
        ),
        Shape(
            "wait",
            "fault/wait",
            {
                "actions": [
                    _action("a", "fault_steps", count=1),
                    _action("w", "fault_await", timeout_ms="!ref($.event.data.timeout_ms)"),
                    _action("c", "fault_steps", count=1),
                ],
                "edges": _edges(("$source", "a"), ("a", "w"), ("w", "c")),
            },
            {"a": ["s"], "w": ["signal", "after"], "c": ["s"]},
        ),
    )
}


NOTIFY = Shape(
    "notify",
    "fault/notify",
    {"actions": [_action("send", "fault_notify")], "edges": _edges(("$source", "send"))},
    {"send": ["notify"]},
)
CHILD = Shape(
    "child",
    CHILD_EVENT,
    {"actions": [_action("a", "fault_steps", count=1)], "edges": _edges(("$source", "a"))},
    {"a": ["s"]},
)


def install(target: WorkflowKit, tenant: str, shapes: Iterable[Shape] = SHAPES.values()) -> dict[str, str]:
    """Register this module's actions on `target` (a kit of the test process) and create one workflow
    per shape; returns the workflow ids by shape name."""
    for definition in kit.registry:
        if not definition.kind.startswith("builtin:") and target.registry.get(definition.kind) is None:
            target.register(definition)
    return {
        shape.name: target.workflows.create_sync(
            tenant, name=shape.name, trigger=shape.trigger, workflow=shape.workflow
        ).id
        for shape in shapes
    }
