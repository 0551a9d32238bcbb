"""The planner: from a workflow's graph and what has happened so far, decide what runs next. Pure.

- An action is considered once every parent is resolved (completed or skipped): a join waits for all
  its parents and is decided once.
- It runs if at least one incoming edge is taken: the edge's source completed and its condition holds.
- Otherwise it is skipped, and because its own out-edges then cannot be taken, skips propagate to
  every descendant that has no other live path.
- A failed action is settled too when its failure is handled (otherwise it blocks, and the run fails): its
  error edges (``"conditional": {"type": "failed"}``) are taken and its other edges are not; without
  error edges, ``continue_on_failure`` takes its other edges as if it had completed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..records import ActionStatus
from ..workflow import SOURCE, WorkflowEdge
from .conditions import holds
from .graph import WorkflowGraph, is_failure_edge

_DONE = ActionStatus.COMPLETED
_FAILED = ActionStatus.FAILED
_PENDING = ActionStatus.PENDING


@dataclass(frozen=True, slots=True)
class Plan:
    ready: tuple[str, ...]
    """Actions to start now, parents first."""
    skipped: tuple[str, ...]
    """Actions newly decided as skipped, parents first."""
    finished: bool
    """Every action is completed or skipped: the run is done."""


def plan(
    graph: WorkflowGraph,
    statuses: Mapping[str, ActionStatus],
    outputs: Mapping[str, Any],
    event: dict[str, Any],
    *,
    frontier: Iterable[str] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Plan:
    """Decide which pending actions are ready and which are skipped.

    `statuses` maps action ids to their status (missing means pending); `outputs` holds the outputs of
    completed actions. `frontier`, if given, names the only pending actions whose parents may have
    changed since the last plan (the children of what just resolved): the others are not looked at,
    which keeps a long run's planning linear. Raises `ConditionError` if an edge condition cannot be
    evaluated. `variables`: extra roots the conditions' refs see (a loop body's ``item``, ``index``, ...).
    """
    decided: dict[str, ActionStatus] = {}
    ready: list[str] = []
    skipped: list[str] = []

    def status(action_id: str) -> ActionStatus:
        return decided.get(action_id) or statuses.get(action_id, _PENDING)

    def settled(action_id: str) -> bool:
        found = status(action_id)
        return found.resolved or (found == _FAILED and graph.handles_failure(action_id))

    rank = graph.rank
    queue = list(range(len(graph.order))) if frontier is None else sorted({rank[a] for a in frontier})
    seen = set(queue)
    state = outputs if isinstance(outputs, dict) else dict(outputs)
    while queue:
        action_id = graph.order[heapq.heappop(queue)]
        if status(action_id) != _PENDING:
            continue
        edges = graph.incoming[action_id]
        if any(e.from_ != SOURCE and not settled(e.from_) for e in edges):
            continue
        if any(_taken(graph, edge, status, state, event, variables) for edge in edges):
            decided[action_id] = ActionStatus.RUNNING
            ready.append(action_id)
        else:
            decided[action_id] = ActionStatus.SKIPPED
            skipped.append(action_id)
            for child in graph.children(action_id):  # a skip may settle its children now
                position = rank[child]
                if position not in seen:
                    seen.add(position)
                    heapq.heappush(queue, position)
    finished = not ready and all(settled(a) for a in graph.order)
    return Plan(tuple(ready), tuple(skipped), finished)


def _taken(
    graph: WorkflowGraph,
    edge: WorkflowEdge,
    status: Any,
    state: dict[str, Any],
    event: dict[str, Any],
    variables: Mapping[str, Any] | None,
) -> bool:
    source = edge.from_
    if source == SOURCE:
        if edge.conditional is None:
            return True
    elif status(source) == _FAILED:
        if is_failure_edge(edge):
            return True
        if not _continues(graph, source):
            return False
    elif status(source) != _DONE or is_failure_edge(edge):
        return False
    if edge.conditional is None:
        return True
    output = state.get(source) if source != SOURCE else None
    return holds(edge.conditional, output=output, event=event, state=state, variables=variables)


def _continues(graph: WorkflowGraph, action_id: str) -> bool:
    """A failed action whose policy continues on failure, with no error edge: its edges are taken."""
    action = graph.actions[action_id]
    has_error_edge = any(is_failure_edge(e) for e in graph.outgoing[action_id])
    return bool(action.policy and action.policy.continue_on_failure) and not has_error_edge
