"""Starting a workflow in Chromium against a real server (the blog demo, its AI pointed at a local fake
OpenAI-compatible server), each way through the list's "New workflow" dialog: a template from the
gallery, its blanks filled one by one, saved and test-run; a workflow described in words, reviewed with
each step's explanation, accepted, saved, then changed by asking in words and reviewing what changes;
and a template's draft left unsaved, which stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from drafting_answers import INVALID, REVIEW_WORDS, VALID, WITH_TWEETS, reply
from fake_openai import FakeOpenAI, fake_openai_server
from playwright.sync_api import Dialog, Page, expect

from .conftest import Server, start_server, stop_server
from .ui import INTERNAL, details, node, open_list, screenshots, start_dialog

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


def stored_names(server: Server, tenant: str = "demo") -> list[str]:
    with server.api(tenant) as api:
        return sorted(w["name"] for w in api.get("/api/workflows").json()["items"])


def test_a_template_with_blanks_is_filled_saved_and_test_run(page: Page, ai_demo: Server) -> None:
    before = stored_names(ai_demo)
    open_list(page, ai_demo, "demo")
    dialog = start_dialog(page)
    expect(dialog.get_by_role("form", name="Start from scratch")).to_be_visible()
    expect(dialog.get_by_label("Describe what should happen")).to_be_visible()
    gallery = dialog.get_by_role("region", name="Templates")
    expect(gallery.get_by_role("article")).to_have_count(5)
    screenshots(page, "start-dialog")
    assert not INTERNAL.search(dialog.inner_text())
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
    toolbar = page.get_by_role("toolbar", name="Workflow")
    expect(toolbar.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()
    assert stored_names(ai_demo) == before  # opened from the template: nothing stored yet
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="Not saved yet: fill in 2 things before saving")).to_be_visible()

    details(page).locator('[data-field="post_id"] input').fill("1")
    expect(guide).to_contain_text("Fill in 1 thing before saving")
    guide.get_by_role("button", name="Next").click()
    expect(guide).to_contain_text("2 of 2: Apply changes after approval > Timeout")
    details(page).locator('[data-field="timeout"] input').fill("2d")
    expect(guide).to_contain_text("All filled in")
    guide.get_by_role("button", name="Done").click()
    expect(guide).to_have_count(0)
    expect(toolbar.get_by_role("button", name="No problems")).to_be_visible()
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/workflows/\w+$"))  # the first save created it
    assert stored_names(ai_demo) == sorted([*before, "Refresh one post every week"])

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
    dialog = start_dialog(page)
    dialog.get_by_label("Describe what should happen").fill(REVIEW_WORDS)
    dialog.get_by_role("button", name="Draft it").click()
    review = dialog.get_by_role("region", name="Review the draft")
    steps = review.get_by_role("list", name="Steps, explained").get_by_role("listitem")
    expect(steps).to_have_count(2)
    expect(steps.nth(1)).to_have_text("Perform a grammar review: Fixes the grammar of the same post.")
    expect(review).to_contain_text("Starts: When blog-post.updated, only when a condition holds")
    expect(review).not_to_contain_text("Left to fix")
    assert not INTERNAL.search(review.inner_text())
    screenshots(page, "describe-review")

    before = stored_names(ai_demo)
    review.get_by_role("button", name="Accept").click()
    expect(node(page, "Perform a grammar review")).to_be_visible()
    toolbar = page.get_by_role("toolbar", name="Workflow")
    expect(toolbar.get_by_role("textbox", name="Workflow name")).to_have_value("Review posts")
    expect(toolbar.get_by_role("button", name="Ask for a change")).to_have_count(0)  # once it is saved
    assert stored_names(ai_demo) == before
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    assert stored_names(ai_demo) == sorted([*before, "Review posts"])

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


def test_a_template_left_unsaved_stores_nothing(page: Page, ai_demo: Server) -> None:
    open_list(page, ai_demo, "newcomer")  # no workflow yet: the ways to start are on the page
    first_run = page.get_by_role("region", name="Start your first workflow")
    expect(first_run.get_by_role("article")).to_have_count(5)
    expect(first_run.get_by_label("Describe what should happen")).to_be_visible()
    expect(first_run.get_by_label("Describe what should happen")).not_to_be_focused()  # the page takes no focus
    screenshots(page, "start-first-run")
    assert not INTERNAL.search(first_run.inner_text())
    dialog = start_dialog(page)
    page.keyboard.press("Escape")  # closes the dialog, back to the list and its button
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("button", name="New workflow", exact=True)).to_be_focused()

    card = first_run.get_by_role("article", name="Tweet when a post's status becomes published")
    card.get_by_role("button", name="Use this template").click()
    expect(node(page, "Generate Twitter posts")).to_be_visible()
    toolbar = page.get_by_role("toolbar", name="Workflow")
    toolbar.get_by_role("textbox", name="Workflow name").fill("Never saved")

    questions: list[str] = []

    def answer(dialog: Dialog, keep: bool) -> None:
        questions.append(dialog.message)
        dialog.dismiss() if keep else dialog.accept()

    page.once("dialog", lambda d: answer(d, keep=True))
    toolbar.get_by_role("button", name="← Workflows").click()
    expect(toolbar).to_be_visible()  # stayed: the draft is still there
    page.once("dialog", lambda d: answer(d, keep=False))
    toolbar.get_by_role("button", name="← Workflows").click()
    expect(first_run).to_be_visible()  # still none: the first-run start again
    assert questions == ["Leave without saving your changes?"] * 2
    assert stored_names(ai_demo, "newcomer") == []
