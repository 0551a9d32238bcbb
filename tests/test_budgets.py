"""Budgets of evaluation time per tenant (workflow_kit/runtime/rules/budgets.py): pure arithmetic on a
fake clock."""

from __future__ import annotations

import pytest

from workflow_kit import EvaluationLimits, OverBudgetError
from workflow_kit.runtime.rules.budgets import EvaluationBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def budget(**limits: float) -> tuple[EvaluationBudget, Clock]:
    clock = Clock()
    return EvaluationBudget(EvaluationLimits(**limits), clock), clock  # type: ignore[arg-type]


def test_a_request_over_its_own_budget_is_refused_with_a_clear_message() -> None:
    limits, _ = budget(per_request=1.0, per_second=0.5, burst=2.0)
    with limits.request("a") as meter:
        meter.charge(0.6)
        with pytest.raises(OverBudgetError, match="take more than 1 s to check; send fewer events") as caught:
            meter.charge(0.6)
    assert caught.value.retry_after == 3  # 1.2 s spent, refilled at 0.5 s per second
    assert caught.value.code == "over_budget"


def test_a_tenant_in_debt_waits_until_its_bucket_refills_and_others_do_not() -> None:
    limits, clock = budget(per_request=5.0, per_second=0.5, burst=2.0)
    with limits.request("a") as meter:
        meter.charge(3.0)  # one second of debt
    with pytest.raises(OverBudgetError, match="send the events again in 2 s") as caught:
        limits.request("a")
    assert caught.value.retry_after == 2
    with limits.request("b") as other:  # another tenant has its own budget
        other.charge(0.1)
    clock.now += 2.5
    with limits.request("a"):
        pass


def test_at_most_so_many_costly_requests_of_a_tenant_are_evaluated_at_once() -> None:
    limits, _ = budget(concurrent=2, costly=0.01)
    cheap = [limits.request("a") for _ in range(5)]  # cheap requests do not count
    for meter in cheap:
        meter.charge(0.001)
    first, second, third = limits.request("a"), limits.request("a"), limits.request("a")
    first.charge(0.02)
    second.charge(0.02)
    with pytest.raises(OverBudgetError, match="2 of your requests are already"):
        third.charge(0.02)
    other = limits.request("b")
    other.charge(0.02)  # another tenant's are its own
    first.close()
    fourth = limits.request("a")
    fourth.charge(0.02)
    for meter in [*cheap, second, third, fourth, other]:
        meter.close()
    assert limits._buckets["a"].running == 0


def test_idle_tenants_are_forgotten() -> None:
    limits, clock = budget()
    for number in range(2048):
        limits.request(f"t{number}").close()
        clock.now += 0.001
    clock.now += 60
    limits.request("last").close()
    for _ in range(1024):
        limits.request("last").close()
    assert len(limits._buckets) < 100


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        EvaluationLimits(per_second=0)
