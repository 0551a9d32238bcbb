"""Planner and validation cost for a large workflow.

    .venv/bin/python -m bench.planner [--actions 200] [--repeat 30]

Builds a layered DAG (fan-out, joins, and builtin:if branches with if/else edges) of N actions and
reports medians of: validation, graph build, one plan() call on a half-finished run, a whole run's
planning (plan() until finished, completing every ready action), and an in-memory run of the workflow
with no-op handlers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from workflow_kit import ActionContext, WorkflowKit, load_workflow
from workflow_kit.engine import WorkflowGraph, plan
from workflow_kit.records import ActionStatus
from workflow_kit.testing import run_workflow


def build(n_actions: int, width: int = 8, seed: int = 7) -> dict[str, Any]:
    """Layers of `width` actions; each links to 1-3 actions of the previous layer; every 5th is an if."""
    rng = random.Random(seed)
    actions: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    layers: list[list[str]] = []
    for i in range(n_actions):
        layer = i // width
        if layer == len(layers):
            layers.append([])
        action_id = f"a{i}"
        is_if = i % 5 == 4 and layer > 0
        if is_if:
            actions.append({"id": action_id, "kind": "builtin:if", "inputs": {"condition": "event.data.n > 2"}})
        else:
            actions.append({"id": action_id, "kind": "noop", "inputs": {"n": "!ref($.event.data.n)"}})
        if layer == 0:
            edges.append({"from": "$source", "to": action_id})
        else:
            for parent in rng.sample(layers[layer - 1], k=min(len(layers[layer - 1]), rng.randint(1, 3))):
                edge: dict[str, Any] = {"from": parent, "to": action_id}
                if parent_is_if(actions, parent):
                    kind = "if" if rng.random() < 0.5 else "else"
                    edge["conditional"] = {"type": kind, "ref": "!ref($.output.result)"}
                edges.append(edge)
        layers[layer].append(action_id)
    return {"name": f"bench-{n_actions}", "actions": actions, "edges": edges}


def parent_is_if(actions: list[dict[str, Any]], action_id: str) -> bool:
    return any(a["id"] == action_id and a["kind"] == "builtin:if" for a in actions)


def simulate(graph: WorkflowGraph, event: dict[str, Any]) -> int:
    statuses: dict[str, ActionStatus] = {}
    outputs: dict[str, Any] = {}
    calls = 0
    while True:
        calls += 1
        decided = plan(graph, statuses, outputs, event)
        for action_id in decided.skipped:
            statuses[action_id] = ActionStatus.SKIPPED
        for action_id in decided.ready:
            statuses[action_id] = ActionStatus.COMPLETED
            is_if = graph.actions[action_id].kind == "builtin:if"
            outputs[action_id] = {"result": True} if is_if else None
        if decided.finished:
            return calls


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    kit = WorkflowKit()

    @kit.action(kind="noop")
    async def noop(ctx: ActionContext, inputs: dict[str, Any]) -> None:
        return None

    raw = build(args.actions)
    event = {"name": "bench/run", "data": {"n": 3}, "ts": 0}
    workflow = load_workflow(raw)
    assert kit.validate(workflow) == [], kit.validate(workflow)[:3]
    graph = WorkflowGraph.build(workflow)

    half = dict.fromkeys(graph.order[: len(graph.order) // 2], ActionStatus.COMPLETED)
    half_outputs = {a: ({"result": True} if graph.actions[a].kind == "builtin:if" else None) for a in half}
    calls = simulate(graph, event)

    rows = [
        ("validate (kit.validate)", median_ms(lambda: kit.validate(workflow), args.repeat)),
        ("graph build", median_ms(lambda: WorkflowGraph.build(workflow), args.repeat)),
        ("one plan() on a half-done run", median_ms(lambda: plan(graph, half, half_outputs, event), args.repeat)),
        (f"whole run's planning ({calls} plan calls)", median_ms(lambda: simulate(graph, event), args.repeat)),
        (
            "in-memory run, no-op handlers",
            median_ms(lambda: run_workflow(kit, workflow, event), max(5, args.repeat // 3)),
        ),
    ]
    print(f"{args.actions} actions, {len(raw['edges'])} edges; medians of {args.repeat} runs")
    for label, ms in rows:
        print(f"  {label:<45} {ms:9.2f} ms")


if __name__ == "__main__":
    main()
