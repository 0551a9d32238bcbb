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

from ..rules.settings import SettingsCache
from ..storage.rows import RunRow


@dataclass(frozen=True)
class Context:
    """What the lifecycle needs beyond the transaction: the database's dialect and the kit's settings
    cache (one per kit)."""

    dialect: str
    settings: SettingsCache


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
