"""The arithmetic of flow control: rate turns, debounce times, key values, priorities, concurrency
keys, cancellation waits and the fair share of a claim. Pure: `lifecycle/flow.py` and the worker's
claims read and write the state these functions decide over.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import msgspec

from ... import expressions
from ...errors import ExpressionError
from .settings import MAX_PRIORITY_S, WorkflowSettings, duration_ms
from .wait_keys import wait_key

CANCEL_ACTION = "$cancel"
"""The action id of a run's ``cancel_on`` waits (no workflow action may have it)."""
NO_EXPIRY = 2**62
_LOG = logging.getLogger("workflow_kit.flow")


def gcra(tat: int | None, now: int, interval: int, tolerance: int) -> tuple[int, int]:
    """The generic cell rate algorithm: a unit arriving at `now`, with the key's theoretical arrival time
    `tat`, may pass at the returned time (`now` if it conforms, later if not); the second value is the
    key's new `tat` if it passes then. `interval` = period / limit; `tolerance` = how far ahead of the
    steady rate a burst may run (0: evenly spaced)."""
    tat = now if tat is None or tat < now else tat
    start = max(now, tat - tolerance)
    return start, max(tat, start) + interval


def debounce_due(now: int, first_at: int, period: int, timeout: int | None) -> int:
    """When a debounced run starts: `period` after the latest event, at most `timeout` after the first."""
    due = now + period
    return due if timeout is None else min(due, first_at + timeout)


def key_digest(*parts: str) -> str:
    """A short stable digest of `parts` (flow-state keys, singleton and concurrency keys)."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def key_value(expression: str | None, variables: expressions.Activation) -> str:
    """The JSON text of a key expression's value (``null`` if it has none or fails on this event)."""
    if expression is None:
        return "null"
    try:
        value = expressions.evaluate(expression, variables)
    except ExpressionError:
        return "null"
    return msgspec.json.encode(value).decode()


_NOT_AT_START = frozenset({"retries", "retention"})
"""Settings that do not apply when a run starts: the worker reads the first, a run's end the second."""


def has_start_controls(settings: WorkflowSettings) -> bool:
    """Whether any setting but ``retries`` and ``retention`` is set."""
    return any(getattr(settings, name) is not None for name in settings.__struct_fields__ if name not in _NOT_AT_START)


def key_expressions(settings: WorkflowSettings) -> list[str]:
    """Every expression over ``event`` that admitting a run under `settings` may evaluate (keys and the
    priority), so that they can be evaluated before the write transaction that admits it."""
    found = [
        settings.idempotency,
        *(control.key for control in (settings.rate_limit, settings.throttle) if control is not None),
        *(control.key for control in (settings.debounce, settings.batch_events) if control is not None),
        settings.singleton.key if settings.singleton is not None else None,
        settings.priority.run if settings.priority is not None else None,
        *(limit.key for limit in settings.concurrency or ()),
    ]
    return [expression for expression in dict.fromkeys(found) if expression is not None]


def priority_seconds(expression: str, variables: expressions.Activation) -> int:
    """The seconds a priority expression moves a run's start (clamped to 12 hours; 0 if it fails)."""
    try:
        value = expressions.evaluate(expression, variables)
    except ExpressionError as exc:
        _LOG.info("priority expression failed, using 0: %s", exc)
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(max(-MAX_PRIORITY_S, min(MAX_PRIORITY_S, value)))


def concurrency_key(tenant: str, workflow_id: str, scope: str, value: str) -> str:
    """The key of a concurrency limit: shared by the tenant's workflows (`scope` tenant) or not."""
    owner = f"tenant:{tenant}" if scope == "tenant" else f"workflow:{workflow_id}"
    return key_digest("concurrency", owner, value)


def start_deadline(settings: WorkflowSettings, now: int) -> int | None:
    """When a run queued at `now` must have started (``timeouts.start``), if it must."""
    if settings.timeouts is None or settings.timeouts.start is None:
        return None
    return now + duration_ms(settings.timeouts.start)


def concurrency_limits(
    settings: WorkflowSettings, tenant: str, workflow_id: str, variables: expressions.Activation
) -> list[dict[str, Any]] | None:
    """The slots a run needs to execute a step: ``[{"key", "limit"}]`` (None if no limit applies)."""
    if not settings.concurrency:
        return None
    return [
        {
            "key": concurrency_key(tenant, workflow_id, limit.scope, key_value(limit.key, variables)),
            "limit": limit.limit,
        }
        for limit in settings.concurrency
    ]


def cancel_waits(
    settings: WorkflowSettings, tenant: str, run_id: str, trigger: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    """The run's ``cancel_on`` events as rows of ``wk_waits`` (action `CANCEL_ACTION`)."""
    return [
        {
            "id": f"{run_id}:{CANCEL_ACTION}:{index}",
            "tenant": tenant,
            "run_id": run_id,
            "action_id": CANCEL_ACTION,
            "position": index,
            "event_name": cancel.event,
            "if_exp": cancel.if_exp,
            "match_key": wait_key(cancel.if_exp, trigger) if cancel.if_exp else None,
            "registered_at": now,
            "expires_at": now + duration_ms(cancel.timeout) if cancel.timeout is not None else NO_EXPIRY,
            "status": "waiting",
        }
        for index, cancel in enumerate(settings.cancel_on or [])
    ]


def fair_share(due: Sequence[Any], limit: int, after: str | None = None) -> list[Any]:
    """Up to `limit` of the due runs (in due order), taken round-robin across tenants: each tenant's
    oldest first, then each tenant's second, ..., so a tenant with a flood of runs due does not hold
    back the others'. Keeps due order within a tenant. The tenants take turns in the order of their
    earliest due run, starting after `after` (the tenant a worker served last) when it is among them:
    a worker whose slots free up one at a time claims one run at a time, and without that turn the
    tenant with the oldest run due would win every such claim."""
    ranks: dict[str, int] = {}
    ranked = []
    for position, row in enumerate(due):
        rank = ranks.get(row.tenant, 0)
        ranks[row.tenant] = rank + 1
        ranked.append((rank, position, row))
    turns = list(ranks)  # each tenant's earliest due run first
    start = turns.index(after) + 1 if after in ranks else 0
    turn = {tenant: (index - start) % len(turns) for index, tenant in enumerate(turns)}
    ranked.sort(key=lambda item: (item[0], turn[item[2].tenant], item[1]))
    return [row for _, _, row in ranked[:limit]]
