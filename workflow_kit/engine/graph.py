"""The workflow as a graph: parents, children and a stable topological order. Pure, no I/O."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from ..workflow import SOURCE, Workflow, WorkflowAction, WorkflowEdge


@dataclass(frozen=True, eq=False)
class WorkflowGraph:
    """A checked workflow's structure. Build it only from a workflow that passed validation."""

    workflow: Workflow
    actions: Mapping[str, WorkflowAction]
    incoming: Mapping[str, tuple[WorkflowEdge, ...]]
    outgoing: Mapping[str, tuple[WorkflowEdge, ...]]
    order: tuple[str, ...]
    """Every action id, parents before children; ties broken by position in the workflow."""

    @classmethod
    def build(cls, workflow: Workflow) -> WorkflowGraph:
        actions = {a.id: a for a in workflow.actions}
        incoming: dict[str, list[WorkflowEdge]] = {a: [] for a in actions}
        outgoing: dict[str, list[WorkflowEdge]] = {a: [] for a in [SOURCE, *actions]}
        for edge in workflow.edges:
            incoming[edge.to].append(edge)
            outgoing[edge.from_].append(edge)
        order = topological_order(list(actions), [(e.from_, e.to) for e in workflow.edges])
        if order is None:
            raise ValueError("the workflow has a cycle; validate it before building its graph")
        return cls(
            workflow=workflow,
            actions=actions,
            incoming={k: tuple(v) for k, v in incoming.items()},
            outgoing={k: tuple(v) for k, v in outgoing.items()},
            order=tuple(order),
        )

    @cached_property
    def rank(self) -> Mapping[str, int]:
        """Each action's position in `order`."""
        return {action_id: i for i, action_id in enumerate(self.order)}

    @cached_property
    def _children(self) -> Mapping[str, tuple[str, ...]]:
        return {a: tuple(dict.fromkeys(e.to for e in edges)) for a, edges in self.outgoing.items()}

    def children(self, action_id: str) -> tuple[str, ...]:
        """The actions with an edge from this one (or from ``$source``), each once."""
        return self._children[action_id]

    def parents(self, action_id: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.from_ for e in self.incoming[action_id]))

    @cached_property
    def _ancestors(self) -> Mapping[str, frozenset[str]]:
        found: dict[str, frozenset[str]] = {}
        for action_id in self.order:
            acc: set[str] = set()
            for parent in self.parents(action_id):
                if parent != SOURCE:
                    acc.add(parent)
                    acc |= found[parent]
            found[action_id] = frozenset(acc)
        return found

    def ancestors(self, action_id: str) -> frozenset[str]:
        """Every action upstream of this one (not itself, not ``$source``)."""
        return self._ancestors[action_id]

    @cached_property
    def _bodies(self) -> dict[str, WorkflowGraph]:
        return {}

    def body(self, action_id: str) -> WorkflowGraph:
        """The graph of a loop action's body (built once)."""
        graph = self._bodies.get(action_id)
        if graph is None:
            body = self.actions[action_id].body
            if body is None:
                raise ValueError(f"action {action_id!r} has no body")
            graph = self._bodies[action_id] = WorkflowGraph.build(body.as_workflow())
        return graph

    def handles_failure(self, action_id: str) -> bool:
        """Whether a failure of this action is handled (an edge taken on failure, or its policy's
        ``continue_on_failure``) instead of failing the run."""
        return action_id in self._handled

    @cached_property
    def _handled(self) -> frozenset[str]:
        handled = {e.from_ for edges in self.outgoing.values() for e in edges if is_failure_edge(e)}
        handled |= {a.id for a in self.actions.values() if a.policy is not None and a.policy.continue_on_failure}
        return frozenset(handled)


def is_failure_edge(edge: WorkflowEdge) -> bool:
    """An edge taken only when its source failed (``"conditional": {"type": "failed"}``)."""
    return edge.conditional is not None and edge.conditional.type == "failed"


def topological_order(nodes: list[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """Kahn's algorithm, stable by position in `nodes`; ``$source`` edges are ignored. None on a cycle."""
    rank = {node: i for i, node in enumerate(nodes)}
    indegree = dict.fromkeys(nodes, 0)
    children: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in rank and target in rank:
            children[source].append(target)
            indegree[target] += 1
    heap = [rank[n] for n in nodes if indegree[n] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        node = nodes[heapq.heappop(heap)]
        order.append(node)
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(heap, rank[child])
    return order if len(order) == len(nodes) else None


def find_cycle(nodes: list[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None. Tolerates edges to unknown nodes."""
    children: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in children and target in children:
            children[source].append(target)
    color = dict.fromkeys(nodes, 0)  # 0 new, 1 on the stack, 2 done
    for start in nodes:
        if color[start]:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        color[start] = 1
        while stack:
            node, next_child = stack[-1]
            if next_child < len(children[node]):
                stack[-1] = (node, next_child + 1)
                child = children[node][next_child]
                if color[child] == 1:
                    return [*path[path.index(child) :], child]
                if color[child] == 0:
                    color[child] = 1
                    stack.append((child, 0))
                    path.append(child)
            else:
                color[node] = 2
                stack.pop()
                path.pop()
    return None


def reachable(start: str, edges: Iterable[tuple[str, str]]) -> set[str]:
    """Every node reachable from `start` (not including it unless on a cycle)."""
    children: dict[str, list[str]] = {}
    for source, target in edges:
        children.setdefault(source, []).append(target)
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return seen
