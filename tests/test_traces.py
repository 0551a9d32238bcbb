"""OpenTelemetry traces (workflow_kit/traces.py) on both databases, exported to memory: a span per
execution of a run and per attempt, under the trace of the request that sent the event, and the runs
an event sent by a step starts continue the same trace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpers import action, edge, register_flaky, workflow
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from workflow_kit import ActionContextSync, EventError, WorkflowKit
from workflow_kit.timeutil import VirtualClock
from workflow_kit.traces import current_traceparent, enable, incoming

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exported() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_runs_and_attempts_continue_the_trace_of_the_request(
    kit: WorkflowKit, clock: VirtualClock, exported: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = exported
    enable(kit, provider)
    register_flaky(kit, then=lambda ctx: ctx.step.send_event("tell", {"name": "app/next", "data": {}}))

    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return "heard"

    first = kit.workflows.create_sync(
        "acme", name="First", trigger="app/go", workflow=workflow([action("a", "flaky")], [edge("$source", "a")])
    )
    second = kit.workflows.create_sync(
        "acme", name="Second", trigger="app/next", workflow=workflow([action("b", "echo")], [edge("$source", "b")])
    )
    host = provider.get_tracer("host")
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        with host.start_as_current_span("POST /signup") as request:
            await kit.send("acme", {"name": "app/go", "data": {}})
        await worker.idle()
        clock.advance(timedelta(milliseconds=10))  # the step's retry is due
        await worker.idle()

    spans = exporter.get_finished_spans()
    trace_id = request.get_span_context().trace_id
    assert {span.context.trace_id for span in spans} == {trace_id}  # one trace, from the request on
    executions = [span for span in spans if span.name == "workflow run"]
    of_first = [span for span in executions if attributes(span)["workflow_kit.workflow"] == first.id]
    [of_second] = [span for span in executions if attributes(span)["workflow_kit.workflow"] == second.id]
    assert len(of_first) == 2  # before and after the retry's pause: two executions of one run
    [run] = await kit.runs.list("acme", first.id)
    for span in of_first:
        assert span.parent is not None and span.parent.span_id == request.get_span_context().span_id
        found = attributes(span)
        assert (found["workflow_kit.tenant"], found["workflow_kit.workflow"]) == ("acme", first.id)
        assert (found["workflow_kit.run_id"], found["workflow_kit.version"]) == (run.id, 1)
    assert [attributes(span)["workflow_kit.run.resumed"] for span in of_first] == [False, True]
    assert [attributes(span)["workflow_kit.run.status"] for span in of_first] == ["sleeping", "completed"]

    attempts = [span for span in spans if span.name.endswith("attempt")]
    failed = [span for span in attempts if span.status.status_code == StatusCode.ERROR]
    assert [(attributes(s)["workflow_kit.action"], attributes(s)["workflow_kit.step"]) for s in failed] == [
        ("a", "call")
    ]
    assert "the first call fails" in (failed[0].status.description or "")
    assert failed[0].parent is not None and failed[0].parent.span_id == of_first[0].context.span_id
    steps_after = [s for s in attempts if s.parent is not None and s.parent.span_id == of_first[1].context.span_id]
    assert steps_after and all(s.status.status_code != StatusCode.ERROR for s in steps_after)

    # the second run was started by the event the first one's step sent: its span is a child of that execution
    assert of_second.parent is not None and of_second.parent.span_id == of_first[1].context.span_id
    [sent] = await kit.events.list("acme", name="app/next")
    assert sent.event["traceparent"].split("-")[1] == format(trace_id, "032x")


async def test_an_event_s_own_traceparent_is_kept_and_checked(
    kit: WorkflowKit, exported: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = exported
    enable(kit, provider)
    nap = kit.workflows.create_sync(
        "acme",
        name="W",
        trigger="app/go",
        workflow=workflow([action("n", "builtin:sleep", duration="1d")], [edge("$source", "n")]),
    )
    async with kit.worker(poll_ms=3_600_000, lease_ms=5_000) as worker:
        await kit.send("acme", {"name": "app/go", "data": {}, "traceparent": TRACEPARENT})
        await worker.idle()
    [span] = [span for span in exporter.get_finished_spans() if span.name == "workflow run"]
    assert format(span.context.trace_id, "032x") == TRACEPARENT.split("-")[1]
    assert span.parent is not None and format(span.parent.span_id, "016x") == TRACEPARENT.split("-")[2]
    assert attributes(span)["workflow_kit.workflow"] == nap.id
    with pytest.raises(EventError, match=r"events\.traceparent"):
        await kit.send("acme", {"name": "app/go", "traceparent": "not-a-trace"})


def test_an_incoming_request_s_traceparent_is_current_meanwhile() -> None:
    assert current_traceparent() is None
    with incoming({"traceparent": TRACEPARENT, "content-type": "application/json"}):
        current = current_traceparent()
        assert current is not None and current.split("-")[1:3] == TRACEPARENT.split("-")[1:3]
    assert current_traceparent() is None
    with incoming({}):
        assert current_traceparent() is None


async def test_without_tracing_events_carry_no_trace(kit: WorkflowKit) -> None:
    """Off by default: the API's incoming trace context goes nowhere, and nothing watches the runs."""
    with incoming({"traceparent": TRACEPARENT}):
        [event_id] = await kit.send("acme", {"name": "app/go", "data": {}})
    stored = await kit.events.get("acme", event_id)
    assert "traceparent" not in stored.event
    assert kit.observers == [] and kit.worker().host.observer is None
