"""What the runtime tells whoever watches it: runs starting and ending, attempts of actions and steps
ending, events received. The JSON logs (logs.py), the Prometheus metrics (metrics.py) and the traces
(traces.py) are observers; a kit keeps a list of them (``kit.observers``).

The hot path stays cheap when nothing watches: a worker asks once, when it starts, for the kit's
observer, and gets None when the list is empty; then each hook costs one ``is not None`` branch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .errors import ErrorInfo

_LOG = logging.getLogger("workflow_kit.observe")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run a hook is about: what a log line, a metric's labels or a span's attributes name."""

    run_id: str
    tenant: str
    workflow_id: str
    version: int | None
    parent_run_id: str | None = None
    traceparent: str | None = None
    """The W3C trace context the run was started in (its event's), if any."""


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    """One attempt of an action's handler (`step` None) or of one of its steps that ended: `outcome` is
    ``completed``, ``retrying`` (it failed and will be tried again) or ``failed`` (for good)."""

    action_id: str
    step: str | None
    outcome: str
    started_at: int
    ended_at: int
    error: ErrorInfo | None = None

    @property
    def duration_ms(self) -> int:
        return max(0, self.ended_at - self.started_at)


class Observer:
    """Override the hooks you need; each does nothing here. Hooks run on the worker's event loop (or the
    caller's thread for `events_received`): keep them quick, and never raise."""

    def run_started(self, run: RunInfo, now_ms: int) -> None:
        """A run is executed for the first time."""

    def run_resumed(self, run: RunInfo, now_ms: int) -> None:
        """A run that slept, waited or retried is executed again."""

    def run_parked(self, run: RunInfo, status: str, now_ms: int) -> None:
        """A run stops executing for now: `status` is ``sleeping`` or ``waiting``, or ``released`` when the
        worker handed it back (it stops, lost the run's lease, or failed itself): it runs again later."""

    def run_ended(self, run: RunInfo, status: str, error: ErrorInfo | None, now_ms: int) -> None:
        """A run ended: `status` is ``completed``, ``failed`` or ``cancelled``."""

    def attempt_ended(self, run: RunInfo, attempt: AttemptInfo) -> None:
        """An attempt of an action or of one of its steps ended."""

    def events_received(self, tenant: str, names: Sequence[str], event_ids: Sequence[str]) -> None:
        """Events were received for `tenant` (stored, with the runs they start)."""

    def traceparent(self, run: RunInfo) -> str | None:
        """The trace context that events `run` sends now should carry (the tracing observer's)."""
        return None


class Observers(Observer):
    """Several observers as one: each hook is passed on to each, in order; one that raises is skipped."""

    def __init__(self, observers: Sequence[Observer]) -> None:
        self._observers = tuple(observers)

    def run_started(self, run: RunInfo, now_ms: int) -> None:
        for observer in self._observers:
            _quietly(observer.run_started, run, now_ms)

    def run_resumed(self, run: RunInfo, now_ms: int) -> None:
        for observer in self._observers:
            _quietly(observer.run_resumed, run, now_ms)

    def run_parked(self, run: RunInfo, status: str, now_ms: int) -> None:
        for observer in self._observers:
            _quietly(observer.run_parked, run, status, now_ms)

    def run_ended(self, run: RunInfo, status: str, error: ErrorInfo | None, now_ms: int) -> None:
        for observer in self._observers:
            _quietly(observer.run_ended, run, status, error, now_ms)

    def attempt_ended(self, run: RunInfo, attempt: AttemptInfo) -> None:
        for observer in self._observers:
            _quietly(observer.attempt_ended, run, attempt)

    def events_received(self, tenant: str, names: Sequence[str], event_ids: Sequence[str]) -> None:
        for observer in self._observers:
            _quietly(observer.events_received, tenant, names, event_ids)

    def traceparent(self, run: RunInfo) -> str | None:
        for observer in self._observers:
            found = observer.traceparent(run)
            if found is not None:
                return found
        return None


def combine(observers: Sequence[Observer]) -> Observer | None:
    """One observer for all of `observers`; None when there are none (then nothing is called at all)."""
    return Observers(observers) if observers else None


def _quietly(hook: Callable[..., None], *args: object) -> None:
    try:
        hook(*args)
    except Exception:  # an observer's bug must never fail a run or a request
        _LOG.exception("an observer failed")
