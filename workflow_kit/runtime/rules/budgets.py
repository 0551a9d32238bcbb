"""Budgets of evaluation time per tenant: what a tenant's own expressions (trigger conditions, wait
conditions, flow-control keys) may cost when its events are received, so that one tenant's costly
expressions cannot take the time of the others.

Two bounds, both on CPU time spent evaluating (`time.thread_time`, so waiting for other threads costs
nothing):

- per request: one ``send`` may spend `EvaluationLimits.per_request` seconds; past it the request is
  refused (`OverBudgetError`) and nothing of it is received;
- per second: a tenant's requests together may spend `per_second` seconds of each second on average,
  with bursts up to `burst` seconds (a token bucket); a tenant in debt is refused at once, with the time
  after which its bucket is full enough again (``Retry-After``);
- at most `concurrent` requests of one tenant may take longer than `costly` seconds of evaluation at
  once; another is refused when it gets there, so a tenant's costly flood never takes more of the
  process than that (requests whose conditions are cheap, nearly all, never count).

Pure arithmetic on an injected monotonic clock; thread-safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from ...errors import OverBudgetError

_PRUNE_EVERY = 1024


@dataclass(frozen=True)
class EvaluationLimits:
    """How much evaluation time a tenant may use when its events are received (seconds of CPU)."""

    per_request: float = 1.0
    """One request (one ``kit.send``, one ``POST /api/events``)."""
    per_second: float = 0.5
    """A tenant's average over time: half a second of every second."""
    burst: float = 2.0
    """What a tenant may spend at once after being idle."""
    concurrent: int = 2
    """Costly requests of one tenant evaluated at the same time."""
    costly: float = 0.01
    """A request is costly once its evaluation took this long."""

    def __post_init__(self) -> None:
        if min(self.per_request, self.per_second, self.burst) <= 0 or self.concurrent < 1:
            raise ValueError("evaluation limits must be positive")


class _Bucket:
    __slots__ = ("at", "level", "running")

    def __init__(self, level: float, at: float) -> None:
        self.level, self.at, self.running = level, at, 0


class EvaluationBudget:
    """The evaluation budgets of every tenant of a kit."""

    def __init__(self, limits: EvaluationLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or EvaluationLimits()
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def request(self, tenant: str) -> Meter:
        """Start metering one request of `tenant` (use as a context manager: leaving it spends what was
        charged). Raises `OverBudgetError` if the tenant is in debt."""
        limits = self.limits
        with self._lock:
            now = self._clock()
            bucket = self._refill(tenant, now)
            if bucket.level <= 0:
                wait = math.ceil(-bucket.level / limits.per_second) or 1
                raise OverBudgetError(
                    "your workflows' conditions used up their checking time for now; "
                    f"send the events again in {wait} s",
                    wait,
                )
        return Meter(self, tenant)

    def _costly(self, tenant: str) -> None:
        """One more costly request of `tenant` (`OverBudgetError` if it has `concurrent` already)."""
        limits = self.limits
        with self._lock:
            bucket = self._refill(tenant, self._clock())
            if bucket.running >= limits.concurrent:
                raise OverBudgetError(
                    f"{limits.concurrent} of your requests are already having their events checked against your "
                    "workflows' conditions; send the events again when one has finished",
                    1,
                )
            bucket.running += 1

    def _spend(self, tenant: str, seconds: float, costly: bool) -> None:
        with self._lock:
            bucket = self._refill(tenant, self._clock())
            bucket.level -= seconds
            bucket.running -= costly
            self._calls += 1
            if self._calls % _PRUNE_EVERY == 0:
                self._prune()

    def _refill(self, tenant: str, now: float) -> _Bucket:
        limits = self.limits
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = _Bucket(limits.burst, now)
            return bucket
        bucket.level = min(limits.burst, bucket.level + (now - bucket.at) * limits.per_second)
        bucket.at = now
        return bucket

    def _prune(self) -> None:
        """Forget the buckets that are full again and in no use (they would start full anyway)."""
        now = self._clock()
        for tenant in [t for t, b in self._buckets.items() if b.running == 0]:
            if self._refill(tenant, now).level >= self.limits.burst:
                del self._buckets[tenant]


class Meter:
    """The evaluation time of one request: `charge` after each evaluation."""

    __slots__ = ("_budget", "_closed", "_costly", "_tenant", "spent")

    def __init__(self, budget: EvaluationBudget, tenant: str) -> None:
        self._budget, self._tenant = budget, tenant
        self.spent = 0.0
        self._closed = self._costly = False

    def charge(self, seconds: float) -> None:
        """Count `seconds` of evaluation; raises `OverBudgetError` past the request's budget, or when
        the request becomes costly and the tenant has as many costly requests going on already."""
        self.spent += seconds
        limits = self._budget.limits
        if not self._costly and self.spent > limits.costly:
            self._budget._costly(self._tenant)
            self._costly = True
        limit = limits.per_request
        if self.spent > limit:
            wait = math.ceil(self.spent / self._budget.limits.per_second)
            raise OverBudgetError(
                f"the workflow conditions for these events take more than {limit:g} s to check; "
                "send fewer events at once, or ask for the conditions to be simplified",
                wait,
            )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._budget._spend(self._tenant, self.spent, self._costly)

    def __enter__(self) -> Meter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
