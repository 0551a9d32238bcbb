"""Prometheus metrics (workflow_kit/metrics.py) on both databases: the counters move as runs start,
retry, fail, complete and are cancelled; due runs and their lag, the writer's transactions and the
events received are measured; labels stay bounded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from helpers import action, edge, register_flaky, workflow
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit
from workflow_kit.metrics import Metrics, app, enable
from workflow_kit.timeutil import VirtualClock


def samples(metrics: Metrics) -> dict[str, float]:
    """Every sample of the registry, as ``name{label="value",...}`` -> value."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def register(kit: WorkflowKit) -> None:
    register_flaky(kit)

    @kit.action(kind="boom")
    def boom(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError("no")

    @kit.action(kind="nap")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep("z", "1d")
        return "rested"

    for kind in ("flaky", "boom", "nap"):
        one = workflow([action("a", kind)], [edge("$source", "a")])
        kit.workflows.create_sync("acme", name=kind, trigger=f"app/{kind}", workflow=one)


async def test_the_counters_move(kit: WorkflowKit, clock: VirtualClock) -> None:
    metrics = enable(kit)
    assert enable(kit) is metrics  # one per kit
    register(kit)
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        await kit.send("acme", [{"name": "app/flaky"}, {"name": "app/boom"}, {"name": "app/nap"}])
        await worker.idle()
        clock.advance(timedelta(milliseconds=10))  # the flaky step's retry is due
        await worker.idle()
        seen = samples(metrics)
        assert seen["workflow_kit_runs_started_total"] == 3
        assert seen['workflow_kit_runs_ended_total{status="completed"}'] == 1
        assert seen['workflow_kit_runs_ended_total{status="failed"}'] == 1
        assert seen['workflow_kit_attempts_total{outcome="retrying",what="step"}'] == 1
        assert seen['workflow_kit_attempts_total{outcome="completed",what="step"}'] == 1
        assert seen['workflow_kit_attempts_total{outcome="failed",what="action"}'] == 1
        assert seen['workflow_kit_attempt_duration_seconds_count{what="step"}'] == 2
        assert seen["workflow_kit_events_received_total"] == 3
        assert seen["workflow_kit_writer_batch_jobs_count"] >= 3
        assert seen["workflow_kit_writer_batch_jobs_sum"] >= seen["workflow_kit_writer_batch_jobs_count"]
        assert seen["workflow_kit_writer_transaction_seconds_count"] == seen["workflow_kit_writer_batch_jobs_count"]
        assert (seen["workflow_kit_due_runs"], seen["workflow_kit_due_lag_seconds"]) == (0, 0)

        # the sleeping run falls due: the worker is not woken, so it waits, and is late
        clock.advance(timedelta(days=1, seconds=30))
        seen = samples(metrics)
        assert seen["workflow_kit_due_runs"] == 1
        assert 30 <= seen["workflow_kit_due_lag_seconds"] < 31
        [sleeping] = await kit.runs.list("acme", status="sleeping")
        await kit.runs.cancel("acme", sleeping.id)
        await worker.idle()
    metrics.webhook_received("accepted")  # what the webhook intake calls
    seen = samples(metrics)
    assert seen['workflow_kit_webhook_requests_total{outcome="accepted"}'] == 1
    assert seen['workflow_kit_runs_ended_total{status="cancelled"}'] == 1
    assert seen["workflow_kit_due_runs"] == 0
    assert not any("acme" in name or sleeping.id in name for name in seen)  # no tenant or run ids


async def test_runs_cancelled_in_bulk_are_counted_as_they_end(kit: WorkflowKit) -> None:
    metrics = enable(kit)
    register(kit)
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        await kit.send("acme", [{"name": "app/nap"}, {"name": "app/nap"}, {"name": "app/boom"}])
        await worker.idle()
        operation = await kit.runs.bulk_cancel("acme", status="sleeping")
        assert operation.matched == 2
        deadline = asyncio.get_running_loop().time() + 30
        while (operation := await kit.runs.operation("acme", operation.id)).state != "completed":
            assert asyncio.get_running_loop().time() < deadline, operation
            await asyncio.sleep(0.02)
        await worker.idle()
    seen = samples(metrics)
    assert operation.done == 2
    assert seen['workflow_kit_runs_ended_total{status="cancelled"}'] == 2  # reported by the worker that cancelled them


async def test_per_workflow_labels_when_asked(kit: WorkflowKit, clock: VirtualClock) -> None:
    metrics = enable(kit, per_workflow=True)
    register(kit)
    ids = {record.name: record.id for record in await kit.workflows.list("acme")}
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        await kit.send("acme", [{"name": "app/boom"}, {"name": "app/boom"}])
        await worker.idle()
    seen = samples(metrics)
    assert seen[f'workflow_kit_runs_started_total{{workflow="{ids["boom"]}"}}'] == 2
    assert seen[f'workflow_kit_runs_ended_total{{status="failed",workflow="{ids["boom"]}"}}'] == 2


async def test_the_mountable_app_serves_the_metrics(kit: WorkflowKit) -> None:
    served = app(kit)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    await served(scope, receive, send)
    assert sent[0]["status"] == 200
    body = b"".join(message.get("body", b"") for message in sent[1:]).decode()
    assert "workflow_kit_runs_started_total" in body and "workflow_kit_due_runs" in body
