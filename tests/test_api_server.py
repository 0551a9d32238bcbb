"""``workflow-kit serve`` for real: a uvicorn server in a subprocess on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from helpers import free_port

from editor_api.worker_notice import NO_WORKER
from workflow_kit import WorkflowKit

ROOT = Path(__file__).resolve().parent.parent
SECRET = "server-test-secret-4G2M1fuV5nN-FTgfXXBVjPNuRVec1c0O"
HOST = "127.0.0.1"

APP_MODULE = """
from typing import Any

from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit(database_url={database_url!r})


@kit.action(kind="shout", name="Shout")
def shout(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    return str(inputs["text"]).upper() + "!"


@kit.action(kind="doze", name="Doze")
def doze(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    ctx.step.sleep("doze", "1s")
    return "rested"
"""


def write_app(tmp_path: Path) -> str:
    database_url = f"sqlite:///{tmp_path / 'server.db'}"
    (tmp_path / "server_app.py").write_text(textwrap.dedent(APP_MODULE.format(database_url=database_url)))
    return database_url


def server_env(tmp_path: Path, secret: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKFLOW_KIT_")}
    # this checkout's code, whichever copy of the package is installed
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if secret is not None:
        env["WORKFLOW_KIT_SECRET"] = secret
    return env


def serve_command(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "workflow_kit.cli",
        "serve",
        "--app",
        "server_app:kit",
        "--host",
        HOST,
        "--port",
        str(port),
        *extra,
    ]


@contextmanager
def server(tmp_path: Path, *extra: str, secret: str | None = SECRET) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``workflow-kit serve`` and wait until it answers ``/api/health``; killed on the way out."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            serve_command(port, *extra),
            env=server_env(tmp_path, secret),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited with {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the server did not come up:\n{log.read_text()}"
            try:
                health = httpx.get(f"{base}/api/health", timeout=1)
                if health.status_code == 200:
                    assert health.json() == {"status": "ok"}
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM: the server shuts down gracefully (the lifespan, hence the worker, too). Uvicorn re-raises
    the signal once it has shut down, so the exit status is 0 or "terminated by SIGTERM"."""
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the server did not stop on SIGTERM:\n{log.read_text()}") from None
    output = log.read_text()
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output, output
    assert "Traceback" not in output and "ERROR" not in output, output


def test_serve_end_to_end_over_http(tmp_path: Path) -> None:
    database_url = write_app(tmp_path)
    minter = WorkflowKit(database_url=database_url, secret=SECRET)  # the host's backend: same secret
    headers = {"Authorization": f"Bearer {minter.editor_token('acme', 'ann')}"}
    definition = {
        "actions": [{"id": "loud", "kind": "shout", "inputs": {"text": "!ref($.event.data.text)"}}],
        "edges": [{"from": "$source", "to": "loud"}],
    }
    with server(tmp_path) as (base, process), httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/api/workflows").status_code == 401  # a token is required
        assert client.post("/api/demo/token").status_code in (404, 405)  # not a demo server
        wrong = WorkflowKit(secret="another-secret-chmVtadFHgjMQgOYgi8fF4_ovc3cUknr").editor_token("acme", "ann")
        assert client.get("/api/workflows", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
        catalog = client.get("/api/actions", headers=headers)
        assert catalog.status_code == 200 and "shout" in catalog.text
        assert client.get("/schema/openapi.json").json()["info"]["title"] == "workflow-kit editor API"

        created = client.post(
            "/api/workflows",
            headers=headers,
            json={"name": "Shouter", "trigger": {"event": "app/said"}, "workflow": definition},
        )
        assert created.status_code == 201, created.text
        workflow_id = created.json()["id"]
        assert created.json()["problems"] == []
        published = client.post(f"/api/workflows/{workflow_id}/publish", headers=headers)
        assert published.status_code == 201 and published.json()["number"] == 1, published.text
        enabled = client.post(f"/api/workflows/{workflow_id}/enable", headers=headers)
        assert enabled.status_code == 200 and enabled.json()["enabled"] is True

        sent = client.post("/api/events", headers=headers, json={"name": "app/said", "data": {"text": "hello"}})
        assert sent.status_code == 202, sent.text
        [event_id] = sent.json()["ids"]

        deadline = time.monotonic() + 30
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = client.get("/api/runs", headers=headers, params={"event_id": event_id}).json()["items"]
            if runs and runs[0]["status"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.1)
        assert len(runs) == 1 and runs[0]["status"] == "completed", runs
        assert runs[0]["workflow_id"] == workflow_id
        assert runs[0]["output"] == {"loud": "HELLO!"}
        run = client.get(f"/api/runs/{runs[0]['id']}", headers=headers).json()
        [loud] = run["actions"]
        assert loud["inputs"] == {"text": "hello"} and loud["output"] == "HELLO!"

        # another tenant sees nothing of it
        other = {"Authorization": f"Bearer {minter.editor_token('globex', 'bob')}"}
        assert client.get("/api/runs", headers=other).json()["items"] == []

        stop(process, tmp_path / "server.log")
    assert NO_WORKER not in (tmp_path / "server.log").read_text()  # it ran its own worker
    minter.close()


def test_a_run_streams_live_and_a_big_body_is_413_over_a_real_socket(tmp_path: Path) -> None:
    """What a TestClient cannot show: the stream of a run goes out as it changes through uvicorn (no
    buffering until the end), and the body limit holds on a real connection."""
    database_url = write_app(tmp_path)
    minter = WorkflowKit(database_url=database_url, secret=SECRET)
    headers = {"Authorization": f"Bearer {minter.editor_token('acme', 'ann')}"}
    definition = {
        "actions": [
            {"id": "loud", "kind": "shout", "inputs": {"text": "!ref($.event.data.text)"}},
            {"id": "nap", "kind": "doze", "inputs": {}},
        ],
        "edges": [{"from": "$source", "to": "loud"}, {"from": "loud", "to": "nap"}],
    }
    with server(tmp_path) as (base, process), httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        created = client.post(
            "/api/workflows",
            json={
                "name": "Live",
                "trigger": {"event": "app/live"},
                "workflow": definition,
                "publish": True,
                "enabled": True,
            },
        )
        assert created.status_code == 201, created.text
        [event_id] = client.post("/api/events", json={"name": "app/live", "data": {"text": "hi"}}).json()["ids"]
        deadline = time.monotonic() + 30
        runs: list[dict[str, Any]] = []
        while not runs:
            assert time.monotonic() < deadline, "the event started no run"
            runs = client.get("/api/runs", params={"event_id": event_id}).json()["items"]
        statuses: list[str] = []
        with client.stream("GET", f"/api/runs/{runs[0]['id']}/stream") as live:
            assert live.status_code == 200 and live.headers["content-type"].startswith("text/event-stream")
            for line in live.iter_lines():
                if line.startswith("data:") and line[5:].strip().startswith("{"):
                    statuses.append(json.loads(line[5:])["status"])
                assert time.monotonic() < deadline, statuses
        assert statuses[-1] == "completed" and statuses[0] != "completed", statuses
        final = client.get(f"/api/runs/{runs[0]['id']}").json()
        assert final["output"] == {"loud": "HI!", "nap": "rested"}

        big = b'{"name":"app/big","data":{"x":"' + b"a" * (9 * 1024 * 1024) + b'"}}'
        refused = client.post("/api/events", content=big, headers={"Content-Type": "application/json"})
        assert refused.status_code == 413 and refused.json()["code"], refused.text
        stop(process, tmp_path / "server.log")
    minter.close()


def test_serve_without_a_worker_says_nothing_will_run_unless_one_does(tmp_path: Path) -> None:
    write_app(tmp_path)
    log = tmp_path / "server.log"
    with server(tmp_path, "--no-worker") as (base, process):
        assert httpx.get(f"{base}/api/health", timeout=5).status_code == 200
        assert log.read_text().count(NO_WORKER) == 1
        stop(process, log)
    output = log.read_text()
    assert output.count(NO_WORKER) == 1 and "WARNING" in output.split(NO_WORKER)[0].splitlines()[-1]


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    write_app(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        serve_command(port),
        env=server_env(tmp_path, secret=None),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode != 0
    assert b"WORKFLOW_KIT_SECRET" in stderr, (stdout, stderr)
    assert b"Traceback" not in stderr, stderr
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # nothing listens
        assert sock.connect_ex((HOST, port)) != 0


def test_serve_demo_starts_without_a_secret_and_hands_out_tokens(tmp_path: Path) -> None:
    write_app(tmp_path)
    with server(tmp_path, "--demo", secret=None) as (base, process), httpx.Client(base_url=base, timeout=10) as client:
        minted = client.post("/api/demo/token", json={"tenant": "demo-co", "user": "dee"})
        assert minted.status_code == 201, minted.text
        body = minted.json()
        assert (body["tenant"], body["user"]) == ("demo-co", "dee")
        headers = {"Authorization": f"Bearer {body['token']}"}
        listed = client.get("/api/workflows", headers=headers)
        assert listed.status_code == 200 and listed.json()["items"] == []

        default = client.post("/api/demo/token")
        assert default.status_code == 201 and default.json()["tenant"] == "demo"
        # the demo token is for its own tenant only
        created = client.post(
            "/api/workflows",
            headers=headers,
            json={
                "name": "Demo",
                "trigger": {"event": "app/demo"},
                "workflow": {
                    "actions": [{"id": "a", "kind": "shout", "inputs": {"text": "hi"}}],
                    "edges": [{"from": "$source", "to": "a"}],
                },
            },
        )
        assert created.status_code == 201, created.text
        other = {"Authorization": f"Bearer {default.json()['token']}"}
        assert client.get(f"/api/workflows/{created.json()['id']}", headers=other).status_code == 404
        # a token signed with some other secret is refused: the demo secret is random
        forged = WorkflowKit(secret="a-guessed-secret-H_QOf45Na8ToQTriyhUE5VJ7_Bv9zwc2").editor_token("demo-co", "dee")
        assert client.get("/api/workflows", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        stop(process, tmp_path / "server.log")
