"""Retry policy as plain data: how many retries, and how long to back off before each."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import msgspec

from .errors import RetryAfterError
from .timeutil import parse_instant, to_ms

DEFAULT_RETRIES = 4
MAX_RETRIES = 20
RETRY_AFTER_MIN_MS = 1_000
RETRY_AFTER_MAX_MS = 24 * 3_600_000


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Inngest's defaults: 4 retries (5 attempts) per step; back off 15s, 30s, 1m, 2m, 5m, 10m, 20m, 40m,
    1h, then 2h for every later retry, plus up to 30s of random jitter.

    `fast()` gives a policy for tests: millisecond backoff and no jitter.
    """

    retries: int = DEFAULT_RETRIES
    backoff_ms: tuple[int, ...] = (
        15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 7_200_000,
    )  # fmt: skip
    jitter_ms: int = 30_000
    retry_after_min_ms: int = RETRY_AFTER_MIN_MS
    retry_after_max_ms: int = RETRY_AFTER_MAX_MS

    def __post_init__(self) -> None:
        if not 0 <= self.retries <= MAX_RETRIES:
            raise ValueError(f"retries must be between 0 and {MAX_RETRIES}, got {self.retries}")
        if not self.backoff_ms or any(b < 0 for b in self.backoff_ms) or self.jitter_ms < 0:
            raise ValueError("backoff_ms must be non-empty and non-negative, jitter_ms non-negative")

    @classmethod
    def fast(cls, retries: int = DEFAULT_RETRIES) -> RetryPolicy:
        """For tests: 1 ms backoff, no jitter, Retry-After honoured down to 1 ms."""
        return cls(retries=retries, backoff_ms=(1,), jitter_ms=0, retry_after_min_ms=1)

    def with_retries(self, retries: int | None) -> RetryPolicy:
        return self if retries is None else msgspec.structs.replace(self, retries=retries)

    def delay_ms(self, failures: int, rng: random.Random | None = None) -> int:
        """The wait before the next attempt, after `failures` failed attempts (1-based)."""
        base = self.backoff_ms[min(max(failures, 1) - 1, len(self.backoff_ms) - 1)]
        jitter = (rng or random).randint(0, self.jitter_ms) if self.jitter_ms else 0
        return base + jitter

    def retry_at_ms(self, error: RetryAfterError, now_ms: int) -> int:
        """When a `RetryAfterError` asks to be retried, clamped to the policy's window."""
        when = error.retry_after
        if isinstance(when, datetime):
            at = to_ms(parse_instant(when))
        elif isinstance(when, timedelta):
            at = now_ms + int(when.total_seconds() * 1000)
        else:
            at = now_ms + int(when)
        return min(max(at, now_ms + self.retry_after_min_ms), now_ms + self.retry_after_max_ms)
