"""`make demo` brings up the blog CMS demo; a user moves a post to review, approves, and sees it changed; and
publishes a post, and sees its social posts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS, ROOT, Server, free_port

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def test_make_demo_runs_the_review_flow_in_the_browser(page: Page, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI")}
    env["WORKFLOW_KIT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    log = tmp_path / "make-demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "demo", f"DEMO_PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"make demo did not bring the server up: {log.read_text()}")
        output = log.read_text()
        assert f"Demo: {base}/demo" in output
        assert "no OPENAI_API_KEY" in output  # said at start...

        page.goto(f"{base}/demo")
        expect(page.get_by_role("status")).to_contain_text("OPENAI_API_KEY")  # ...and in the page
        post = page.get_by_role("article", name="Durable workflows for everyone")
        post.get_by_role("button", name="Move to review").click()  # buttons are found by their visible text
        expect(page.get_by_test_id("run-status-1")).to_have_text("waiting", timeout=30_000)
        expect(page.get_by_test_id("revision-1")).to_contain_text("## Contents")
        expect(page.get_by_test_id("markdown-1")).to_contain_text("Teh steps recieve")
        page.screenshot(path=str(ARTIFACTS / "demo-waiting.png"))

        post.get_by_role("button", name="Approve AI suggestions").click()
        expect(page.get_by_test_id("run-status-1")).to_have_text("completed", timeout=30_000)
        expect(post.get_by_text("The steps receive", exact=False)).to_be_visible()  # the changed post, on show
        expect(page.get_by_test_id("revision-1")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "demo-approved.png"))

        # The run is in the editor's run view, every step completed.
        post.get_by_role("link", name="Run ").click()
        expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=30_000)
        for action in ("toc", "grammar", "approval"):
            expect(page.locator(f'.react-flow__node[data-id="{action}"] .wk-status')).to_have_text("completed")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_the_demo_page_lists_the_posts_and_publishing_one_shows_its_social_posts(
    page: Page, demo_server: Server
) -> None:
    """On the seeded demo kit (no AI key): the page says the AI is a local stand-in, shows the three posts,
    and its Publish button runs the publish workflow, whose social posts appear with the post."""
    page.goto(f"{demo_server.base}/#/?token={demo_server.token('demo')}")  # kept where the demo page finds it
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()
    page.goto(f"{demo_server.base}/demo")
    expect(page.get_by_role("status")).to_contain_text("OPENAI_API_KEY")
    for title in ("Durable workflows for everyone", "Letting users build automations", "Ten things we learned"):
        expect(page.get_by_role("article", name=re.compile(title))).to_be_visible()
    post = page.get_by_role("article", name=re.compile("Letting users build automations"))
    post.get_by_role("button", name="Publish").click()
    expect(post.locator("h2 .status")).to_have_text("published")
    expect(post.locator('[data-testid^="run-status-"]')).to_have_text("completed", timeout=30_000)
    recommendations = post.locator("details").filter(has_text="AI publishing recommendations")
    expect(recommendations).to_contain_text('"linkedin"')
    expect(recommendations).to_contain_text('"twitter"')
