"""Shared fixtures for the issue 5 browser acceptance tests: a real `workflow-kit serve` on 127.0.0.1 with a
temporary SQLite database (demo mode), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM or not (ROOT / "frontend" / "dist" / "index.html").exists():
    MISSING = "needs Chromium (Debian's chromium package) and a built frontend (frontend/dist)"
    if os.environ.get("WORKFLOW_KIT_REQUIRE_BROWSER") == "1":  # make test: missing is a failure
        pytest.fail(MISSING, pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    token: str
    host_port: int  # a port for a separate host page, allowed by CORS

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="wk-issue5-"))
    port = free_port()
    host_port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests" / "acceptance")])
    env["WORKFLOW_KIT_FRONTEND_DIR"] = str(ROOT / "frontend" / "dist")
    env["WORKFLOW_KIT_CORS_ORIGINS"] = f"http://127.0.0.1:{host_port}"
    log = open(folder / "serve.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workflow_kit.cli",
            "serve",
            "--app",
            "issue5_app:kit",
            "--demo",
            "--database-url",
            f"sqlite:///{folder / 'wk.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    token = ""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(base + "/api/demo/token", method="POST"), timeout=2
                ) as r:
                    token = json.loads(r.read())["token"]
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError((folder / "serve.log").read_text()) from None
                time.sleep(0.2)
        assert token, "server did not start"
        yield Server(base, token, host_port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright: Any) -> Iterator[Any]:
    """A fresh Chromium profile per test, 1280x800."""
    profile = tempfile.mkdtemp(prefix="wk-issue5-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=FLAGS,
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(8000)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


def page_of(context: Any) -> Any:
    return context.pages[0] if context.pages else context.new_page()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"issue5-{name}.png"))


def new_workflow(page: Any, server: Server, name: str, event: str = "app/user.signup") -> str:
    """Create a workflow from the list page's form; return its id (from the URL)."""
    page.goto(server.base + "/")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Triggered by the event").fill(event)
    page.get_by_role("button", name="New workflow").click()
    page.get_by_role("textbox", name="Workflow name").wait_for()
    page.wait_for_url("**/#/workflows/*")
    return str(page.url.rsplit("/", 1)[1])


def drag_handle(page: Any, source: Any, target: Any) -> None:
    """Drag a connection from one node handle to another with the mouse."""
    a = source.bounding_box()
    b = target.bounding_box()
    assert a and b
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2, steps=5)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=5)
    page.mouse.up()


def _field(page: Any, details: Any, field: str) -> Any:
    """A form field of the details panel, by its label ("To", shown as "To *" when required)."""
    return (
        details.locator("[data-field]")
        .filter(has=page.locator(f'label:text-is("{field}"), label:text-is("{field} *")'))
        .first
    )


def _pick(page: Any, field: str, data: str) -> None:
    """In the open data picker of `field`, the data whose name (e.g. "Email (text)…") starts with `data`."""
    import re

    picker = page.get_by_role("dialog", name=f"Use data in {field}")
    picker.get_by_role("button", name=re.compile(rf"^{re.escape(data)}\b")).first.click()


def use_data(page: Any, details: Any, field: str, data: str) -> None:
    """Fill a field with data from the trigger event or an earlier step: its "Data" choice, then the data."""
    _field(page, details, field).get_by_role("radio", name="Data").click()
    _pick(page, field, data)


def write_condition(details: Any, cel: str, label: str = "Condition") -> None:
    """Hand-written CEL in a condition: its expression mode (the builder is the default)."""
    group = details.get_by_role("group", name=label)
    toggle = group.get_by_role("button", name="Edit as expression")
    if toggle.count():
        toggle.click()
    details.get_by_role("textbox", name=label).fill(cel)
