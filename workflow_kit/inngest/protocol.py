"""What the kit and its Inngest functions tell each other: the run request event, and CEL written for the
kit's events rewritten for the run request's. Pure; no import of the ``inngest`` package.

A run request is an Inngest event ``workflow-kit/run.requested`` whose ``data`` names the tenant, the
workflow and its pinned version, and carries the event that started the run (and which trigger fired).
Inside the Inngest function, Inngest's own ``event`` is that run request: an expression the kit's user
wrote over ``event`` (the trigger) reads ``event.data.event`` there, which `for_run_event` rewrites.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

RUN_REQUESTED: Final = "workflow-kit/run.requested"
"""The name of the event that asks the run function to run a workflow."""
INVOKED: Final = "workflow/invoked"
"""The name of the event an invoked workflow sees (as in the embedded runtime)."""
TENANT_FIELD: Final = "_wk_tenant"
"""Put in the ``data`` of each event the kit forwards to Inngest, so a wait or a cancellation of one
tenant's run is never satisfied by another tenant's event."""
CANCEL_REQUESTED: Final = "workflow-kit/run.cancel.requested"
"""The event that cancels a run on Inngest (the run function's ``cancel`` option matches its
``run_id`` and tenant with the run request's)."""
CANCEL_MATCH: Final = f"async.data.run_id == event.data.run_id && async.data.{TENANT_FIELD} == event.data.tenant"
ACTION_END: Final = "#end"
"""Appended to an action's step id to name the step that records how a handler with sub-steps ended."""

# A CEL token: a string literal (skipped whole), an identifier, or any other character.
_TOKEN = re.compile(
    r"""(?P<text>[rRbB]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))"""
    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>[\s\S])"""
)


class RunRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The ``data`` of a run request event."""

    tenant: str
    workflow_id: str
    event: dict[str, Any]
    """The event that started the run, as the kit received it (``ctx.event`` in handlers)."""
    version: int | None = None
    """The pinned published version; None: the latest published one (an invoked workflow)."""
    trigger: dict[str, Any] | None = None
    """Which trigger fired (``ctx.trigger``); None for an invoked workflow."""
    run_id: str | None = None
    """The id the run is known by in the kit's store, when its recorder created it on request (None:
    Inngest's run id)."""
    event_id: str | None = None
    """The id of the event that asked for it in the kit's store, when the run is recorded only once it
    starts (its function may drop or merge requests: debounce, rate limit, ...)."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    @classmethod
    def from_data(cls, data: Any) -> RunRequest:
        """The request in an event's ``data``; raises `msgspec.ValidationError` naming the bad field."""
        return msgspec.convert(data, cls)


def for_run_event(expression: str) -> str:
    """`expression` (CEL over the kit's ``event``) rewritten for Inngest, where ``event`` is the run
    request: each ``event`` that is a name of its own (not a field, not inside a string) becomes
    ``event.data.event``. Other names (``async``, ...) are left as they are."""
    out: list[str] = []
    previous = ""
    for match in _TOKEN.finditer(expression):
        token = match.group(0)
        if match.group("name") == "event" and previous != ".":
            token = "event.data.event"
        out.append(token)
        if not token.isspace():
            previous = token[-1]
    return "".join(out)


def tenant_clause(expression: str | None) -> str:
    """An Inngest ``if`` over ``event`` (the run request) and ``async`` (an incoming event) that also
    requires the incoming event to be the run's tenant's; `expression` is the kit's, over the trigger."""
    same_tenant = f"async.data.{TENANT_FIELD} == event.data.tenant"
    if not expression:
        return same_tenant
    return f"({for_run_event(expression)}) && {same_tenant}"


def without_tenant(event: dict[str, Any]) -> dict[str, Any]:
    """An event as Inngest returned it, without the tenant tag the kit put in its data."""
    data = event.get("data")
    if isinstance(data, dict) and TENANT_FIELD in data:
        return {**event, "data": {k: v for k, v in data.items() if k != TENANT_FIELD}}
    return event
