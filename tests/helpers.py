"""Small builders shared by the tests."""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from workflow_kit import ActionContextSync, WorkflowKit


def edge(source: str, target: str, conditional: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"from": source, "to": target, **extra}
    if conditional is not None:
        out["conditional"] = conditional
    return out


def action(action_id: str, kind: str, **inputs: Any) -> dict[str, Any]:
    return {"id": action_id, "kind": kind, "inputs": inputs}


def workflow(actions: list[dict[str, Any]], edges: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"actions": actions, "edges": edges, **extra}


def register_flaky(
    kit: WorkflowKit, kind: str = "flaky", then: Callable[[ActionContextSync], object] | None = None
) -> None:
    """An action `kind` whose one step, ``call``, fails its first attempt ("the first call fails") and
    returns "ok" on the next; `then` runs after the step (e.g. to send an event)."""
    calls = [0]

    def call() -> str:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the first call fails")
        return "ok"

    @kit.action(kind=kind)
    def flaky(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        result = str(ctx.step.run("call", call))
        if then is not None:
            then(ctx)
        return result


def chain(*ids: str, kind: str = "noop") -> dict[str, Any]:
    """$source -> ids[0] -> ids[1] -> ..."""
    nodes = ["$source", *ids]
    return workflow([action(i, kind) for i in ids], [edge(a, b) for a, b in itertools.pairwise(nodes)])


def assert_closed_cycle(cycle: list[str] | None, edges: list[tuple[str, str]]) -> None:
    """`cycle` (from `find_cycle`) is a simple cycle, closed (it ends where it starts), along `edges`."""
    assert cycle is not None
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1  # a simple cycle
    edge_set = set(edges)
    for source, target in itertools.pairwise(cycle):
        assert (source, target) in edge_set


def assert_error(response: Any, status: int, code: str, path: str | None = None) -> dict[str, Any]:
    """An API error: the status, the code, a message, no traceback, and the path if one is given."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert "Traceback" not in response.text
    if path is not None:
        assert body.get("path") == path, body
    return body


@contextmanager
def count_selects(kit: WorkflowKit) -> Iterator[list[str]]:
    """The SELECT statements the kit's engine runs inside the block."""
    selects: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(kit.db.engine, "before_cursor_execute", record)
    try:
        yield selects
    finally:
        sa.event.remove(kit.db.engine, "before_cursor_execute", record)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.getMessage()}")


@contextmanager
def logged(name: str) -> Iterator[list[str]]:
    """The messages logged to logger `name` meanwhile, as ``"LEVEL message"`` (a handler on that logger
    itself: Litestar's logging setup replaces the root logger's handlers, pytest's caplog among them)."""
    handler = _Collect()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
