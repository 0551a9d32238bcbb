"""Events: checking, defaults, limits and ids (workflow_kit/events.py)."""

from __future__ import annotations

from typing import Any

import pytest

from workflow_kit.events import (
    MAX_EVENT_BYTES,
    MAX_EVENT_NAME_LENGTH,
    EventError,
    new_id,
    normalize_event,
    normalize_events,
)

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


# --- normalize_event -----------------------------------------------------------------------------


def test_full_event_is_kept() -> None:
    raw = {"name": "app/user.signup", "data": {"n": 1}, "id": "evt_1", "ts": 123, "v": "2024-01-01.1", "user": {"u": 1}}
    assert normalize_event(raw, NOW) == raw


def test_data_defaults_to_empty_object_and_ts_to_now() -> None:
    event = normalize_event({"name": "app/ping"}, NOW)
    assert event == {"name": "app/ping", "data": {}, "ts": NOW}


def test_null_data_and_null_ts_get_defaults() -> None:
    event = normalize_event({"name": "app/ping", "data": None, "ts": None, "id": None, "v": None}, NOW)
    assert event == {"name": "app/ping", "data": {}, "ts": NOW}


def test_given_ts_is_kept() -> None:
    assert normalize_event({"name": "x", "ts": 1000}, NOW)["ts"] == 1000


def test_normalize_returns_a_new_dict() -> None:
    raw: dict[str, Any] = {"name": "x"}
    event = normalize_event(raw, NOW)
    assert event is not raw
    assert raw == {"name": "x"}


@pytest.mark.parametrize("raw", [{}, {"name": ""}, {"name": "   "}, {"name": None}, {"name": 5}, {"data": {}}])
def test_name_is_required_and_non_empty(raw: dict[str, Any]) -> None:
    with pytest.raises(EventError, match="name") as info:
        normalize_event(raw, NOW)
    assert info.value.path == "event.name"
    assert info.value.code == "invalid_event"


def test_name_length_limit() -> None:
    assert normalize_event({"name": "a" * MAX_EVENT_NAME_LENGTH}, NOW)["name"] == "a" * MAX_EVENT_NAME_LENGTH
    with pytest.raises(EventError) as info:
        normalize_event({"name": "a" * (MAX_EVENT_NAME_LENGTH + 1)}, NOW)
    assert info.value.path == "event.name"


@pytest.mark.parametrize("data", [[1, 2], "text", 5, True])
def test_data_must_be_an_object(data: Any) -> None:
    with pytest.raises(EventError, match="object") as info:
        normalize_event({"name": "x", "data": data}, NOW)
    assert info.value.path == "event.data"
    assert str(info.value).startswith("event.data: ")


@pytest.mark.parametrize("raw", [[{"name": "x"}], "x", None, 5])
def test_event_must_be_an_object(raw: Any) -> None:
    with pytest.raises(EventError, match="object") as info:
        normalize_event(raw, NOW)
    assert info.value.path == "event"


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"name": "x", "foo": 1}, "event.foo"),
        ({"name": "x", "data": {}, "timestamp": 1}, "event.timestamp"),
        ({"name": "x", "odd key": 1}, 'event["odd key"]'),
    ],
)
def test_unknown_fields_are_rejected_with_path(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(EventError, match="unknown field") as info:
        normalize_event(raw, NOW)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("field", "value"),
    [("ts", -1), ("ts", "2026-01-01"), ("ts", 1.5), ("ts", True), ("id", ""), ("id", 5), ("v", 2)],
)
def test_bad_optional_fields(field: str, value: Any) -> None:
    with pytest.raises(EventError) as info:
        normalize_event({"name": "x", field: value}, NOW)
    assert info.value.path == f"event.{field}"


def test_custom_path_prefix() -> None:
    with pytest.raises(EventError) as info:
        normalize_event({"name": "x", "foo": 1}, NOW, path="body")
    assert info.value.path == "body.foo"


def test_size_limit_512_kb() -> None:
    small = normalize_event({"name": "x", "data": {"blob": "a" * (MAX_EVENT_BYTES - 1024)}}, NOW)
    assert len(small["data"]["blob"]) == MAX_EVENT_BYTES - 1024

    with pytest.raises(EventError) as info:
        normalize_event({"name": "x", "data": {"blob": "a" * MAX_EVENT_BYTES}}, NOW)
    message = str(info.value)
    assert info.value.path == "event"
    assert "512 KB" in message
    assert str(MAX_EVENT_BYTES) in message
    assert MAX_EVENT_BYTES == 512 * 1024


def test_data_that_is_not_json_is_rejected() -> None:
    with pytest.raises(EventError) as info:
        normalize_event({"name": "x", "data": {"obj": object()}}, NOW)
    assert info.value.path == "event.data.obj"


# --- normalize_events --------------------------------------------------------------------------------


def test_normalize_events_accepts_one_event() -> None:
    assert normalize_events({"name": "x"}, NOW) == [{"name": "x", "data": {}, "ts": NOW}]


@pytest.mark.parametrize("container", [list, tuple])
def test_normalize_events_accepts_a_list(container: type) -> None:
    events = normalize_events(container([{"name": "a"}, {"name": "b", "data": {"k": 1}}]), NOW)
    assert events == [{"name": "a", "data": {}, "ts": NOW}, {"name": "b", "data": {"k": 1}, "ts": NOW}]


def test_normalize_events_empty_list() -> None:
    assert normalize_events([], NOW) == []


def test_normalize_events_error_path_has_index() -> None:
    with pytest.raises(EventError) as info:
        normalize_events([{"name": "a"}, {"name": "b", "foo": 1}], NOW)
    assert info.value.path == "events[1].foo"


def test_normalize_events_single_event_error_path() -> None:
    with pytest.raises(EventError) as info:
        normalize_events({"name": ""}, NOW)
    assert info.value.path == "events.name"


@pytest.mark.parametrize("raw", ["x", 5, None])
def test_normalize_events_rejects_other_types(raw: Any) -> None:
    with pytest.raises(EventError, match="expected an event or a list") as info:
        normalize_events(raw, NOW)
    assert info.value.path == "events"


# --- new_id ------------------------------------------------------------------------------------------


def test_new_id_is_26_crockford_characters() -> None:
    value = new_id(NOW)
    assert len(value) == 26
    assert set(value) <= CROCKFORD


def test_new_id_is_unique() -> None:
    ids = {new_id(NOW) for _ in range(1000)}
    assert len(ids) == 1000


def test_new_id_same_ms_shares_the_time_prefix() -> None:
    assert new_id(NOW)[:10] == new_id(NOW)[:10]


@pytest.mark.parametrize(("earlier", "later"), [(NOW, NOW + 1), (0, 1), (NOW, NOW + 86_400_000), (1, 2**48 - 1)])
def test_new_id_sorts_by_time(earlier: int, later: int) -> None:
    for _ in range(50):
        assert new_id(earlier) < new_id(later)


def test_new_id_encodes_time_in_first_ten_characters() -> None:
    prefix = new_id(NOW)[:10]
    decoded = 0
    for char in prefix:
        decoded = decoded * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(char)
    assert decoded == NOW
