"""A webhook trigger in Chromium, through the UI, against a real server: set one up in the trigger panel,
copy its URL, check requests as GitHub signs them, send a request with httpx signed like GitHub, and see
it in the last requests and its run start."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import add_step, assert_plain, ended_runs, new_workflow, open_list, screenshots, trigger_node, workflow_id

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def test_a_github_signed_request_starts_a_run_and_is_listed(page: Page, server: Server) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    open_list(page, server)
    new_workflow(page, "On GitHub pushes", "app/placeholder")
    add_step(page, "Add a step after the trigger", "Log a message")

    # The trigger becomes a webhook: its URL at once, and its secret, shown this once.
    trigger_node(page).click()
    panel = page.get_by_label("Trigger settings")
    panel.get_by_role("radio", name="A webhook").check()
    url_box = panel.get_by_role("textbox", name="Webhook URL")
    expect(url_box).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/hooks/[\w-]{32}$"))
    url = url_box.input_value()
    panel.get_by_role("button", name="Copy").first.click()
    expect(panel.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    panel.get_by_role("textbox", name="Event name").fill("github/push")
    panel.get_by_role("combobox", name="Check that requests are genuine").select_option(label="GitHub signature")
    secret_box = panel.get_by_role("textbox", name="Signing secret")
    expect(secret_box).to_have_value(re.compile(r".{32,}"))
    secret = secret_box.input_value()
    expect(panel).to_contain_text("it is not shown again")
    expect(trigger_node(page)).to_have_accessible_name("Trigger: when a webhook request (github/push) comes")
    assert_plain(page, ["log"])
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch").click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    workflow = workflow_id(page)

    # GitHub's way: an HMAC-SHA256 of the raw body in X-Hub-Signature-256; a forged one is refused.
    body = json.dumps({"ref": "refs/heads/main", "pusher": {"name": "ann"}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "delivery-1"}
    accepted = httpx.post(url, content=body, headers={**headers, "X-Hub-Signature-256": signature}, timeout=10)
    assert accepted.status_code == 202, accepted.text
    forged = httpx.post(url, content=body, headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}, timeout=10)
    assert forged.status_code == 401
    [run] = ended_runs(server, workflow, 1)
    assert (run["status"], run["event"]["name"], run["event"]["data"]["ref"]) == (
        "completed",
        "github/push",
        "refs/heads/main",
    )

    # The panel lists both requests, newest first, with why the forged one was refused; its test request
    # goes through the same checks and starts a second run.
    trigger_node(page).click()
    panel.get_by_role("button", name="Refresh the requests").click()
    requests = panel.get_by_role("list", name="Last requests").get_by_role("listitem")
    expect(requests).to_have_count(2)
    expect(requests.nth(0)).to_contain_text("Refused: the GitHub signature (X-Hub-Signature-256 header) does not match")
    expect(requests.nth(1)).to_contain_text("Accepted")
    panel.get_by_role("button", name="Send a test request").click()
    expect(panel.get_by_role("status")).to_contain_text("Accepted")
    expect(requests).to_have_count(3)
    assert len(ended_runs(server, workflow, 2)) == 2
    page.get_by_role("tab", name="Runs").click()
    expect(
        page.get_by_role("list", name="Runs of this workflow").get_by_role("button", name=re.compile(", completed$"))
    ).to_have_count(2, timeout=20_000)
    page.get_by_role("tab", name="Edit").click()
    trigger_node(page).click()
    screenshots(page, "trigger-panel-webhook")

    # The secret is not shown again: reloaded, the panel says one is set, and offers a new one.
    page.reload()
    trigger_node(page).click()
    expect(page.get_by_label("Trigger settings").get_by_role("textbox", name="Webhook URL")).to_have_value(url)
    expect(page.get_by_label("Trigger settings")).to_contain_text("A secret is set. It is not shown again")
    assert secret not in page.locator("body").inner_text()
