"""OpenTelemetry traces, off until `enable(kit)`: the kit uses the OpenTelemetry API (always installed);
the host brings the SDK and its exporter (``pip install workflow-kit[otel]``) and sets the tracer
provider, as for the rest of its code.

- A span ``workflow run`` for each execution of a run (from the moment a worker takes it until it
  ends, sleeps or waits: a run that sleeps for a day is two executions, two spans in the same trace),
  with the tenant, workflow, version and run id as attributes.
- A span ``action attempt`` or ``step attempt`` for each attempt of an action's handler or of one of its
  steps, child of the execution's span, with the action and step, the outcome, and the error.
- Trace context travels with events as their ``traceparent`` (W3C): an event sent while a span is
  current (``kit.send`` inside the host's request handler, ``POST /api/events`` with a ``traceparent``
  header) carries it, and so does an event a step sends; the runs an event starts are stored with it
  and their spans continue that trace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from .errors import ErrorInfo
from .logs import redact
from .observe import AttemptInfo, Observer, RunInfo

if TYPE_CHECKING:
    from .kit import WorkflowKit

TRACER_NAME = "workflow_kit"
MAX_OPEN_SPANS = 10_000
"""Execution spans kept open at once by one process (each ends when its execution does)."""


class Tracing(Observer):
    """The kit's spans (see the module): an observer of its runs and attempts."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)
        self._open: dict[str, Span] = {}

    # -- runs --------------------------------------------------------------------------------------

    def run_started(self, run: RunInfo, now_ms: int) -> None:
        self._begin(run, now_ms, resumed=False)

    def run_resumed(self, run: RunInfo, now_ms: int) -> None:
        self._begin(run, now_ms, resumed=True)

    def run_parked(self, run: RunInfo, status: str, now_ms: int) -> None:
        span = self._open.pop(run.run_id, None)
        if span is not None:
            span.set_attribute("workflow_kit.run.status", status)
            span.end(end_time=_ns(now_ms))

    def run_ended(self, run: RunInfo, status: str, error: ErrorInfo | None, now_ms: int) -> None:
        span = self._open.pop(run.run_id, None)
        if span is None:  # ended without executing (cancelled for being late)
            span = self._start(run, now_ms, resumed=False)
        span.set_attribute("workflow_kit.run.status", status)
        if status == "failed":
            span.set_status(Status(StatusCode.ERROR, _describe(error)))
        span.end(end_time=_ns(now_ms))

    def attempt_ended(self, run: RunInfo, attempt: AttemptInfo) -> None:
        parent = self._open.get(run.run_id)
        context = trace.set_span_in_context(parent) if parent is not None else _parent(run)
        kind = "step" if attempt.step is not None else "action"
        span = self._tracer.start_span(
            f"{kind} attempt",
            context=context,
            start_time=_ns(attempt.started_at),
            attributes={
                **_attributes(run),
                "workflow_kit.action": attempt.action_id,
                "workflow_kit.attempt.outcome": attempt.outcome,
                **({"workflow_kit.step": attempt.step} if attempt.step is not None else {}),
            },
        )
        if attempt.error is not None:
            span.set_status(Status(StatusCode.ERROR, _describe(attempt.error)))
        span.end(end_time=_ns(attempt.ended_at))

    def traceparent(self, run: RunInfo) -> str | None:
        """The trace context an event sent by `run` carries now (its execution's span)."""
        span = self._open.get(run.run_id)
        return None if span is None else _traceparent_of(trace.set_span_in_context(span))

    # -- helpers -----------------------------------------------------------------------------------

    def _begin(self, run: RunInfo, now_ms: int, *, resumed: bool) -> None:
        old = self._open.pop(run.run_id, None)
        if old is not None:  # taken back after its lease ran out: the old execution is over
            old.end(end_time=_ns(now_ms))
        if len(self._open) >= MAX_OPEN_SPANS:
            return
        self._open[run.run_id] = self._start(run, now_ms, resumed=resumed)

    def _start(self, run: RunInfo, now_ms: int, *, resumed: bool) -> Span:
        return self._tracer.start_span(
            "workflow run",
            context=_parent(run),
            kind=SpanKind.CONSUMER,
            start_time=_ns(now_ms),
            attributes={**_attributes(run), "workflow_kit.run.resumed": resumed},
        )


def enable(kit: WorkflowKit, tracer_provider: trace.TracerProvider | None = None) -> Tracing:
    """Trace the kit's runs from now on (workers started before are not traced), with `tracer_provider`
    (default: the global one the host set up). Returns the observer (the same on later calls)."""
    for observer in kit.observers:
        if isinstance(observer, Tracing):
            return observer
    tracing = Tracing(tracer_provider)
    kit.observers.append(tracing)
    kit.trace_events = True
    return tracing


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span current in this context, if one is (what an event sent now
    carries)."""
    return _traceparent_of(otel_context.get_current())


@contextlib.contextmanager
def incoming(headers: Mapping[str, str]) -> Iterator[None]:
    """Make the trace context of an incoming request's headers (``traceparent``) current meanwhile."""
    if "traceparent" not in headers:
        yield
        return
    token = otel_context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        otel_context.detach(token)


def _traceparent_of(ctx: otel_context.Context) -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=ctx)
    return carrier.get("traceparent")


def _parent(run: RunInfo) -> otel_context.Context:
    """The context a run's spans continue: the trace of the event that started it, if it had one."""
    if run.traceparent is None:
        return otel_context.Context()
    return propagate.extract({"traceparent": run.traceparent})


def _attributes(run: RunInfo) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "workflow_kit.tenant": run.tenant,
        "workflow_kit.workflow": run.workflow_id,
        "workflow_kit.run_id": run.run_id,
    }
    if run.version is not None:
        attributes["workflow_kit.version"] = run.version
    return attributes


def _describe(error: ErrorInfo | None) -> str:
    return "" if error is None else redact(f"{error.name}: {error.message}"[:500])


def _ns(ms: int) -> int:
    return ms * 1_000_000
