"""Connections in Chromium, through the editor only: a step's account is connected through the OAuth
pop-up of a real local provider (tests/oauth_provider.py) from the action panel, the workflow is
published, and a run of it calls the provider with the live token. No secret reaches the page, the
API's answers or the run."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from oauth_provider import Provider, running_provider
from playwright.sync_api import Page, expect

from workflow_kit.secrets import new_key

from .conftest import ARTIFACTS, Server, start_server, stop_server
from .ui import add_step, assert_plain, ended_runs, field, new_workflow, open_list, screenshots, workflow_id

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        running.expires_in = 60  # within the kit's two minutes' margin: every use of a token renews it
        yield running


@pytest.fixture(scope="module")
def connections_server(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Server]:
    """The kit of tests/apps/connections_app.py, its OAuth type pointed at the provider."""
    saved = {name: os.environ.get(name) for name in ("WORKFLOW_KIT_TEST_OAUTH_PROVIDER", "WORKFLOW_KIT_SECRET_KEYS")}
    os.environ["WORKFLOW_KIT_TEST_OAUTH_PROVIDER"] = provider.base_url
    os.environ["WORKFLOW_KIT_SECRET_KEYS"] = new_key("k1")
    try:
        found = start_server(tmp_path_factory.mktemp("connections"), app="apps.connections_app:kit")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    yield found
    stop_server(found)


def test_an_account_is_connected_in_the_pop_up_from_the_action_panel_and_a_run_uses_it(
    page: Page, connections_server: Server, provider: Provider
) -> None:
    open_list(page, connections_server)
    new_workflow(page, "Look up the account", "app/lookup")
    add_step(page, "Add a step after the trigger", "Look me up in the CRM")
    account = field(page, "CRM account")
    picker = account.get_by_role("combobox")
    expect(picker.locator("option").first).to_have_text("No Test CRM account yet")
    expect(account.get_by_role("radio", name="Data")).to_have_count(0)  # an account, not data from the event
    screenshots(page, "connections-empty-picker")

    # "Connect a new account": the provider's consent page in a pop-up; allowed, the pop-up closes itself.
    with page.expect_popup() as opened:
        account.get_by_role("button", name="Connect a new account").click()
    popup = opened.value
    expect(popup.get_by_role("heading", name="Allow Workflow Kit to use your account?")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    popup.screenshot(path=str(ARTIFACTS / "connections-consent.png"))
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Allow").click()
    expect(picker.locator("option:checked")).to_have_text("Test CRM")
    screenshots(page, "connections-connected")
    assert_plain(page, ["crm_whoami"])

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch").click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")

    workflow = workflow_id(page)
    with connections_server.api() as api:
        assert api.post("/api/events", json={"name": "app/lookup", "data": {}}).status_code == 202
        [run] = ended_runs(connections_server, workflow, 1)
        assert run["status"] == "completed", run
        detail = api.get(f"/api/runs/{run['id']}")
        [connection] = api.get("/api/connections").json()
    [output] = detail.json()["output"].values()
    assert output == {"user": "ann@provider.test", "account": "Test CRM"}
    assert detail.json()["actions"][0]["inputs"]["crm"] == {"id": connection["id"], "name": "Test CRM"}
    seen = detail.text + page.content() + connections_server.log.read_text()
    for secret in provider.secrets():
        assert secret not in seen
    assert re.fullmatch(r"[0-9A-Z]{26}", connection["id"])

    # The user withdraws the app's access at the provider: the next run fails at once, naming the
    # account; the workflow list says so and reconnects it in the pop-up; the run after that works.
    provider.revoke_all()
    with connections_server.api() as api:
        api.post("/api/events", json={"name": "app/lookup", "data": {}})
        failed = [r for r in ended_runs(connections_server, workflow, 2) if r["status"] == "failed"]
        assert len(failed) == 1
        error = api.get(f"/api/runs/{failed[0]['id']}").json()["error"]["message"]
    assert "Test CRM" in error and "Reconnect" in error
    page.get_by_role("button", name="Workflows").click()
    warning = page.locator(".wk-workflow-reconnect")
    expect(warning).to_contain_text("Test CRM stopped working")
    screenshots(page, "connections-reconnect-list")
    with page.expect_popup() as opened:
        warning.get_by_role("button", name="Reconnect").click()
    popup = opened.value
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("status").filter(has_text="Reconnected Test CRM.")).to_be_visible()
    expect(warning).to_have_count(0)
    with connections_server.api() as api:
        api.post("/api/events", json={"name": "app/lookup", "data": {}})
        runs = ended_runs(connections_server, workflow, 3)
    assert [r["status"] for r in runs] == ["completed", "failed", "completed"]
