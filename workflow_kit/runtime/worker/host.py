"""What a worker needs from the kit that runs it, handed over by the kit (the worker does not import
the kit: ``kit.worker()`` builds a `WorkerHost` from itself)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ...actions import ActionRegistry
from ...ai import AIProvider
from ...observe import Observer
from ...retry import RetryPolicy
from ...timeutil import Clock
from ..lifecycle.decide import DecideFirst
from ..lifecycle.remote import RemoteEngine
from ..rules.retention import Retention
from ..rules.settings import SettingsCache
from ..storage.db import Database

if TYPE_CHECKING:
    from ..stores.connections import ConnectionStore


class Attached(Protocol):
    """A worker as the kit keeps track of it."""

    def cancelled(self, run_id: str) -> None:
        """A run was cancelled in this process: stop it before its next step if it executes here."""


@dataclass(frozen=True)
class WorkerHost:
    """The kit's side of a worker: its actions, database, clock, defaults, settings cache, and the
    callbacks that wake this process's workers and keep track of them."""

    registry: ActionRegistry
    db: Database
    clock: Clock
    retry_policy: RetryPolicy
    ai: AIProvider
    settings: SettingsCache
    notify: Callable[[], None]
    """Wake this process's workers (something became due)."""
    attach: Callable[[Attached, asyncio.AbstractEventLoop, asyncio.Event], None]
    """Called by a worker that starts: (worker, its loop, the event that wakes it)."""
    detach: Callable[[Attached, asyncio.Event], None]
    """Called by a worker that stopped."""
    connections: ConnectionStore | None = None
    """Where steps get the live credentials of their connection inputs."""
    observer: Observer | None = None
    """Told of runs and attempts (the kit's `observers` as one); None when nothing watches."""
    retention: Retention = field(default_factory=Retention)
    """How long history is kept (the worker deletes what expired)."""
    decide_first: DecideFirst = field(default_factory=DecideFirst)
    """Whose events are decided before their transaction (the kit's: its sends and its steps' share it)."""
    remote: Callable[[], RemoteEngine | None] = lambda: None
    """The kit's ``remote`` engine (None if none): told of its runs a bulk operation cancelled or started."""
