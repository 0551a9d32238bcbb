"""Versions people understand (frontend/src/ui/VersionsPanel.tsx and the toolbar): one way of saying where
the draft stands, Publish only when there is something new, notes, differences, restoring."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import Server
from .ui import add_step, new_workflow, node, open_list, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


def test_versions_are_said_one_way_noted_compared_and_restored(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Versioned", "app/versioned")
    status = page.get_by_test_id("published")
    publish = page.get_by_role("button", name="Publish", exact=True)
    expect(status).to_have_text("Draft, not published yet")

    add_step(page, "Add a step after the trigger", "Greet someone")
    page.get_by_role("textbox", name="Name", exact=True).fill("Ann")
    publish.click()
    expect(status).to_have_text("Published v1")
    expect(publish).to_be_disabled()  # the draft is the latest version: nothing to publish

    page.get_by_role("textbox", name="Greeting", exact=True).fill("Bonjour")
    expect(status).to_have_text("Draft, changed since v1")
    expect(publish).to_be_enabled()

    page.get_by_role("tab", name="Versions").click()
    changes = page.get_by_role("list", name="Changes in the draft")
    expect(changes).to_contain_text('Greet someone > Greeting: "Hello" → "Bonjour"')
    page.get_by_label("Note for the next version (optional)").fill("Greets in French")
    page.get_by_role("button", name="Publish with this note").click()
    expect(status).to_have_text("Published v2")
    v2 = page.locator(".wk-version").filter(has_text="v2")
    expect(v2).to_contain_text("Greets in French")
    expect(v2).to_contain_text("by ann")
    screenshots(page, "versions")

    # v1 against the draft, then v1 back into the draft, after a confirmation; Undo takes it back
    page.get_by_role("button", name="Compare v1 with the draft").click()
    expect(
        page.locator(".wk-version").filter(has_text="v1").get_by_role("list", name="Changes in the draft")
    ).to_contain_text('"Hello" → "Bonjour"')
    page.get_by_role("button", name="Restore v1").click()
    confirm = page.get_by_role("alertdialog", name="Restore version 1?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    page.get_by_role("button", name="Restore v1").click()
    page.get_by_role("alertdialog", name="Restore version 1?").get_by_role("button", name="Restore").click()
    expect(status).to_have_text("Draft, changed since v2")
    node(page, "Greet someone").click()
    expect(page.get_by_role("textbox", name="Greeting", exact=True)).to_have_value("Hello")
    page.get_by_role("button", name="Undo").click()
    expect(status).to_have_text("Published v2")
    expect(page.get_by_role("textbox", name="Greeting", exact=True)).to_have_value("Bonjour")
