"""The per-tenant rate limit of the editor API (`editor_api.ratelimit`): a sliding window per tenant,
the wait it reports, and tenants that do not share a budget."""

from __future__ import annotations

import pytest

from editor_api.ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_tenant_gets_its_limit_per_window_then_the_wait() -> None:
    clock = Clock()
    limit = RateLimit(2, 60, clock=clock)
    assert limit.take("acme") is None
    clock.now += 10
    assert limit.take("acme") is None
    assert limit.take("acme") == 50  # the first request leaves the window in 50 s
    assert limit.take("globex") is None  # another tenant has its own budget
    clock.now += 50
    assert limit.take("acme") is None
    assert limit.take("acme") == 10


def test_a_limit_needs_a_request_and_a_window() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimit(0)
