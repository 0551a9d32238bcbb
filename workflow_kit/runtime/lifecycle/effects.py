"""What a run's transition causes, as data: the worklist `settle.py` works through in the same
transaction, and what receiving events did (`Received`).

A transition (`runs.py`) or a received event (`events_in.py`) never acts on its consequences itself:
it puts them on the worklist. Nothing here calls anything, so the modules that push effects do not
import the modules that settle them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ... import expressions
from ..rules.retention import Retention
from ..rules.settings import SettingsCache
from ..storage.rows import RunRow


@dataclass(frozen=True)
class Context:
    """What the lifecycle needs beyond the transaction: the database's dialect, the kit's settings
    cache (one per kit) and how long history is kept."""

    dialect: str
    settings: SettingsCache
    retention: Retention = field(default_factory=Retention)


@dataclass(frozen=True, slots=True)
class CancelRuns:
    """Cancel these runs if they have not ended (a newer singleton run, a ``cancel_on`` event)."""

    run_ids: tuple[str, ...]
    why: str | None


@dataclass(frozen=True, slots=True)
class CloseWaits:
    """The ended run's open waits are cancelled."""

    run_id: str


@dataclass(frozen=True, slots=True)
class FreeSlots:
    """The run gives its concurrency slots back (it parked or ended); blocked runs become due."""

    run_id: str


@dataclass(frozen=True, slots=True)
class ResolveParent:
    """The ended run was invoked by a step of another run: that step takes its result, its run wakes."""

    run: RunRow
    status: str
    output: Any
    error: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AnnounceEnd:
    """The ``workflow/run.<status>`` event of an ended run (one link further down its chain)."""

    run: RunRow
    status: str
    error: dict[str, Any] | None


Effect = CancelRuns | CloseWaits | FreeSlots | ResolveParent | AnnounceEnd


class Worklist:
    """Effects to settle, first in first out."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: deque[Effect] = deque()

    def push(self, effect: Effect) -> None:
        self._items.append(effect)

    def pop(self) -> Effect | None:
        """The oldest effect, or None when all are settled."""
        return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class Received:
    """What receiving events did: their ids, the runs they started, and whether any run became due."""

    event_ids: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    woke: bool = False


class NeedsDecision(Exception):
    """Events received undecided (``plain``) reached an expression of the tenant's (a trigger's or a
    wait's ``if``, a flow-control key or priority): they must be decided first, outside the shared write
    transaction (decide.py). Raised before anything of theirs is written (`events_in._look_ahead`)."""


TriggerKey = tuple[str, str, int, str | None]
"""A trigger as decided: (workflow id, version id, position in the workflow's list, its ``if``)."""


@dataclass
class Decided:
    """What one event does, as decided before its transaction."""

    variables: expressions.Activation
    """``event``, with the result of every expression evaluated over it."""
    triggers: dict[TriggerKey, bool] = field(default_factory=dict)
    """Whether each trigger's ``if`` holds (the triggers after a workflow's first match are left out)."""
    waits: dict[str, bool] = field(default_factory=dict)
    """Whether each open wait's ``if`` holds, by wait id."""


def trigger_key(row: Any) -> TriggerKey:
    """The key of a row of `events_in.triggers_statement`."""
    return (row.id, row.version_id, row.position, row.if_exp)
