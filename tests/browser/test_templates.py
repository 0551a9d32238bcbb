"""Starting a workflow in Chromium against a real server (the blog demo, its AI pointed at a local fake
OpenAI-compatible server): a template from the gallery, its blanks filled one by one, saved and
test-run; and a workflow described in words, reviewed with each step's explanation, accepted, saved,
then changed by asking in words and reviewing what changes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from drafting_answers import INVALID, REVIEW_WORDS, VALID, WITH_TWEETS, reply
from fake_openai import FakeOpenAI, fake_openai_server
from playwright.sync_api import Page, expect

from .conftest import Server, start_server, stop_server
from .ui import INTERNAL, details, node, open_list, screenshots

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai_server() as state:
        yield state


@pytest.fixture(scope="module")
def ai_demo(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Iterator[Server]:
    """The seeded blog demo, with its AI (the demo's steps and drafting) at the fake server."""
    env = {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": fake.base_url, "WORKFLOW_KIT_AI_MODEL": "test-model"}
    found = start_server(tmp_path_factory.mktemp("ai-demo"), app="seeds.app:kit", seed=True, extra_env=env)
    yield found
    stop_server(found)


def test_a_template_with_blanks_is_filled_saved_and_test_run(page: Page, ai_demo: Server) -> None:
    open_list(page, ai_demo, "demo")
    page.get_by_role("button", name="Start from a template").click()
    gallery = page.get_by_role("region", name="Templates")
    expect(gallery.get_by_role("article")).to_have_count(5)
    gallery.get_by_role("button", name="schedule").click()
    card = gallery.get_by_role("article", name="Refresh one post every week")
    expect(gallery.get_by_role("article")).to_have_count(1)
    expect(card.get_by_role("img")).to_have_attribute("aria-label", re.compile(r"^Preview: Trigger, then Add a Table"))
    expect(card).to_contain_text("You fill in 2 things.")
    gallery.get_by_role("button", name="schedule").click()
    screenshots(page, "templates-gallery")
    assert not INTERNAL.search(gallery.inner_text())

    card.get_by_role("button", name="Use this template").click()
    guide = page.get_by_role("region", name="Fill in the blanks")
    expect(guide).to_contain_text("Fill in 2 things before saving")
    expect(guide).to_contain_text("1 of 2: Add a Table of Contents > Post id")
    expect(guide).to_contain_text("Which post should be refreshed?")
    expect(node(page, "Perform a grammar review")).to_be_visible()
    screenshots(page, "templates-blanks")
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="Not saved yet: fill in 2 things before saving")).to_be_visible()

    details(page).locator('[data-field="post_id"] input').fill("1")
    expect(guide).to_contain_text("Fill in 1 thing before saving")
    guide.get_by_role("button", name="Next").click()
    expect(guide).to_contain_text("2 of 2: Apply changes after approval > Timeout")
    details(page).locator('[data-field="timeout"] input').fill("2d")
    expect(guide).to_contain_text("All filled in")
    guide.get_by_role("button", name="Done").click()
    expect(guide).to_have_count(0)
    toolbar = page.get_by_role("toolbar", name="Workflow")
    expect(toolbar.get_by_role("button", name="No problems")).to_be_visible()
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

    details(page).get_by_role("tab", name="Runs").click()
    page.once("dialog", lambda dialog: dialog.accept())  # its steps have side effects: the editor asks first
    details(page).get_by_role("button", name="Test run").click()
    status = page.get_by_test_id("run-status")
    expect(status).to_have_text("waiting", timeout=20_000)  # the post was reviewed; the approval awaits
    header = page.get_by_role("region", name="Run summary")
    expect(header).to_contain_text("Test run of the draft")


def test_a_workflow_described_in_words_is_reviewed_accepted_saved_and_changed(
    page: Page, ai_demo: Server, fake: FakeOpenAI
) -> None:
    fake.structured += [reply(INVALID), reply(VALID)]  # the first draft has a problem: the model repairs it
    open_list(page, ai_demo, "demo")
    page.get_by_role("button", name="Describe what should happen").click()
    page.get_by_label("Describe what should happen").fill(REVIEW_WORDS)
    page.get_by_role("button", name="Draft it").click()
    review = page.get_by_role("region", name="Review the draft")
    steps = review.get_by_role("list", name="Steps, explained").get_by_role("listitem")
    expect(steps).to_have_count(2)
    expect(steps.nth(1)).to_have_text("Perform a grammar review: Fixes the grammar of the same post.")
    expect(review).to_contain_text("Starts: When blog-post.updated, only when a condition holds")
    expect(review).not_to_contain_text("Left to fix")
    assert not INTERNAL.search(review.inner_text())
    screenshots(page, "describe-review")

    review.get_by_role("button", name="Accept").click()
    expect(node(page, "Perform a grammar review")).to_be_visible()
    toolbar = page.get_by_role("toolbar", name="Workflow")
    expect(toolbar.get_by_role("textbox", name="Workflow name")).to_have_value("Review posts")
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

    fake.structured.append(reply(WITH_TWEETS))
    toolbar.get_by_role("button", name="Ask for a change").click()
    page.get_by_label("What should change?").fill("Then write tweets about it")
    page.get_by_role("button", name="Draft the change").click()
    change = page.get_by_role("region", name="Review the draft")
    expect(change.get_by_role("list", name="What the change does")).to_contain_text(
        "Step added: Generate Twitter posts"
    )
    screenshots(page, "describe-change")
    change.get_by_role("button", name="Accept").click()
    expect(node(page, "Generate Twitter posts")).to_be_visible()
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    structured = [r for r in fake.requests if "response_format" in r["body"]]
    assert len(structured) == 3  # a draft, its repair, the change
