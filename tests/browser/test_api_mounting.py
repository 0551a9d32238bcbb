"""The editor API mounted in a host's FastAPI app under a prefix, served by uvicorn, in Chromium: the
standalone editor page at /automations/ talks to the API beside it (not the host's /api), and a workflow
made there runs on the worker the host's lifespan starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import APP, DIST, SECRET, Server, free_port, stop_server
from .ui import add_step, new_workflow

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

HOST = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from browser_app import kit
from editor_api import create_app


@asynccontextmanager
async def lifespan(app):
    async with kit.worker(poll_ms=50):
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/api/health")
def host_health():
    return {"host": "the host's own /api"}


app.mount("/automations", create_app(kit))
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("host")
    (tmp / "browser_app.py").write_text(APP)
    (tmp / "host_app.py").write_text(HOST)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp), str(Path(__file__).resolve().parents[2])]),
        "WORKFLOW_KIT_SECRET": SECRET,
        "WORKFLOW_KIT_DATABASE_URL": f"sqlite:///{tmp / 'host.db'}",
        "WORKFLOW_KIT_FRONTEND_DIR": str(DIST),
    }
    log = tmp / "host.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "host_app:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/automations/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError(f"the host did not start: {log.read_text()}")
    server = Server(f"{base}/automations", process, log)
    yield server
    stop_server(server)


def test_the_editor_works_under_the_hosts_prefix(page: Page, host: Server) -> None:
    page.goto(f"{host.base}/#/?token={host.token()}")
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()
    new_workflow(page, "Under a prefix", "app/prefixed")  # the API beside the page, not the host's /api
    add_step(page, "Add a step after the trigger", "Greet someone")
    page.get_by_role("textbox", name="Name", exact=True).fill("Ann")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch", name="Enabled").click()
    expect(page.get_by_role("switch", name="Enabled")).to_have_attribute("aria-checked", "true")
    with host.api() as api:
        assert api.post("/api/events", json={"name": "app/prefixed", "data": {}}).status_code == 202
        deadline = time.monotonic() + 20
        runs: list[dict[str, object]] = []
        while time.monotonic() < deadline and not any(r["status"] == "completed" for r in runs):
            runs = api.get("/api/runs").json()["items"]
            time.sleep(0.1)
    assert [r["status"] for r in runs] == ["completed"]  # run by the worker of the host's lifespan
