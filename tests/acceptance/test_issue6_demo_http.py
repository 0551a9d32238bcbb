"""Issue 6: the demo page's API (each button sends the real event) and the demo with a key, against a
local OpenAI-compatible server: the real API is used, and neither the start nor the page says "local"."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fake_openai import FakeOpenAI, fake_openai
from .test_issue6_demo_browser import cli_command, free_port

ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, base: str, out: Path, ai: FakeOpenAI) -> None:
        self.base = base
        self.out = out
        self.ai = ai
        self.token = ""

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if token if token is not None else self.token:
            request.add_header("authorization", f"Bearer {token if token is not None else self.token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                if "json" not in response.headers.get("content-type", ""):
                    return response.status, raw.decode(errors="replace")
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with fake_openai() as ai:
        tmp = Path(tempfile.mkdtemp(prefix="wk-demo-key-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_") and k != "WORKFLOW_KIT_SECRET"}
        env.update(
            PYTHONPATH=str(ROOT),
            WORKFLOW_KIT_DATABASE_URL=f"sqlite:///{tmp / 'demo.db'}",
            OPENAI_API_KEY="sk-demo-test",
            OPENAI_BASE_URL=ai.base_url,
            WORKFLOW_KIT_AI_MODEL="demo-model-x",
        )
        seeded = subprocess.run(
            cli_command("seed", "--app", "seeds.app:kit"),
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, seeded.stderr
        port = free_port()
        out = tmp / "serve.out"
        with out.open("w") as sink:
            process = subprocess.Popen(
                ["timeout", "300", *cli_command("serve", "--app", "seeds.app:kit", "--demo", "--port", str(port))],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        found = Server(f"http://127.0.0.1:{port}", out, ai)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if found.call("GET", "/demo")[0] == 200:
                        break
                except urllib.error.URLError:
                    pass
                assert process.poll() is None, out.read_text()
                assert time.monotonic() < deadline, out.read_text()
                time.sleep(0.3)
            status, body = found.call("POST", "/api/demo/token")
            assert status in (200, 201), body
            found.token = body["token"]
            yield found
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def wait_for_status(server: Server, run_id: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, run = server.call("GET", f"/api/runs/{run_id}")
        assert status == 200, run
        if run["status"] == wanted:
            return dict(run)
        assert run["status"] not in {"completed", "failed", "cancelled"} - {wanted}, run
        assert time.monotonic() < deadline, run
        time.sleep(0.2)


def test_with_a_key_the_start_names_the_provider(server: Server) -> None:
    text = server.out.read_text()
    assert "no OPENAI_API_KEY" not in text
    status, info = server.call("GET", "/api/demo/info")
    assert status == 200
    assert info["ai_provider"] != "local"
    assert info["ai_model"] == "demo-model-x"


def test_review_and_approve_through_the_demo_api_uses_the_server(server: Server) -> None:
    status, body = server.call("POST", "/api/demo/posts/2/review")
    assert status in (200, 201, 202), body
    status, runs = server.call("GET", f"/api/runs?event_id={body['event_id']}")
    assert status == 200 and len(runs["items"]) == 1, runs
    run_id = runs["items"][0]["id"]
    wait_for_status(server, run_id, "waiting")
    calls = server.ai.chat_calls()
    assert len(calls) == 2 and all(c["body"]["model"] == "demo-model-x" for c in calls), calls
    status, body = server.call("POST", "/api/demo/posts/2/approve")
    assert status in (200, 201, 202), body
    wait_for_status(server, run_id, "completed")
    status, posts = server.call("GET", "/api/demo/posts")
    post = next(p for p in posts if p["id"] == 2)
    assert post["markdown"].startswith("echo:")  # the fake server's answer, applied


def test_events_are_the_real_events(server: Server) -> None:
    status, body = server.call("POST", "/api/demo/posts/3/publish")
    assert status in (200, 201, 202), body
    status, event = server.call("GET", f"/api/events/{body['event_id']}")
    assert status == 200, event
    payload = event.get("event", event)
    assert payload["name"] == "blog-post.published"
    assert payload["data"]["id"] == 3


@pytest.mark.parametrize("action", ["review", "publish", "approve"])
def test_unknown_post_is_a_404(server: Server, action: str) -> None:
    status, body = server.call("POST", f"/api/demo/posts/999/{action}")
    assert status == 404, (status, body)


def test_demo_api_needs_a_token(server: Server) -> None:
    status, _ = server.call("GET", "/api/demo/posts", token="")
    assert status == 401
    status, _ = server.call("POST", "/api/demo/posts/1/review", token="not-a-token")
    assert status == 401
