"""Flow-control settings as Inngest function options, and CEL over the kit's events rewritten for the run
request event: pure, no executor."""

from __future__ import annotations

from datetime import timedelta

import inngest
import pytest

from workflow_kit import WorkflowKit
from workflow_kit.inngest import InngestBackend, RunRequest, for_run_event, function_options
from workflow_kit.inngest.protocol import tenant_clause, without_tenant


@pytest.mark.parametrize(
    ("kit_expression", "inngest_expression"),
    [
        ("event.data.id", "event.data.event.data.id"),
        ("async.data.id == event.data.id", "async.data.id == event.data.event.data.id"),
        (
            "has(event.data.x) && event.name == 'event'",
            "has(event.data.event.data.x) && event.data.event.name == 'event'",
        ),
        ('async.data.event == "event.data"', 'async.data.event == "event.data"'),
        ("events.size() > 0 || prevent", "events.size() > 0 || prevent"),
    ],
)
def test_kit_expressions_read_the_trigger_inside_the_run_request(kit_expression: str, inngest_expression: str) -> None:
    assert for_run_event(kit_expression) == inngest_expression


def test_waits_and_cancellations_keep_to_the_runs_tenant() -> None:
    assert tenant_clause(None) == "async.data._wk_tenant == event.data.tenant"
    assert tenant_clause("async.data.id == event.data.id") == (
        "(async.data.id == event.data.event.data.id) && async.data._wk_tenant == event.data.tenant"
    )
    assert without_tenant({"name": "a", "data": {"x": 1, "_wk_tenant": "acme"}}) == {"name": "a", "data": {"x": 1}}


def test_every_setting_that_inngest_has_becomes_its_option() -> None:
    options = function_options(
        {
            "retries": 3,
            "concurrency": [{"limit": 2, "key": "event.data.user"}, {"limit": 9, "key": '"openai"', "scope": "tenant"}],
            "idempotency": "event.data.order",
            "rate_limit": {"limit": 10, "period": "1m", "key": "event.data.user"},
            "throttle": {"limit": 5, "period": "10s", "burst": 2},
            "debounce": {"period": "30s", "timeout": "5m"},
            "priority": {"run": "event.data.vip ? 60 : 0"},
            "cancel_on": [{"event": "order/cancelled", "if_exp": "async.data.order == event.data.order"}],
            "timeouts": {"start": "1h", "finish": 86_400_000},
            "singleton": {"key": "event.data.user", "mode": "cancel"},
        }
    )
    assert options["retries"] == 3
    assert options["concurrency"] == [
        inngest.Concurrency(limit=2, key="event.data.event.data.user", scope="fn"),
        inngest.Concurrency(limit=9, key='event.data.tenant + ":" + string("openai")', scope="env"),
    ]
    assert options["idempotency"] == "event.data.event.data.order"
    assert options["rate_limit"] == inngest.RateLimit(
        limit=10, period=timedelta(minutes=1), key="event.data.event.data.user"
    )
    assert options["throttle"] == inngest.Throttle(limit=5, period=timedelta(seconds=10), burst=2)
    assert options["debounce"] == inngest.Debounce(period=timedelta(seconds=30), timeout=timedelta(minutes=5))
    assert options["priority"] == inngest.Priority(run="event.data.event.data.vip ? 60 : 0")
    assert options["cancel"] == [
        inngest.Cancel(
            event="order/cancelled",
            if_exp="(async.data.order == event.data.event.data.order) && async.data._wk_tenant == event.data.tenant",
        )
    ]
    assert options["timeouts"] == inngest.Timeouts(start=timedelta(hours=1), finish=timedelta(days=1))
    assert options["singleton"] == inngest.Singleton(key="event.data.event.data.user", mode="cancel")
    batched = function_options({"batch_events": {"max_size": 50, "timeout": "2s", "key": "event.data.user"}})
    assert batched == {
        "batch_events": inngest.Batch(max_size=50, timeout=timedelta(seconds=2), key="event.data.event.data.user")
    }
    assert function_options(None) == {}


def test_a_dedicated_function_carries_the_workflows_options_and_gets_its_runs() -> None:
    client = inngest.Inngest(app_id="wk-test", is_production=False)
    backend = InngestBackend(WorkflowKit(), client)
    backend.dedicate("acme", "welcome", {"concurrency": [{"limit": 1}], "debounce": {"period": "1m"}})
    generic, dedicated, ended = backend.functions()  # and the one recording runs Inngest ended itself
    assert ended.local_id == "run-ended"
    config = dedicated.get_config("http://127.0.0.1/api/inngest").main
    assert config.concurrency == [inngest.Concurrency(limit=1, scope="fn")]
    assert config.debounce == inngest.Debounce(period=timedelta(minutes=1))
    assert config.triggers[0].event.startswith("workflow-kit/run.requested.workflow-acme-welcome-")  # type: ignore[union-attr]
    assert generic.get_config("http://127.0.0.1/api/inngest").main.concurrency is None
    function_id, request = backend.invoke_target("acme", "welcome", {"x": 1})
    assert function_id == dedicated.local_id
    assert RunRequest.from_data(request).event["data"] == {"x": 1}
