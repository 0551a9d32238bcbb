"""Triggers: an event name (with Inngest's wildcards) and an optional CEL ``if`` over ``event``, or a
cron schedule (``{"cron": "TZ=Europe/Paris 0 12 * * 5"}``: see `cron.py`). Pure.

Wildcards may only end a name, right after a ``/`` or a ``.``: ``app/*``, ``app/user.*``. An incoming
``app/user.created`` is matched by looking up ``app/user.created``, ``app/*`` and ``app/user.*``.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from ... import expressions
from ...errors import ExpressionError, Problem, WorkflowValidationError
from ...jsonlimits import INVALID_UNICODE_MESSAGE, valid_unicode
from .cron import CronError, CronSchedule

MAX_TRIGGER_NAME = 255
TRIGGER_VARIABLES = ("event",)
_LOG = logging.getLogger("workflow_kit.runtime")


class Trigger(msgspec.Struct, frozen=True, omit_defaults=True):
    """What starts a workflow: an `event` name (``app/*`` wildcards allowed) with an optional CEL filter
    (`if_`, ``"if"`` in JSON), or a `cron` schedule (``"TZ=Europe/Paris 0 12 * * 5"``). One of the two."""

    event: str | None = None
    if_: str | None = msgspec.field(default=None, name="if")
    cron: str | None = None


_FIELDS = frozenset({"event", "if", "cron"})


def parse_trigger(value: Trigger | str | dict[str, Any], *, cron_seconds: bool = False) -> Trigger:
    """A checked trigger from a bare event name, ``{"event", "if"?}``, ``{"cron"}`` or a `Trigger`.
    `cron_seconds` also accepts a six-field schedule with seconds first."""
    if isinstance(value, str):
        value = Trigger(event=value)
    elif isinstance(value, dict):
        unknown = sorted(set(value) - _FIELDS)
        if unknown:
            raise WorkflowValidationError([Problem("invalid_trigger", f"trigger.{unknown[0]}", "unknown field")])
        event, condition, cron = value.get("event"), value.get("if"), value.get("cron")
        if cron is not None and not isinstance(cron, str):
            raise WorkflowValidationError([Problem("invalid_trigger", "trigger.cron", "expected a cron expression")])
        if not isinstance(event, str) and not (cron is not None and event is None):
            raise WorkflowValidationError([Problem("invalid_trigger", "trigger.event", "expected an event name")])
        if condition is not None and not isinstance(condition, str):
            raise WorkflowValidationError([Problem("invalid_trigger", "trigger.if", "expected a CEL expression")])
        value = Trigger(event=event, if_=condition or None, cron=cron)
    elif not isinstance(value, Trigger):
        found = type(value).__name__
        message = f"expected an event name, {{event, if}} or {{cron}}, got {found}"
        raise WorkflowValidationError([Problem("invalid_trigger", "trigger", message)])
    if value.cron is not None:
        return _cron_trigger(value, cron_seconds)
    value = Trigger(event=(value.event or "").strip(), if_=value.if_.strip() if value.if_ else None)
    problems = trigger_problems(value)
    if problems:
        raise WorkflowValidationError(problems)
    return value


def _cron_trigger(value: Trigger, cron_seconds: bool) -> Trigger:
    assert value.cron is not None
    problems = []
    if value.event is not None:
        problems.append(Problem("invalid_trigger", "trigger", "a trigger is an event or a cron schedule, not both"))
    if value.if_ is not None:
        problems.append(Problem("invalid_trigger", "trigger.if", "a cron trigger has no condition"))
    if not valid_unicode(value.cron):
        raise WorkflowValidationError([*problems, Problem("invalid_trigger", "trigger.cron", INVALID_UNICODE_MESSAGE)])
    try:
        schedule = CronSchedule.parse(value.cron, allow_seconds=cron_seconds)
    except CronError as exc:
        problems.append(Problem("invalid_trigger", "trigger.cron", str(exc)))
    if problems:
        raise WorkflowValidationError(problems)
    return Trigger(cron=schedule.text)


def trigger_problems(trigger: Trigger) -> list[Problem]:
    """The problems of an event trigger (a cron trigger is checked by `parse_trigger`)."""
    problems: list[Problem] = []
    name = (trigger.event or "").strip()
    if not name:
        problems.append(Problem("invalid_trigger", "trigger.event", "an event name is required"))
    elif len(name) > MAX_TRIGGER_NAME:
        problems.append(Problem("invalid_trigger", "trigger.event", f"longer than {MAX_TRIGGER_NAME} characters"))
    elif "*" in name and not (name.endswith(("/*", ".*")) and name.count("*") == 1):
        problems.append(
            Problem(
                "invalid_trigger",
                "trigger.event",
                "a wildcard may only end the name, right after '/' or '.', e.g. 'app/*' or 'app/user.*'",
            )
        )
    if "\x00" in name or (trigger.if_ is not None and "\x00" in trigger.if_):
        problems.append(Problem("invalid_trigger", "trigger", "text may not contain the NUL character"))
        return problems
    if not valid_unicode(name) or (trigger.if_ is not None and not valid_unicode(trigger.if_)):
        problems.append(Problem("invalid_trigger", "trigger", INVALID_UNICODE_MESSAGE))
        return problems
    if trigger.if_ is not None:
        try:
            expressions.check(trigger.if_, TRIGGER_VARIABLES)
        except ExpressionError as exc:
            problems.append(Problem("invalid_expression", "trigger.if", str(exc)))
    return problems


def patterns_for(name: str) -> list[str]:
    """The trigger names that match an incoming event name: itself and every wildcard prefix."""
    found = [name]
    for index, char in enumerate(name):
        if char in "/." and index + 1 < len(name):
            found.append(name[: index + 1] + "*")
    return found


def condition_holds(
    condition: str | None, event: dict[str, Any], variables: expressions.Activation | None = None
) -> bool:
    """Whether a trigger's ``if`` accepts the event. An expression that cannot be evaluated for this
    event (a missing field, a type mismatch) does not match; it is logged. Pass ``variables``
    (``Activation({"event": event})``) to convert the event once for many conditions."""
    if condition is None:
        return True
    try:
        return expressions.evaluate_bool(condition, variables or {"event": event})
    except ExpressionError as exc:
        _LOG.info("trigger condition did not match event %s: %s", event.get("name"), exc)
        return False
