"""A webhook request to its event: bodies by content type, the default event, CEL transforms and their
errors, and the rate limit's arithmetic (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from workflow_kit.errors import WorkflowValidationError
from workflow_kit.runtime.rules.triggers import parse_trigger, parse_triggers
from workflow_kit.runtime.rules.webhooks import (
    TransformError,
    parse_body,
    retry_after_ms,
    to_event,
    transform_problems,
)


def _request(body: Any, **headers: str) -> dict[str, Any]:
    return {"method": "POST", "headers": headers, "query": {}, "body": body}


@pytest.mark.parametrize(
    ("content_type", "raw", "parsed"),
    [
        ("application/json", b'{"a": 1}', {"a": 1}),
        ("application/vnd.api+json; charset=utf-8", b"[1, 2]", [1, 2]),
        ("application/json", b"", None),
        ("application/x-www-form-urlencoded", b"a=1&b=2&b=3&c=", {"a": "1", "b": ["2", "3"], "c": ""}),
        ("text/plain", b"hello", "hello"),
        (None, b"hello", "hello"),
    ],
)
def test_bodies_by_content_type(content_type: str | None, raw: bytes, parsed: Any) -> None:
    assert parse_body(content_type, raw) == parsed


def test_a_body_that_is_not_what_it_says() -> None:
    with pytest.raises(TransformError, match="the body is not JSON"):
        parse_body("application/json", b"{nope")
    with pytest.raises(TransformError, match="not UTF-8"):
        parse_body("text/plain", b"\xff\xfe")


def test_the_default_event_is_the_triggers_name_with_the_body_and_the_delivery_id() -> None:
    event = to_event(None, _request({"action": "opened"}, **{"x-github-delivery": "d-1"}), "github/issue")
    assert event == {"name": "github/issue", "data": {"action": "opened"}, "id": "d-1"}
    assert to_event(None, _request("plain words"), "hook/text") == {
        "name": "hook/text",
        "data": {"body": "plain words"},
    }


def test_a_transform_names_the_event_and_picks_its_data_and_id() -> None:
    transform = '{"name": "github/" + headers["x-github-event"], "data": {"repo": body.repository.name}, "id": body.id}'
    request = _request({"id": 42, "repository": {"name": "kit"}}, **{"x-github-event": "push"})
    assert to_event(transform, request, "ignored") == {"name": "github/push", "data": {"repo": "kit"}, "id": "42"}
    assert to_event('{"data": {"q": query}}', {**request, "query": {"a": "1"}}, "hook/x") == {
        "name": "hook/x",
        "data": {"q": {"a": "1"}},
    }


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ("body.missing", "the transform failed"),
        ("[1, 2]", "made a list, not a map"),
        ('{"name": 3}', "name is a number, not a name"),
        ('{"data": "text"}', "data is text, not a map"),
        ('{"other": 1}', "'other': it may have name, data and id"),
    ],
)
def test_transform_errors_say_what_went_wrong(transform: str, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        to_event(transform, _request({"a": 1}), "hook/x")


def test_transform_problems_at_save_time() -> None:
    assert transform_problems(None) == []
    assert transform_problems('{"data": body}') == []
    [unknown] = transform_problems("event.data")
    assert unknown.path == "transform" and unknown.code == "invalid_expression"
    [syntax] = transform_problems("{")
    assert syntax.path == "transform"


def test_rate_limit_lets_a_burst_through_then_says_how_long_to_wait() -> None:
    tat = None
    for _ in range(3):
        wait, tat = retry_after_ms(tat, 0, 3)
        assert wait == 0
    wait, refused = retry_after_ms(tat, 0, 3)
    assert refused is None and 19_000 < wait <= 20_001  # one more a minute / 3: in 20 s
    assert retry_after_ms(tat, 20_001, 3)[0] == 0


def test_webhook_triggers() -> None:
    trigger = parse_trigger({"type": "webhook"})
    assert (trigger.type, trigger.event, trigger.hook) == ("webhook", "webhook/received", None)
    named = parse_trigger({"type": "webhook", "hook": "abc_-1", "event": "github/push", "if": "event.data.x == 1"})
    assert (named.hook, named.event, named.if_) == ("abc_-1", "github/push", "event.data.x == 1")
    with pytest.raises(WorkflowValidationError) as caught:
        parse_triggers([{"event": "a"}, {"type": "hook"}, {"type": "webhook", "hook": "a b", "event": "x/*"}])
    assert [p.path for p in caught.value.problems] == ["triggers[1].type", "triggers[2].hook"]
    with pytest.raises(WorkflowValidationError) as caught:
        parse_trigger({"type": "webhook", "event": "x/*"})
    assert [p.path for p in caught.value.problems] == ["trigger.event"]
