"""Logs (workflow_kit/logs.py): the redacting filter and the run log in-process; then one real
``workflow-kit serve --log-format json --metrics`` for the module, whose log (the access log included)
is read for credentials and for the lines about runs, attempts and events."""

from __future__ import annotations

import io
import json
import logging
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api_server import SECRET, server

from workflow_kit import WorkflowKit
from workflow_kit.errors import ErrorInfo
from workflow_kit.logs import REDACTED, RunLog, configure, redact
from workflow_kit.observe import AttemptInfo, RunInfo

# -- in-process ------------------------------------------------------------------------------------


@pytest.fixture
def kept_logging() -> Iterator[None]:
    """`configure` changes the process's logging: put it back as it was for the tests after."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "litestar")
    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).level) for name in names}
    propagate = {name: logging.getLogger(name).propagate for name in names}
    yield
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate[name]


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXZhbHVl"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('GET /runs/r1/stream?ticket=abc.def.ghi HTTP/1.1" 200', 'GET /runs/r1/stream?ticket=[redacted] HTTP/1.1" 200'),
        ("GET /x?a=1&token=s3cr3t&b=2", "GET /x?a=1&token=[redacted]&b=2"),
        ("GET /x?ACCESS_TOKEN=s3cr3t", "GET /x?ACCESS_TOKEN=[redacted]"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        (f"the token {JWT} was refused", "the token [redacted] was refused"),
        ("GET /api/runs?status=failed&tokens=3", "GET /api/runs?status=failed&tokens=3"),
        (  # an OAuth provider's return: its code is single-use, still no business of a log
            "GET /api/connections/oauth/callback?code=AZ5mf0S&state=w62WZ HTTP/1.1",
            "GET /api/connections/oauth/callback?code=[redacted]&state=[redacted] HTTP/1.1",
        ),
    ],
)
def test_redact_removes_credentials_and_keeps_the_rest(text: str, kept: str) -> None:
    assert redact(text) == kept


def test_the_filter_redacts_messages_fields_tracebacks_and_known_secrets(kept_logging: None) -> None:
    out = io.StringIO()
    configure("json", secrets=["the-signing-secret-value", None, "short"], stream=out)
    log = logging.getLogger("workflow_kit.test")
    log.warning("signed with %s", "the-signing-secret-value", extra={"path": "/x?ticket=t1"})
    try:
        raise RuntimeError(f"boom with Bearer {JWT}")
    except RuntimeError:
        log.exception("failed")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/api/runs/r/stream?ticket=zzz", "1.1", 200
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["message"] == f"signed with {REDACTED}" and lines[0]["path"] == f"/x?ticket={REDACTED}"
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "workflow_kit.test" and lines[0]["time"]
    assert JWT not in lines[1]["exc_info"] and "RuntimeError" in lines[1]["exc_info"]
    assert lines[2]["path"] == f"/api/runs/r/stream?ticket={REDACTED}" and lines[2]["status"] == 200
    assert "zzz" not in out.getvalue() and "the-signing-secret-value" not in out.getvalue()


def test_the_run_log_names_the_run_its_tenant_workflow_action_and_step(kept_logging: None) -> None:
    out = io.StringIO()
    configure("json", stream=out)
    runs = RunLog()
    run = RunInfo("run-1", "acme", "wf-1", 3)
    error = ErrorInfo("RuntimeError", "no luck")
    runs.run_started(run, 0)
    runs.attempt_ended(run, AttemptInfo("send", "call", "retrying", 10, 25, error))
    runs.attempt_ended(run, AttemptInfo("send", None, "completed", 10, 30))  # not worth a line
    runs.attempt_ended(run, AttemptInfo("send", None, "failed", 30, 40, error))
    runs.run_ended(run, "failed", error, 50)
    runs.events_received("acme", ["app/x"], ["e1"])
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "run started",
        "step attempt failed; it will be retried",
        "action attempt failed",
        "run failed",
        "events received",
    ]
    for line in lines[:4]:
        assert (line["run_id"], line["tenant"], line["workflow"], line["version"]) == ("run-1", "acme", "wf-1", 3)
    assert (lines[1]["action"], lines[1]["step"], lines[1]["duration_ms"]) == ("send", "call", 15)
    assert lines[1]["error"] == "RuntimeError: no luck" and lines[3]["level"] == "WARNING"
    assert lines[4]["events"] == ["app/x"] and lines[4]["tenant"] == "acme"


# -- a real server ---------------------------------------------------------------------------------

APP_MODULE = """
from typing import Any

from tests.helpers import register_flaky
from workflow_kit import ActionContextSync, RetryPolicy, WorkflowKit

kit = WorkflowKit(database_url={database_url!r}, retry_policy=RetryPolicy.fast())
register_flaky(kit)


@kit.action(kind="shout", name="Shout")
def shout(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    return str(inputs["text"]).upper() + "!"
"""


class Served:
    def __init__(self, base: str, log: Path, kit: WorkflowKit) -> None:
        self.base = base
        self.log = log
        self.token = kit.editor_token("acme", "ann")
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def lines(self) -> list[dict[str, Any]]:
        """The server's JSON log lines so far (stdout's startup banner aside)."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("logs")
    url = f"sqlite:///{folder / 'server.db'}"
    (folder / "server_app.py").write_text(textwrap.dedent(APP_MODULE.format(database_url=url)))
    minter = WorkflowKit(database_url=url, secret=SECRET)
    with server(folder, "--log-format", "json", "--metrics") as (base, _):
        here = Served(base, folder / "server.log", minter)
        yield here
        here.client.close()
    minter.close()


def run_workflow(served: Served, kind: str, name: str) -> str:
    """Create and enable a one-action workflow, send it an event, wait for its run to end; its id."""
    definition = {
        "actions": [{"id": "act", "kind": kind, "inputs": {"text": "hi"} if kind == "shout" else {}}],
        "edges": [{"from": "$source", "to": "act"}],
    }
    body = {"name": name, "trigger": {"event": f"app/{name}"}, "workflow": definition, "publish": True, "enabled": True}
    created = served.client.post("/api/workflows", json=body)
    assert created.status_code == 201, created.text
    [event_id] = served.client.post("/api/events", json={"name": f"app/{name}", "data": {}}).json()["ids"]
    deadline = time.monotonic() + 30
    while True:
        items = served.client.get("/api/runs", params={"event_id": event_id}).json()["items"]
        if items and items[0]["status"] in ("completed", "failed"):
            return str(items[0]["id"])
        assert time.monotonic() < deadline, items
        time.sleep(0.05)


def wait_for_line(served: Served, found: Any) -> list[dict[str, Any]]:
    """The log's lines once one of them satisfies `found` (the server writes them as things happen)."""
    deadline = time.monotonic() + 10
    while True:
        lines = served.lines()
        if any(found(line) for line in lines):
            return lines
        assert time.monotonic() < deadline, lines[-20:]
        time.sleep(0.05)


def test_no_token_or_ticket_reaches_the_server_log(served: Served) -> None:
    run_id = run_workflow(served, "shout", "loud")
    asked = served.client.post(f"/api/runs/{run_id}/stream-ticket")
    assert asked.status_code == 201, asked.text
    ticket = asked.json()["ticket"]
    with httpx.stream("GET", f"{served.base}/api/runs/{run_id}/stream", params={"ticket": ticket}) as live:
        assert live.status_code == 200
        assert "event: end" in "".join(live.iter_text())
    again = httpx.get(f"{served.base}/api/runs/{run_id}/stream", params={"ticket": ticket})
    assert again.status_code == 401 and "used already" in again.text
    # someone still puts the token in the URL: refused, and the log does not keep it
    assert httpx.get(f"{served.base}/api/runs/{run_id}", params={"token": served.token}).status_code == 401

    lines = wait_for_line(served, lambda line: str(line.get("path", "")).startswith(f"/api/runs/{run_id}?token="))
    text = served.log.read_text()
    for secret in (served.token, ticket, SECRET):
        assert secret not in text
    assert "eyJ" not in text  # nothing shaped like a JWT at all
    streams = [line for line in lines if line.get("path", "").startswith(f"/api/runs/{run_id}/stream?")]
    assert [line["path"] for line in streams] == [f"/api/runs/{run_id}/stream?ticket={REDACTED}"] * 2
    assert [line["status"] for line in streams] == [200, 401]


def test_one_json_line_per_run_attempt_and_event(served: Served) -> None:
    run_id = run_workflow(served, "flaky", "flaky")
    lines = wait_for_line(served, lambda line: line.get("run_id") == run_id and line["message"] == "run completed")
    about = [line for line in lines if line.get("run_id") == run_id]
    assert [line["message"] for line in about] == [
        "run started",
        "step attempt failed; it will be retried",
        "run completed",
    ], about
    workflow = served.client.get(f"/api/runs/{run_id}").json()["workflow_id"]
    for line in about:
        assert (line["tenant"], line["workflow"], line["version"]) == ("acme", workflow, 1)
    retried = about[1]
    assert (retried["action"], retried["step"], retried["level"]) == ("act", "call", "WARNING")
    assert retried["error"] == "RuntimeError: the first call fails"
    assert any(line["message"] == "events received" and line["events"] == ["app/flaky"] for line in lines)
    assert all(line["logger"] and line["time"] and line["level"] for line in lines)


def test_serve_metrics_answers_in_the_prometheus_format(served: Served) -> None:
    run_workflow(served, "shout", "counted")
    scraped = httpx.get(f"{served.base}/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in scraped.text.splitlines()
        if line.startswith("workflow_kit_")
    }
    assert values["workflow_kit_runs_started_total"] >= 1
    assert values['workflow_kit_runs_ended_total{status="completed"}'] >= 1
    assert values["workflow_kit_events_received_total"] >= 1
    assert values["workflow_kit_writer_batch_jobs_count"] >= 1
    assert "workflow_kit_due_runs" in values
    assert "acme" not in scraped.text  # no tenant as a label
