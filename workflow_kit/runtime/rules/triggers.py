"""Triggers: an event name (with Inngest's wildcards) and an optional CEL ``if`` over ``event``, a
cron schedule (``{"cron": "TZ=Europe/Paris 0 12 * * 5"}``: see `cron.py`), or a webhook
(``{"type": "webhook", "hook": "<id>", "event": "github/push"}``: requests to ``POST /hooks/<id>``
become events of that name, which start this workflow only; see `webhooks.py`). Pure.

A workflow has a list of triggers, one to `MAX_TRIGGERS` (as Inngest allows ten per function), no two
the same: any of them starts a run. `parse_triggers` checks a list (problem paths ``triggers[1].if``);
`parse_trigger` one (paths ``trigger.if``, as before a workflow had several).

Wildcards may only end a name, right after a ``/`` or a ``.``: ``app/*``, ``app/user.*``. An incoming
``app/user.created`` is matched by looking up ``app/user.created``, ``app/*`` and ``app/user.*``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import msgspec

from ... import expressions
from ...errors import ExpressionError, Problem, WorkflowValidationError
from ...jsonlimits import INVALID_UNICODE_MESSAGE, valid_unicode
from .cron import CronError, CronSchedule

MAX_TRIGGER_NAME = 255
MAX_TRIGGERS = 10
"""Triggers of one workflow at most (Inngest's limit per function)."""
TRIGGER_VARIABLES = ("event",)
_LOG = logging.getLogger("workflow_kit.runtime")


class Trigger(msgspec.Struct, frozen=True, omit_defaults=True):
    """What starts a workflow: an `event` name (``app/*`` wildcards allowed) with an optional CEL filter
    (`if_`, ``"if"`` in JSON), or a `cron` schedule (``"TZ=Europe/Paris 0 12 * * 5"``), or a webhook
    (`type` ``"webhook"``: the requests of the `hook` become events named `event`, filtered by `if_`)."""

    event: str | None = None
    if_: str | None = msgspec.field(default=None, name="if")
    cron: str | None = None
    type: str | None = None
    """``"webhook"`` for a webhook trigger; none for an event or a schedule."""
    hook: str | None = None
    """A webhook trigger's hook (its id, as in ``POST /hooks/<id>``); none until the store gives it one."""


_FIELDS = frozenset({"event", "if", "cron", "type", "hook"})
WEBHOOK = "webhook"
DEFAULT_WEBHOOK_EVENT = "webhook/received"
"""The name of a webhook trigger's events when it names none."""
_HOOK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


TriggerLike = Trigger | str | dict[str, Any]
"""A trigger as callers give it: a `Trigger`, a bare event name, ``{"event", "if"?}``, ``{"cron"}`` or
``{"type": "webhook", "hook"?, "event"?, "if"?}``."""


def parse_trigger(value: TriggerLike, *, cron_seconds: bool = False, path: str = "trigger") -> Trigger:
    """A checked trigger from a bare event name, ``{"event", "if"?}``, ``{"cron"}`` or a `Trigger`.
    `cron_seconds` also accepts a six-field schedule with seconds first; problems have paths under
    `path` (``trigger.if``)."""
    if isinstance(value, str):
        value = Trigger(event=value)
    elif isinstance(value, dict):
        unknown = sorted(set(value) - _FIELDS)
        if unknown:
            raise WorkflowValidationError([Problem("invalid_trigger", f"{path}.{unknown[0]}", "unknown field")])
        if value.get("type") is not None:
            return _webhook_trigger(value, path)
        event, condition, cron = value.get("event"), value.get("if"), value.get("cron")
        if cron is not None and not isinstance(cron, str):
            raise WorkflowValidationError([Problem("invalid_trigger", f"{path}.cron", "expected a cron expression")])
        if not isinstance(event, str) and not (cron is not None and event is None):
            raise WorkflowValidationError([Problem("invalid_trigger", f"{path}.event", "expected an event name")])
        if condition is not None and not isinstance(condition, str):
            raise WorkflowValidationError([Problem("invalid_trigger", f"{path}.if", "expected a CEL expression")])
        value = Trigger(event=event, if_=condition or None, cron=cron)
    elif not isinstance(value, Trigger):
        found = type(value).__name__
        message = f"expected an event name, {{event, if}} or {{cron}}, got {found}"
        raise WorkflowValidationError([Problem("invalid_trigger", path, message)])
    if value.type is not None:
        return _webhook_trigger(msgspec.to_builtins(value), path)
    if value.cron is not None:
        return _cron_trigger(value, cron_seconds, path)
    value = Trigger(event=(value.event or "").strip(), if_=value.if_.strip() if value.if_ else None)
    problems = trigger_problems(value, path=path)
    if problems:
        raise WorkflowValidationError(problems)
    return value


def parse_triggers(value: Sequence[TriggerLike] | None, *, cron_seconds: bool = False) -> tuple[Trigger, ...]:
    """A workflow's checked triggers, from a list of one to `MAX_TRIGGERS` (paths ``triggers[1].if``).
    Every problem of the list is reported at once; two identical triggers are a problem
    (``duplicate_trigger``)."""
    if value is None:
        raise WorkflowValidationError([Problem("invalid_trigger", "triggers", "a workflow needs a trigger")])
    if isinstance(value, (str, dict, Trigger)) or not isinstance(value, Sequence):
        found = type(value).__name__
        raise WorkflowValidationError(
            [Problem("invalid_trigger", "triggers", f"expected a list of triggers, got {found}")]
        )
    if not value:
        raise WorkflowValidationError([Problem("invalid_trigger", "triggers", "a workflow needs a trigger")])
    if len(value) > MAX_TRIGGERS:
        message = f"a workflow has at most {MAX_TRIGGERS} triggers, got {len(value)}"
        raise WorkflowValidationError([Problem("too_many_triggers", "triggers", message)])
    problems: list[Problem] = []
    checked: dict[Trigger, int] = {}  # each trigger, with where it first appears
    for index, item in enumerate(value):
        try:
            trigger = parse_trigger(item, cron_seconds=cron_seconds, path=f"triggers[{index}]")
        except WorkflowValidationError as exc:
            problems += exc.problems
            continue
        if trigger in checked:
            message = f"the same as trigger {checked[trigger] + 1}: each trigger of a workflow must differ"
            problems.append(Problem("duplicate_trigger", f"triggers[{index}]", message))
        checked.setdefault(trigger, index)
    if problems:
        raise WorkflowValidationError(problems)
    return tuple(checked)


def combine(
    listed: tuple[Trigger, ...] | None,
    single: Trigger | None,
    stored: tuple[Trigger, ...] | None = None,
    *,
    cron_seconds: bool = False,
) -> tuple[Trigger, ...]:
    """The triggers to save, from a checked list (`listed`, the field ``triggers``) and/or one checked
    trigger (`single`, the field ``trigger`` of callers that know one trigger per workflow: a list of
    one). Given both, as in a record read and sent back (which shows ``trigger``, the first, and
    ``triggers``), the one that changed from the `stored` triggers wins: ``triggers``, unless only
    ``trigger`` differs from what is stored, which then replaces the first trigger. Both changed and
    disagreeing, it is a problem (path ``trigger``)."""
    if listed is None:
        if single is None:
            raise WorkflowValidationError([Problem("invalid_trigger", "triggers", "a workflow needs a trigger")])
        return (single,)
    if single is None or single == listed[0] or (stored and single == stored[0]):
        return listed
    if stored is not None and listed == stored:
        return parse_triggers([single, *stored[1:]], cron_seconds=cron_seconds)
    message = "trigger is the first of triggers, and they disagree: send the list (triggers) alone"
    raise WorkflowValidationError([Problem("invalid_trigger", "trigger", message)])


def fired(trigger: Trigger, index: int) -> dict[str, Any]:
    """What a run records of the trigger that started it: its `index` in the workflow's list and the
    trigger itself, ``{"index": 1, "event": "app/order.*", "if": "..."}`` or ``{"index": 0, "cron":
    "0 9 * * *"}`` (``ctx.trigger`` in a handler)."""
    described: dict[str, Any] = msgspec.to_builtins(trigger)
    return {"index": index, **described}


def _webhook_trigger(value: dict[str, Any], path: str) -> Trigger:
    """A checked webhook trigger (`value` has a ``type``): its event name defaults to
    `DEFAULT_WEBHOOK_EVENT`; its hook, if it names one, is an id (the store checks whose)."""
    problems: list[Problem] = []
    if value.get("type") != WEBHOOK:
        message = "unknown trigger type: a trigger is an event, a schedule, or of type webhook"
        raise WorkflowValidationError([Problem("invalid_trigger", f"{path}.type", message)])
    if value.get("cron") is not None:
        problems.append(Problem("invalid_trigger", f"{path}.cron", "a webhook trigger has no schedule"))
    hook, event, condition = value.get("hook"), value.get("event"), value.get("if")
    if hook is not None and not (isinstance(hook, str) and _HOOK_ID.fullmatch(hook)):
        problems.append(Problem("invalid_trigger", f"{path}.hook", "expected a webhook id"))
    if event is not None and not isinstance(event, str):
        problems.append(Problem("invalid_trigger", f"{path}.event", "expected an event name"))
    if condition is not None and not isinstance(condition, str):
        problems.append(Problem("invalid_trigger", f"{path}.if", "expected a CEL expression"))
    if problems:
        raise WorkflowValidationError(problems)
    trigger = Trigger(
        event=(event or "").strip() or DEFAULT_WEBHOOK_EVENT,
        if_=condition.strip() or None if condition else None,
        type=WEBHOOK,
        hook=hook,
    )
    problems = trigger_problems(trigger, path=path)
    if not problems and trigger.event and "*" in trigger.event:
        problems.append(Problem("invalid_trigger", f"{path}.event", "a webhook's events have one name: no wildcard"))
    if problems:
        raise WorkflowValidationError(problems)
    return trigger


def with_hooks(triggers: Sequence[Trigger], hooks: Sequence[str | None]) -> tuple[Trigger, ...]:
    """`triggers` with the webhook triggers' hooks replaced by `hooks` (one per trigger, none for the
    others)."""
    return tuple(
        msgspec.structs.replace(trigger, hook=hook) if trigger.type == WEBHOOK else trigger
        for trigger, hook in zip(triggers, hooks, strict=True)
    )


def _cron_trigger(value: Trigger, cron_seconds: bool, path: str) -> Trigger:
    assert value.cron is not None
    problems = []
    if value.event is not None:
        problems.append(Problem("invalid_trigger", path, "a trigger is an event or a cron schedule, not both"))
    if value.if_ is not None:
        problems.append(Problem("invalid_trigger", f"{path}.if", "a cron trigger has no condition"))
    if not valid_unicode(value.cron):
        raise WorkflowValidationError([*problems, Problem("invalid_trigger", f"{path}.cron", INVALID_UNICODE_MESSAGE)])
    try:
        schedule = CronSchedule.parse(value.cron, allow_seconds=cron_seconds)
    except CronError as exc:
        problems.append(Problem("invalid_trigger", f"{path}.cron", str(exc)))
    if problems:
        raise WorkflowValidationError(problems)
    return Trigger(cron=schedule.text)


def trigger_problems(trigger: Trigger, *, path: str = "trigger") -> list[Problem]:
    """The problems of an event trigger (a cron trigger is checked by `parse_trigger`), with paths
    under `path`."""
    problems: list[Problem] = []
    name = (trigger.event or "").strip()
    if not name:
        problems.append(Problem("invalid_trigger", f"{path}.event", "an event name is required"))
    elif len(name) > MAX_TRIGGER_NAME:
        problems.append(Problem("invalid_trigger", f"{path}.event", f"longer than {MAX_TRIGGER_NAME} characters"))
    elif "*" in name and not (name.endswith(("/*", ".*")) and name.count("*") == 1):
        problems.append(
            Problem(
                "invalid_trigger",
                f"{path}.event",
                "a wildcard may only end the name, right after '/' or '.', e.g. 'app/*' or 'app/user.*'",
            )
        )
    if "\x00" in name or (trigger.if_ is not None and "\x00" in trigger.if_):
        problems.append(Problem("invalid_trigger", path, "text may not contain the NUL character"))
        return problems
    if not valid_unicode(name) or (trigger.if_ is not None and not valid_unicode(trigger.if_)):
        problems.append(Problem("invalid_trigger", path, INVALID_UNICODE_MESSAGE))
        return problems
    if trigger.if_ is not None:
        try:
            expressions.check(trigger.if_, TRIGGER_VARIABLES)
        except ExpressionError as exc:
            problems.append(Problem("invalid_expression", f"{path}.if", str(exc)))
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
