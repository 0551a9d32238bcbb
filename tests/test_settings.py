"""Flow-control settings: decoding, ranges, expressions, combinations, each problem with its path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workflow_kit.errors import WorkflowValidationError
from workflow_kit.runtime.rules.settings import WorkflowSettings, duration_ms, settings_schema

EDITOR_FIXTURE = Path(__file__).resolve().parents[1] / "frontend" / "src" / "settings-schema.fixture.json"
EVERYTHING: dict[str, Any] = {
    "retries": 3,
    "concurrency": [{"limit": 5}, {"limit": 1, "key": "event.data.user_id", "scope": "tenant"}],
    "idempotency": "event.data.order_id",
    "rate_limit": {"limit": 10, "period": "1m", "key": "event.data.user_id"},
    "throttle": {"limit": 2, "period": "10s", "burst": 2},
    "debounce": {"period": "30s", "key": "event.data.doc", "timeout": "5m"},
    "priority": {"run": "event.data.plan == 'pro' ? 60 : 0"},
    "cancel_on": [{"event": "order/cancelled", "if_exp": "async.data.id == event.data.id", "timeout": "1d"}],
    "timeouts": {"start": "1m", "finish": "1h"},
    "singleton": {"key": "event.data.user_id", "mode": "cancel"},
    "retention": "90d",
}


def problems(value: Any) -> list[tuple[str, str]]:
    with pytest.raises(WorkflowValidationError) as info:
        WorkflowSettings.parse(value)
    return [(p.code, p.path) for p in info.value.problems]


def test_every_setting_round_trips() -> None:
    settings = WorkflowSettings.parse(EVERYTHING)
    assert settings.to_json() == EVERYTHING
    assert WorkflowSettings.parse(settings.to_json()) == settings


def test_empty_and_missing_settings() -> None:
    assert WorkflowSettings.parse(None).to_json() == {}
    assert WorkflowSettings.parse({}).to_json() == {}


def test_batch_events_alone() -> None:
    settings = WorkflowSettings.parse(
        {"batch_events": {"max_size": 50, "timeout": "10s"}, "concurrency": [{"limit": 2}]}
    )
    assert settings.batch_events is not None and settings.batch_events.max_size == 50


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"retries": 21}, [("invalid_settings", "settings.retries")]),
        ({"retention": "30m"}, [("invalid_settings", "settings.retention")]),
        ({"retention": "3651d"}, [("invalid_settings", "settings.retention")]),
        ({"nope": 1}, [("invalid_settings", "settings.nope")]),
        ({"concurrency": [{"limit": 0}]}, [("invalid_settings", "settings.concurrency[0].limit")]),
        ({"concurrency": [{"limit": 1}] * 3}, [("invalid_settings", "settings.concurrency")]),
        ({"concurrency": [{"limit": 1, "scope": "tenant"}]}, [("invalid_settings", "settings.concurrency[0].key")]),
        ({"concurrency": [{"limit": 1, "scope": "world"}]}, [("invalid_settings", "settings.concurrency[0].scope")]),
        ({"concurrency": [{"limit": 1, "key": "user.id"}]}, [("invalid_expression", "settings.concurrency[0].key")]),
        ({"idempotency": "event.data.("}, [("invalid_expression", "settings.idempotency")]),
        ({"idempotency": "async.data.id"}, [("invalid_expression", "settings.idempotency")]),
        ({"rate_limit": {"limit": 1, "period": "2d"}}, [("invalid_settings", "settings.rate_limit.period")]),
        ({"rate_limit": {"limit": 1, "period": "soon"}}, [("invalid_settings", "settings.rate_limit.period")]),
        ({"rate_limit": {"period": "1m"}}, [("invalid_settings", "settings.rate_limit.limit")]),
        ({"throttle": {"limit": 1, "period": "500ms"}}, [("invalid_settings", "settings.throttle.period")]),
        ({"throttle": {"limit": 1, "period": "1s", "burst": 0}}, [("invalid_settings", "settings.throttle.burst")]),
        ({"debounce": {"period": "8d"}}, [("invalid_settings", "settings.debounce.period")]),
        ({"debounce": {"period": "1m", "timeout": "30s"}}, [("invalid_settings", "settings.debounce.timeout")]),
        ({"batch_events": {"max_size": 0, "timeout": "1s"}}, [("invalid_settings", "settings.batch_events.max_size")]),
        ({"batch_events": {"max_size": 5, "timeout": "1h"}}, [("invalid_settings", "settings.batch_events.timeout")]),
        (
            {"batch_events": {"max_size": 5, "timeout": "5s"}, "idempotency": "event.id"},
            [("invalid_settings", "settings.idempotency")],
        ),
        (
            {"batch_events": {"max_size": 5, "timeout": "5s"}, "concurrency": [{"limit": 1, "key": "event.id"}]},
            [("invalid_settings", "settings.concurrency")],
        ),
        ({"priority": {"run": ""}}, [("invalid_settings", "settings.priority.run")]),
        ({"cancel_on": [{"event": "a/*"}]}, [("invalid_settings", "settings.cancel_on[0].event")]),
        (
            {"cancel_on": [{"event": "a", "if_exp": "state.x"}]},
            [("invalid_expression", "settings.cancel_on[0].if_exp")],
        ),
        ({"cancel_on": [{"event": "a"}] * 6}, [("invalid_settings", "settings.cancel_on")]),
        ({"timeouts": {"finish": "0s"}}, [("invalid_settings", "settings.timeouts.finish")]),
        ({"singleton": {"mode": "queue"}}, [("invalid_settings", "settings.singleton.mode")]),
    ],
)
def test_problems_have_paths(value: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(value) == expected


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"idempotency": "nope(", "throttle": {"limit": 1, "period": "1y"}, "timeouts": {"start": "x"}})
    assert [path for _, path in found] == [
        "settings.idempotency",
        "settings.throttle.period",
        "settings.timeouts.start",
    ]


def test_durations() -> None:
    assert duration_ms("1h30m") == 5_400_000
    assert duration_ms(2500) == 2500
    assert duration_ms("7d") == 7 * 86_400_000


def test_schema_describes_every_setting() -> None:
    schema = settings_schema()
    settings = schema["$defs"]["WorkflowSettings"]["properties"]
    assert set(settings) == set(EVERYTHING) | {"batch_events"}
    # The editor's settings form labels each section by its title and shows how many entries a list takes.
    assert all(isinstance(field.get("title"), str) for field in settings.values())
    assert settings["concurrency"]["maxItems"] == 2 and settings["cancel_on"]["maxItems"] == 5


def test_the_editor_tests_use_the_served_schema() -> None:
    """The frontend's tests of the settings form run against a copy of the schema: it must be the current one
    (regenerate it: PYTHONPATH=. python -c "import json; from workflow_kit.runtime.rules.settings import
    settings_schema; print(json.dumps(settings_schema(), indent=2))" > frontend/src/settings-schema.fixture.json)."""
    assert json.loads(EDITOR_FIXTURE.read_text()) == settings_schema()
