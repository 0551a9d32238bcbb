"""A workflow's flow-control settings as Inngest function options (``client.create_function(...)``).

Every key, condition and priority is CEL over the kit's ``event`` (the trigger); Inngest evaluates
them over the run request, so each is rewritten (`for_run_event`). Settings are per workflow; Inngest
options are per function: a workflow with settings gets a function of its own (`InngestBackend.dedicate`).
The README's table says what maps and what the kit does instead where nothing does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import inngest

from ..runtime.rules.settings import WorkflowSettings
from ..timeutil import parse_duration
from .protocol import for_run_event, tenant_clause


def function_options(settings: WorkflowSettings | dict[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of ``create_function`` for these settings (only those that are set)."""
    given = WorkflowSettings.parse(settings)
    options: dict[str, Any] = {}
    if given.retries is not None:
        options["retries"] = given.retries
    if given.concurrency:
        options["concurrency"] = [
            inngest.Concurrency(
                limit=limit.limit,
                key=_tenant_key(limit.key) if limit.scope == "tenant" else _key(limit.key),
                scope="env" if limit.scope == "tenant" else "fn",
            )
            for limit in given.concurrency
        ]
    if given.idempotency:
        options["idempotency"] = for_run_event(given.idempotency)
    if given.rate_limit:
        rate = given.rate_limit
        options["rate_limit"] = inngest.RateLimit(limit=rate.limit, period=_span(rate.period), key=_key(rate.key))
    if given.throttle:
        throttle = given.throttle
        options["throttle"] = inngest.Throttle(
            limit=throttle.limit, period=_span(throttle.period), burst=throttle.burst, key=_key(throttle.key)
        )
    if given.debounce:
        debounce = given.debounce
        options["debounce"] = inngest.Debounce(
            period=_span(debounce.period), key=_key(debounce.key), timeout=_maybe_span(debounce.timeout)
        )
    if given.batch_events:
        batch = given.batch_events
        options["batch_events"] = inngest.Batch(
            max_size=batch.max_size, timeout=_span(batch.timeout), key=_key(batch.key)
        )
    if given.priority:
        options["priority"] = inngest.Priority(run=for_run_event(given.priority.run))
    if given.cancel_on:
        options["cancel"] = [
            inngest.Cancel(event=cancel.event, if_exp=tenant_clause(cancel.if_exp), timeout=_maybe_span(cancel.timeout))
            for cancel in given.cancel_on
        ]
    if given.timeouts and (given.timeouts.start or given.timeouts.finish):
        options["timeouts"] = inngest.Timeouts(
            start=_maybe_span(given.timeouts.start), finish=_maybe_span(given.timeouts.finish)
        )
    if given.singleton:
        options["singleton"] = inngest.Singleton(key=_key(given.singleton.key), mode=given.singleton.mode)
    return options


def _key(key: str | None) -> str | None:
    return None if key is None else for_run_event(key)


def _tenant_key(key: str | None) -> str:
    """A key shared by the tenant's workflows (Inngest scope ``env``): the tenant, then the key's value."""
    if key is None:
        return "event.data.tenant"
    return f'event.data.tenant + ":" + string({for_run_event(key)})'


def _span(value: str | int) -> timedelta:
    return parse_duration(value)


def _maybe_span(value: str | int | None) -> timedelta | None:
    return None if value is None else parse_duration(value)
