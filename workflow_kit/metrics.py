"""Prometheus metrics (prometheus_client), off until asked for: ``workflow-kit serve --metrics`` serves
them at ``/metrics``; a host mounts ``workflow_kit.metrics.app(kit)`` (an ASGI app) wherever it likes.

What is measured: runs started and ended (by status), attempts of actions and steps (by outcome) and
their durations, runs due that no worker has claimed yet and how late the earliest of them is, the
group-commit writer's transactions (jobs per transaction, time per transaction), events received, and
webhook requests (`Metrics.webhook_received`, for the webhook intake).

Labels stay few: never a tenant or a run id. With ``per_workflow=True`` the run and attempt metrics get
a ``workflow`` label (the workflow's id): one series per workflow, so only where workflows are few."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .errors import ErrorInfo
from .observe import AttemptInfo, Observer, RunInfo

if TYPE_CHECKING:
    from .kit import WorkflowKit

ASGIApp = Callable[[dict[str, Any], Callable[..., Any], Callable[..., Any]], Any]
PREFIX = "workflow_kit"
ATTEMPT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics(Observer):
    """The kit's metrics, in a registry of their own (`registry`): an observer of its runs and events,
    and of its writer's transactions. Made by `enable`."""

    def __init__(self, kit: WorkflowKit, *, per_workflow: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.per_workflow = per_workflow
        extra = ("workflow",) if per_workflow else ()
        registry = self.registry
        self.runs_started = Counter(f"{PREFIX}_runs_started", "Runs that started executing", extra, registry=registry)
        self.runs_ended = Counter(
            f"{PREFIX}_runs_ended",
            "Runs that ended, by status: completed, failed or cancelled",
            ("status", *extra),
            registry=registry,
        )
        self.attempts = Counter(
            f"{PREFIX}_attempts",
            "Attempts of actions (what=action) and of their steps (what=step) that ended, by outcome: "
            "completed, retrying (failed, will be retried) or failed",
            ("what", "outcome", *extra),
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            f"{PREFIX}_attempt_duration_seconds",
            "How long attempts of actions and steps took",
            ("what", *extra),
            buckets=ATTEMPT_BUCKETS,
            registry=registry,
        )
        self.events = Counter(f"{PREFIX}_events_received", "Events received", registry=registry)
        self.webhooks = Counter(
            f"{PREFIX}_webhook_requests", "Webhook requests received, by outcome", ("outcome",), registry=registry
        )
        self.writer_batch = Histogram(
            f"{PREFIX}_writer_batch_jobs", "Jobs written per transaction", buckets=BATCH_BUCKETS, registry=registry
        )
        self.writer_commit = Histogram(
            f"{PREFIX}_writer_transaction_seconds",
            "How long a transaction of the writer took, commit included",
            buckets=COMMIT_BUCKETS,
            registry=registry,
        )
        registry.register(_Backlog(kit))

    # -- the observer ------------------------------------------------------------------------------

    def run_started(self, run: RunInfo, now_ms: int) -> None:
        counter = self.runs_started.labels(run.workflow_id) if self.per_workflow else self.runs_started
        counter.inc()

    def run_ended(self, run: RunInfo, status: str, error: ErrorInfo | None, now_ms: int) -> None:
        labels = (status, run.workflow_id) if self.per_workflow else (status,)
        self.runs_ended.labels(*labels).inc()

    def attempt_ended(self, run: RunInfo, attempt: AttemptInfo) -> None:
        what = "action" if attempt.step is None else "step"
        workflow = (run.workflow_id,) if self.per_workflow else ()
        self.attempts.labels(what, attempt.outcome, *workflow).inc()
        self.attempt_seconds.labels(what, *workflow).observe(attempt.duration_ms / 1000)

    def events_received(self, tenant: str, names: Sequence[str], event_ids: Sequence[str]) -> None:
        self.events.inc(len(event_ids))

    # -- the rest ----------------------------------------------------------------------------------

    def written(self, jobs: int, seconds: float) -> None:
        """A transaction of the writer: `jobs` jobs in `seconds` (called on the writer's thread)."""
        self.writer_batch.observe(jobs)
        self.writer_commit.observe(seconds)

    def webhook_received(self, outcome: str = "accepted") -> None:
        """A webhook request came in: `outcome` is a short, fixed word (accepted, refused, invalid...)."""
        self.webhooks.labels(outcome).inc()

    def app(self) -> ASGIApp:
        """An ASGI app that answers with these metrics in Prometheus' text format."""
        served: ASGIApp = make_asgi_app(self.registry)
        return served


class _Backlog(Collector):
    """Runs due that no worker has claimed yet, and how late the earliest of them is: read from the
    database when Prometheus scrapes (one indexed query), not kept up to date on the hot path."""

    def __init__(self, kit: WorkflowKit) -> None:
        self._kit = kit

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .runtime.worker.claims import backlog

        now = self._kit.clock.now_ms()
        try:
            count, earliest = backlog(self._kit.db, now)
        except Exception:  # the database is away: say nothing rather than fail the scrape
            return
        yield GaugeMetricFamily(f"{PREFIX}_due_runs", "Runs due that no worker has claimed yet", value=count)
        lag = 0.0 if earliest is None else max(0, now - earliest) / 1000
        yield GaugeMetricFamily(
            f"{PREFIX}_due_lag_seconds", "How long the earliest unclaimed due run has been due", value=lag
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


def enable(kit: WorkflowKit, *, per_workflow: bool = False) -> Metrics:
    """The kit's metrics, made on the first call (later calls return the same, whatever `per_workflow`):
    observes the kit's runs, events and writer from now on. Workers started before do not report runs
    and attempts: enable metrics before starting workers (``serve --metrics`` does)."""
    for observer in kit.observers:
        if isinstance(observer, Metrics):
            return observer
    metrics = Metrics(kit, per_workflow=per_workflow)
    kit.observers.append(metrics)
    kit.db.writer.observe = metrics.written
    return metrics


def app(kit: WorkflowKit, *, per_workflow: bool = False) -> ASGIApp:
    """A mountable ASGI app serving the kit's metrics (enabling them): e.g. Starlette's
    ``Mount("/metrics", app=workflow_kit.metrics.app(kit))``."""
    return enable(kit, per_workflow=per_workflow).app()
