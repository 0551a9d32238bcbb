"""Issue 4 serving: `workflow-kit serve` under uvicorn on 127.0.0.1 (refuses to start without a secret outside
demo mode; serves the frontend at `/`); end to end: send an event, poll the run to completion, and watch a
run live over server-sent events."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.issue4_support import SECRET, build_kit

ROOT = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parents[1]
APP_MODULE = """
import os
from acceptance.issue4_support import build_kit
kit = build_kit(os.environ["ACC_DB"], secret=None)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "acc_app.py").write_text(APP_MODULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKFLOW_KIT_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS), str(tmp_path)]),
        ACC_DB=f"sqlite:///{tmp_path / 'served.db'}",
        **extra,
    )
    return env


def _serve(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workflow_kit.cli", "serve", "--app", "acc_app:kit", "--host", "127.0.0.1", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def _wait_up(base: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
        try:
            if httpx.get(f"{base}/schema/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not come up")


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    proc = _serve(tmp_path, _env(tmp_path), "--port", str(_free_port()))
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode not in (0, None)
    assert "WORKFLOW_KIT_SECRET" in out


def test_serve_demo_mode_starts_without_a_secret(tmp_path: Path) -> None:
    port = _free_port()
    proc = _serve(tmp_path, _env(tmp_path), "--port", str(port), "--demo", "--no-worker")
    try:
        _wait_up(f"http://127.0.0.1:{port}", proc)
        assert httpx.get(f"http://127.0.0.1:{port}/api/workflows", timeout=5).status_code == 401
    finally:
        _stop(proc)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    front = tmp_path / "front"
    front.mkdir()
    (front / "index.html").write_text("<!doctype html><title>acceptance editor</title><div id=root></div>")
    port = _free_port()
    env = _env(tmp_path, WORKFLOW_KIT_SECRET=SECRET, WORKFLOW_KIT_FRONTEND_DIR=str(front))
    proc = _serve(tmp_path, env, "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(base, proc)
        minting = build_kit(f"sqlite:///{tmp_path / 'mint.db'}")  # same secret, tokens only
        yield base, minting
        minting.close()
    finally:
        _stop(proc)


def test_end_to_end_on_a_real_uvicorn_server(served: tuple[str, Any]) -> None:
    base, minting = served
    h = {"Authorization": f"Bearer {minting.editor_token('tenant-e2e', 'ann', ttl=300)}"}
    with httpx.Client(base_url=base, headers=h, timeout=10) as c:
        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and "acceptance editor" in page.text
        wf = {
            "actions": [
                {"id": "sum", "kind": "add", "inputs": {"a": "!ref($.event.data.a)", "b": 2}},
                {"id": "n", "kind": "nap", "inputs": {"duration": "1s"}},
            ],
            "edges": [{"from": "$source", "to": "sum"}, {"from": "sum", "to": "n"}],
        }
        r = c.post("/api/workflows", json={"name": "E2E", "trigger": {"event": "app/e2e"}, "workflow": wf})
        assert r.status_code == 201, r.text
        wid = r.json()["id"]
        assert c.post(f"/api/workflows/{wid}/publish").status_code in (200, 201)
        assert c.post(f"/api/workflows/{wid}/enable").status_code == 200
        r = c.post("/api/events", json={"name": "app/e2e", "data": {"a": 5}})
        assert r.status_code in (200, 201, 202)
        [event_id] = r.json()["ids"]
        deadline = time.monotonic() + 15
        runs: list[dict[str, Any]] = []
        while not runs:
            runs = c.get("/api/runs", params={"workflow_id": wid}).json()["items"]
            assert time.monotonic() < deadline
        run_id = runs[0]["id"]
        # watch it live: the stream follows the run until it ends
        statuses: list[str] = []
        with c.stream("GET", f"/api/runs/{run_id}/stream") as s:
            assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
            for line in s.iter_lines():
                if line.startswith("data:") and line[5:].strip().startswith("{"):
                    statuses.append(json.loads(line[5:])["status"])
                assert time.monotonic() < deadline + 15
        assert statuses[-1] == "completed"
        assert len(statuses) >= 2 and statuses[0] != "completed", statuses
        # and by polling
        while (run := c.get(f"/api/runs/{run_id}").json())["status"] not in ("completed", "failed", "cancelled"):
            assert time.monotonic() < deadline + 15
            time.sleep(0.1)
        assert run["status"] == "completed" and run["output"]["sum"] == 7 and run["output"]["n"] == "rested"
        assert run["event"]["data"] == {"a": 5}
        assert [x["id"] for x in c.get("/api/runs", params={"event_id": event_id}).json()["items"]] == [run_id]
        # 413 over a real socket
        big = b'{"name":"app/big","data":{"x":"' + b"a" * (9 * 1024 * 1024) + b'"}}'
        r = c.post("/api/events", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["code"]
