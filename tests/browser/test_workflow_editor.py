"""The workflow editor (frontend/src/ui/editor/) in Chromium, through the UI only, against a real server:
adding steps where the eye is, plain language, problems you can act on, undo and redo, the keyboard,
error boundaries, and the canvas; a name on every control, the Tab order, 1280x800, the trigger's own
node, the palette, where nodes go, and unsaved changes kept from a careless click."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from .conftest import Server
from .ui import (
    add_from_palette,
    add_step,
    assert_plain,
    catalog_text,
    details,
    new_workflow,
    node,
    open_list,
    screenshots,
    tab_to,
    trigger_node,
    unnamed_controls,
    wait_still,
    workflow_id,
    write_condition,
)

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

MOD = "Control"


def draft(server: Server, page: Page) -> dict[str, Any]:
    with server.api() as api:
        found: dict[str, Any] = api.get(f"/api/workflows/{workflow_id(page)}").json()
    return found


def test_a_new_workflow_invites_a_first_step_and_every_step_opens_its_form(page: Page, server: Server) -> None:
    """Every builtin and action from the "+" menu: added below, connected, in view, its form open with
    the focus in its first field; no error in the page or its console."""
    open_list(page, server)
    new_workflow(page, "Everything", "app/everything")
    # an invitation, not an error about the trigger
    invite = page.get_by_role("note")
    expect(invite).to_contain_text("Start with a first step")
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshots(page, "editor-empty")

    invite.get_by_role("button", name="+ Add the first step").click()
    page.get_by_role("option", name="Log a message", exact=True).click()
    expect(node(page, "Log a message")).to_be_visible()
    expect(page.get_by_role("note")).to_have_count(0)

    steps = ["If", "Sleep", "Sleep until", "Wait for an event", "Send an event", "Run a workflow", "Greet someone"]
    previous = "Log a message"
    for step in steps:
        plus = f"Add a step after {previous}"
        if previous == "If":
            plus = "Add a step on the True branch of If"
        elif previous == "Wait for an event":
            plus = "Add a step on the Received branch of Wait for an event"
        add_step(page, plus, step)
        added = node(page, step)
        expect(added).to_be_visible()
        expect(added).to_be_in_viewport()
        expect(page.get_by_role("heading", name=step, exact=True)).to_be_visible()
        # the focus is in the new step's first field (or its name when it has no inputs)
        focused = page.evaluate("document.activeElement.closest('[aria-label^=\"Settings of\"]') !== null")
        assert focused, f"the focus is not in {step}'s form"
        previous = step
    assert page.console_errors == []  # type: ignore[attr-defined]
    # every step is connected: one connection into each
    page.keyboard.press(f"{MOD}+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    stored = draft(server, page)["draft"]
    assert len(stored["edges"]) == len(stored["actions"]) == len(steps) + 1
    screenshots(page, "editor-all-steps")


def test_a_plus_on_a_connection_puts_a_step_between_its_ends(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Between", "app/between")
    add_step(page, "Add a step after the trigger", "Greet someone")
    add_step(page, "Add a step after Greet someone", "Log a message")
    add_step(page, "Add a step between Greet someone and Log a message", "Sleep")
    expect(node(page, "Sleep")).to_be_visible()
    expect(page.get_by_role("group", name="Connection from Greet someone to Sleep")).to_have_count(1)
    expect(page.get_by_role("group", name="Connection from Sleep to Log a message")).to_have_count(1)
    expect(page.get_by_role("group", name="Connection from Greet someone to Log a message")).to_have_count(0)
    # the focused node's "+" key opens the same menu
    node(page, "Log a message").focus()
    page.keyboard.press("+")
    menu = page.get_by_role("dialog", name="Add a step after Log a message")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)


def test_a_field_that_cannot_be_drawn_does_not_take_the_editor_down(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Sturdy", "app/sturdy")
    page.get_by_label("Workflow name").fill("Sturdy, renamed")  # unsaved work
    add_step(page, "Add a step after the trigger", "Odd form")
    panel = page.get_by_role("alert").filter(has_text="Something went wrong showing this panel")
    expect(panel).to_be_visible()
    # the rest works: the canvas, other steps, the toolbar; nothing unsaved is lost
    add_step(page, "Add a step after Odd form", "Log a message")
    expect(page.get_by_role("heading", name="Log a message")).to_be_visible()
    expect(page.get_by_label("Workflow name")).to_have_value("Sturdy, renamed")
    page.keyboard.press(f"{MOD}+s")
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    assert draft(server, page)["name"] == "Sturdy, renamed"
    assert [a["kind"] for a in draft(server, page)["draft"]["actions"]] == ["odd_form", "log"]


def test_the_wait_for_an_event_form_opens_and_keeps_the_page(page: Page, server: Server) -> None:
    """It used to blank the page (its optional CEL match had a text area on a choice of string or null)."""
    open_list(page, server)
    new_workflow(page, "Waits", "app/waits")
    add_step(page, "Add a step after the trigger", "Wait for an event")
    expect(page.get_by_role("heading", name="Wait for an event")).to_be_visible()
    page.get_by_role("textbox", name="Event name", exact=True).fill("app/approved")
    expect(page.get_by_role("group", name="Match")).to_be_visible()  # the condition builder, for the match
    node(page, "Wait for an event").click()
    expect(page.get_by_role("textbox", name="Event name", exact=True)).to_have_value("app/approved")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_problems_are_sentences_that_take_you_to_the_field(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Problems", "app/problems")
    add_step(page, "Add a step after the trigger", "Greet someone")
    add_step(page, "Add a step after Greet someone", "Sleep")
    page.get_by_role("combobox", name="Duration", exact=True).fill("fifteen seconds")
    count = page.get_by_test_id("problem-count")
    expect(count).to_have_text("2 problems")
    count.click()
    problems = page.get_by_role("dialog", name="Problems")
    expect(problems).to_contain_text("Greet someone > Name")
    expect(problems).to_contain_text("Fill in Name.")
    expect(problems).to_contain_text("Write a duration such as 15m or 2h")
    assert "does not match" not in problems.inner_text()
    problems.get_by_role("button").filter(has_text="Greet someone > Name").click()
    expect(page.get_by_role("heading", name="Greet someone")).to_be_visible()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_be_focused()
    assert_plain(page, ["greet", "sleep", "log"], ["Greet someone", "Sleep", "Log a message"])
    screenshots(page, "editor-problems")

    # a draft with problems saves (and says so); publishing it does not
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved as a draft with 2 problems")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert").filter(has_text="Not published")).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=True).fill("Ann")
    node(page, "Sleep").click()
    page.get_by_role("combobox", name="Duration", exact=True).fill("15m")
    expect(count).to_have_text("No problems")


def test_undo_and_redo_from_the_keyboard_through_a_sequence_of_edits(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Undoable", "app/undo")
    add_step(page, "Add a step after the trigger", "Greet someone")
    page.get_by_role("textbox", name="Name", exact=True).fill("Ann")
    add_step(page, "Add a step after Greet someone", "Log a message")
    unsaved = page.get_by_role("status").filter(has_text="Unsaved changes")
    expect(unsaved).to_be_visible()

    page.keyboard.press(f"{MOD}+z")  # the log step goes
    expect(node(page, "Log a message")).to_have_count(0)
    page.keyboard.press(f"{MOD}+z")  # the name typed goes (typing in one field is one step)
    node(page, "Greet someone").click()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("")
    page.keyboard.press(f"{MOD}+z")  # the greet step goes: back to the saved document
    expect(node(page, "Greet someone")).to_have_count(0)
    expect(unsaved).to_have_count(0)  # derived from the saved document

    page.keyboard.press(f"{MOD}+Shift+z")
    page.keyboard.press(f"{MOD}+Shift+z")
    expect(node(page, "Greet someone")).to_be_visible()
    node(page, "Greet someone").click()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("Ann")
    page.get_by_role("button", name="Redo").click()
    expect(node(page, "Log a message")).to_be_visible()
    page.get_by_role("button", name="Undo").click()
    expect(node(page, "Log a message")).to_have_count(0)

    page.keyboard.press(f"{MOD}+s")
    expect(unsaved).to_have_count(0)
    stored = draft(server, page)["draft"]
    assert [(a["kind"], a["inputs"].get("name")) for a in stored["actions"]] == [("greet", "Ann")]


def test_keyboard_only_add_fill_and_connect_three_steps(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "By keyboard", "app/keys")
    trigger_node(page).focus()
    page.keyboard.press("+")  # the add-step menu after the focused node
    page.keyboard.type("greet")
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_be_focused()
    page.keyboard.type("Ann")

    node(page, "Greet someone").focus()
    page.keyboard.press("+")
    page.keyboard.type("log")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log a message")).to_be_visible()

    # a third step from the panel's own button, then connected to the trigger too (a join)
    page.get_by_role("button", name="+ Add a step after this").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("sleep")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name="Duration", exact=True)).to_be_focused()
    page.keyboard.type("5m")
    page.get_by_label("Also run after").focus()
    page.keyboard.press("ArrowDown")  # "The trigger"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Connect
    page.keyboard.press(f"{MOD}+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    stored = draft(server, page)["draft"]
    kinds = {a["id"]: a["kind"] for a in stored["actions"]}
    edges = {(e["from"], kinds.get(e["to"])) for e in stored["edges"]}
    greet = next(i for i, k in kinds.items() if k == "greet")
    log = next(i for i, k in kinds.items() if k == "log")
    assert edges == {("$source", "greet"), (greet, "log"), (log, "builtin:sleep"), ("$source", "builtin:sleep")}
    assert [a["inputs"] for a in stored["actions"] if a["kind"] != "log"] == [
        {"name": "Ann", "greeting": "Hello"},
        {"duration": "5m"},
    ]


def test_the_canvas_keeps_its_overview_out_of_the_way_refits_and_names_the_page(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Canvas polish with a rather long name for a workflow", "app/canvas")
    expect(page).to_have_title(re.compile("^Canvas polish with a rather long name"))
    add_step(page, "Add a step after the trigger", "If")
    page.get_by_role("button", name="Add a condition").click()
    page.get_by_role("combobox", name="Field").select_option(label="Event name")
    page.get_by_role("combobox", name="Comparison operator").select_option(label="contains")
    page.get_by_role("textbox", name="Value").fill("draft")
    expect(node(page, "If")).to_contain_text('If Event name contains "draft"')
    # the overview map is hidden until asked for
    expect(page.locator(".react-flow__minimap")).to_have_count(0)
    page.get_by_role("button", name="Show the overview map").click()
    expect(page.locator(".react-flow__minimap")).to_be_visible()
    page.get_by_role("button", name="Hide the overview map").click()
    expect(page.locator(".react-flow__minimap")).to_have_count(0)
    # a smaller window: the graph fits again
    page.set_viewport_size({"width": 1024, "height": 700})
    expect(node(page, "If")).to_be_in_viewport()
    expect(trigger_node(page)).to_be_in_viewport()


REVIEW_IDS = ["add_toc", "grammar_review", "wait_for_approval", "toc", "grammar"]
REVIEW_NAMES = ["Add a Table of Contents", "Perform a grammar review", "Apply changes after approval"]


def assert_review_workflow(server: Server, page: Page) -> None:
    """What was built is the demo's review workflow: the filter, ToC, grammar, then the approval wait,
    each on the post the event names; and it runs."""
    with server.api("demo") as api:
        record = api.get(f"/api/workflows/{workflow_id(page)}").json()
    assert record["trigger"] == {"event": "blog-post.updated", "if": 'event.data.status == "under review"'}
    actions = {a["id"]: a for a in record["draft"]["actions"]}
    assert sorted(a["kind"] for a in actions.values()) == ["add_toc", "grammar_review", "wait_for_approval"]
    assert all(a["inputs"]["post_id"] == "!ref($.event.data.id)" for a in actions.values())
    order = {(e["from"], actions[e["to"]]["kind"]) for e in record["draft"]["edges"]}
    by_kind = {a["kind"]: i for i, a in actions.items()}
    assert order == {
        ("$source", "add_toc"),
        (by_kind["add_toc"], "grammar_review"),
        (by_kind["grammar_review"], "wait_for_approval"),
    }
    assert record["published_version"] == 1 and record["enabled"] is True
    with server.api("demo") as api:
        api.post("/api/events", json={"name": "blog-post.updated", "data": {"id": 3, "status": "under review"}})
    deadline = time.monotonic() + 30
    status = None
    with server.api("demo") as api:
        while time.monotonic() < deadline and status != "waiting":
            runs = api.get("/api/runs", params={"workflow_id": workflow_id(page)}).json()["items"]
            status = runs[0]["status"] if runs else None
            time.sleep(0.2)
    assert status == "waiting"  # on the editor's approval


def send_sample_event(server: Server) -> None:
    with server.api("demo") as api:
        sent = api.post(
            "/api/events",
            json={
                "name": "blog-post.updated",
                "data": {"id": 1, "title": "Durable workflows", "status": "under review"},
            },
        )
        assert sent.status_code == 202, sent.text


def test_a_newcomer_builds_the_review_workflow_with_the_mouse(page: Page, demo_server: Server) -> None:
    send_sample_event(demo_server)
    open_list(page, demo_server, "demo")
    new_workflow(page, "Review with AI (mouse)", "blog-post.updated")

    # the trigger: a sample from the events received, and the filter made with the builder
    page.get_by_role("button", name="Pick a recent event").click()
    page.get_by_role("list", name="Recent events").get_by_role("button").first.click()
    only_when = page.get_by_role("group", name="Only when (optional)")
    only_when.get_by_role("button", name="Add a condition").click()
    only_when.get_by_role("combobox", name="Field").select_option(label="Status")
    only_when.get_by_role("combobox", name="Comparison operator").select_option(label="equals")
    only_when.get_by_role("textbox", name="Value").fill("under review")

    previous = "the trigger"
    for step in REVIEW_NAMES:
        page.get_by_role("button", name=f"Add a step after {previous}", exact=True).click()
        page.get_by_role("option", name=step, exact=True).click()
        page.locator('[data-field="post_id"]').get_by_role("radio", name="Data").click()
        page.get_by_role("dialog", name="Use data in Post id").get_by_role(
            "button", name="Id (number), for example 1"
        ).click()
        expect(page.locator('[data-field="post_id"]')).to_contain_text("Trigger event > Id")
        previous = step
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    assert_plain(page, REVIEW_IDS, catalog_text(demo_server, "demo"))
    screenshots(page, "review-built-with-the-mouse")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch", name="Enabled").click()
    expect(page.get_by_role("switch", name="Enabled")).to_have_attribute("aria-checked", "true")
    assert_review_workflow(demo_server, page)


def test_a_newcomer_builds_the_review_workflow_with_the_keyboard(page: Page, demo_server: Server) -> None:
    send_sample_event(demo_server)
    open_list(page, demo_server, "demo")
    tab_to(page, page.get_by_role("button", name="New workflow", exact=True))
    page.keyboard.press("Enter")  # the dialog opens with its first field, the name, focused
    expect(page.get_by_role("dialog", name="New workflow").get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.type("Review with AI (keyboard)")
    page.keyboard.press("Tab")  # Triggered by: an event
    page.keyboard.press("Tab")
    page.keyboard.type("blog-post.updated")
    page.keyboard.press("Enter")
    expect(trigger_node(page)).to_be_visible()

    # the trigger's panel is open: a sample from the events received, then the filter
    tab_to(page, page.get_by_role("button", name="Pick a recent event"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("list", name="Recent events").get_by_role("button").first, back=True)
    page.keyboard.press("Enter")
    only_when = page.get_by_role("group", name="Only when (optional)")
    tab_to(page, only_when.get_by_role("button", name="Add a condition"), back=True)
    page.keyboard.press("Enter")
    field = only_when.get_by_role("combobox", name="Field")
    expect(field).to_be_focused()
    field.press("ArrowDown")  # a native select: the keyboard picks its option
    while field.input_value() != "event.data.status":
        field.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past "Remove condition 1": the comparison (equals first)
    expect(only_when.get_by_role("combobox", name="Comparison operator")).to_be_focused()
    page.keyboard.press("Tab")  # compare with: a fixed value
    expect(only_when.get_by_role("combobox", name="Compare with")).to_be_focused()
    page.keyboard.press("Tab")
    expect(only_when.get_by_role("textbox", name="Value")).to_be_focused()
    page.keyboard.type("under review")

    previous = "the trigger"
    for step in REVIEW_NAMES:
        tab_to(page, page.get_by_role("button", name=f"Add a step after {previous}", exact=True), limit=120)
        page.keyboard.press("Enter")
        page.keyboard.type(step)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=step, exact=True)).to_be_visible()
        data = page.locator('[data-field="post_id"]').get_by_role("radio", name="Data")
        tab_to(page, data, back=True)
        page.keyboard.press("Enter")
        search = page.get_by_role("dialog", name="Use data in Post id").get_by_role("searchbox", name="Search data")
        expect(search).to_be_focused()
        page.keyboard.type("Id")
        page.keyboard.press("Tab")
        expect(
            page.get_by_role("dialog", name="Use data in Post id").get_by_role(
                "button", name="Id (number), for example 1"
            )
        ).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator('[data-field="post_id"]')).to_contain_text("Trigger event > Id")
        previous = step
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    assert_plain(page, REVIEW_IDS, catalog_text(demo_server, "demo"))
    tab_to(page, page.get_by_role("button", name="Publish", exact=True), back=True, limit=200)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.keyboard.press("Tab")
    expect(page.get_by_role("switch", name="Enabled")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("switch", name="Enabled")).to_have_attribute("aria-checked", "true")
    assert_review_workflow(demo_server, page)


def test_no_screen_of_a_seeded_workflow_names_an_internal_id(page: Page, demo_server: Server) -> None:
    with demo_server.api("demo") as api:
        [review] = [
            w for w in api.get("/api/workflows").json()["items"] if w["name"] == "When a blog post is moved to review"
        ]
        kinds = [a["kind"] for a in api.get("/api/actions").json()]
        run_id = api.post(
            f"/api/workflows/{review['id']}/test",
            json={"event": {"name": "blog-post.updated", "data": {"id": 1, "status": "under review"}}},
        ).json()["run_id"]
    ids = [a["id"] for a in review["draft"]["actions"]] + [k for k in kinds if k.startswith("builtin:") is False]
    names = catalog_text(demo_server, "demo")
    open_list(page, demo_server, "demo")
    assert_plain(page, ids, names)
    page.get_by_role("button", name="When a blog post is moved to review", exact=True).click()
    expect(trigger_node(page)).to_be_visible()
    assert_plain(page, ids, names)
    screenshots(page, "seeded-review")
    for title in REVIEW_NAMES:
        node(page, title).click()
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        assert_plain(page, ids, names)
    page.get_by_role("group", name="Connection from Add a Table of Contents to Perform a grammar review").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Connection")).to_be_visible()
    assert_plain(page, ids, names)
    for tab in ("Settings", "Runs", "Versions"):
        page.get_by_role("tab", name=tab).click()
        assert_plain(page, ids, names)
        screenshots(page, f"seeded-review-{tab.lower()}")
    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("button", name="Compare v1 with the draft").click()
    assert_plain(page, ids, names)
    page.get_by_role("button", name="Add a step after Apply changes after approval").click()
    assert_plain(page, ids, names)
    page.keyboard.press("Escape")
    page.goto(f"{demo_server.base}/#/workflows/{review['id']}/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_text("waiting", timeout=30_000)
    assert_plain(page, ids, names)
    screenshots(page, "seeded-review-run")


# -- every control named, the keyboard's way through, the window it fits ------------------------------


def test_every_control_has_a_name_on_the_list_the_editor_and_its_panels(page: Page, server: Server) -> None:
    open_list(page, server)
    assert unnamed_controls(page.locator("body")) == []
    new_workflow(page, "Labels", "app/labels")
    assert unnamed_controls(page.locator("body")) == []
    add_from_palette(page, "Log a message")
    assert unnamed_controls(page.locator("body")) == []
    add_from_palette(page, "If", after=node(page, "Log a message"))
    assert unnamed_controls(page.locator("body")) == []
    for tab in ("Settings", "Runs", "Versions"):
        details(page).get_by_role("tab", name=tab).click()
        expect(details(page).get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        assert unnamed_controls(page.locator("body")) == [], tab


def test_the_tab_key_goes_toolbar_palette_canvas_panel(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Focus order", "app/focus")
    page.get_by_role("textbox", name="Workflow name").focus()
    where = (
        "() => { const e = document.activeElement;"
        " if (e.closest('[role=toolbar]')) return 'toolbar';"
        " if (e.closest('nav')) return 'palette';"
        " if (e.closest('.react-flow') || e.closest('.wk-canvas-area')) return 'canvas';"
        " if (e.closest('aside')) return 'panel';"
        " return 'other'; }"
    )
    seen: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(where))
    order = [area for i, area in enumerate(seen) if i == 0 or seen[i - 1] != area]
    assert order[:4] == ["toolbar", "palette", "canvas", "panel"], order


def test_the_editor_fits_1280_by_800(page: Page, server: Server) -> None:
    assert page.viewport_size == {"width": 1280, "height": 800}
    open_list(page, server)
    new_workflow(page, "Viewport", "app/viewport")
    add_from_palette(page, "Greet someone")
    for name in ("Save", "Publish", "Auto layout"):
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 800, name
    switch = page.get_by_role("switch").bounding_box()
    assert switch and switch["x"] + switch["width"] <= 1280
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scrolling
    canvas = page.get_by_role("application", name=re.compile("Workflow canvas")).bounding_box()
    panel = details(page).bounding_box()
    assert canvas and panel and canvas["width"] >= 400 and panel["x"] + panel["width"] <= 1280


# -- the trigger, the palette, where nodes go -----------------------------------------------------------


def test_the_trigger_is_edited_on_its_node_and_a_broken_filter_is_refused_there(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Trigger edit", "app/x")
    trigger_node(page).click()
    details(page).get_by_role("textbox", name="Event name").fill("app/order.paid")
    expect(trigger_node(page)).to_contain_text("app/order.paid")
    write_condition(page, "event.data.total >", label="Only when (optional)")
    add_from_palette(page, "Log a message")
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_visible()  # refused: the filter does not compile
    expect(trigger_node(page).get_by_text(re.compile("⚠"))).to_be_visible()
    trigger_node(page).click()
    write_condition(page, "event.data.total > 100", label="Only when (optional)")
    page.get_by_role("toolbar", name="Workflow").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    assert draft(server, page)["trigger"] == {"event": "app/order.paid", "if": "event.data.total > 100"}


def test_the_palette_finds_steps_by_name_and_description(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Palette", "app/palette")
    palette = page.get_by_role("navigation", name="Actions")
    expect(palette.get_by_role("button", name=re.compile("^Add Greet someone: Builds a greeting"))).to_be_visible()
    search = palette.get_by_role("textbox", name=re.compile("Search"))
    search.fill("greet")
    expect(palette.get_by_role("button", name=re.compile("^Add "))).to_have_count(1)
    search.fill("writes a line")  # Log a message's description
    expect(palette.get_by_role("button", name=re.compile("^Add "))).to_have_count(1)
    expect(palette.get_by_role("button", name=re.compile("^Add Log a message"))).to_be_visible()
    search.fill("zzzz")
    expect(palette.get_by_role("button", name=re.compile("^Add "))).to_have_count(0)


def test_added_nodes_do_not_overlap_and_a_moved_node_keeps_its_place(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Places", "app/places")
    name = details(page).get_by_role("textbox", name="Name on the canvas")
    add_from_palette(page, "Log a message")
    name.fill("First")
    add_from_palette(page, "Log a message")
    name.fill("Second")
    add_from_palette(page, "Greet someone", after=node(page, "First"))
    nodes = page.locator(".react-flow__node")
    expect(nodes).to_have_count(4)
    boxes = [nodes.nth(i).bounding_box() for i in range(4)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a and b
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a, b)

    page.keyboard.press(f"{MOD}+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    stored = draft(server, page)["draft"]
    [second] = [a["id"] for a in stored["actions"] if a.get("name") == "Second"]
    before = stored["metadata"]["positions"][second]
    wait_still(page, node(page, "Second"))  # the canvas may still pan to the step added last
    box = node(page, "Second").bounding_box()
    assert box
    page.mouse.move(box["x"] + 40, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 60, steps=6)
    page.mouse.up()
    page.keyboard.press(f"{MOD}+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    after = draft(server, page)["draft"]["metadata"]["positions"][second]
    assert after["x"] > before["x"] + 50 and after["y"] > before["y"], (before, after)


def test_the_enabled_switch_turns_the_workflow_on_and_off(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Switched", "app/switched")
    add_from_palette(page, "Log a message")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    switch = page.get_by_role("switch", name="Enabled")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert draft(server, page)["enabled"] is True
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert draft(server, page)["enabled"] is False


# -- unsaved changes are not lost by leaving ----------------------------------------------------------


def asks(page: Page, leave: Callable[[], object], answer: str = "dismiss") -> str:
    """Do `leave`, which must make the page ask (a confirm, or the browser's leave-page question); give
    `answer`; the kind of question asked."""
    kinds: list[str] = []

    def reply(dialog: Dialog) -> None:
        kinds.append(dialog.type)
        if answer == "accept":
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", reply)
    try:
        with page.expect_event("dialog"):
            leave()
    finally:
        page.remove_listener("dialog", reply)
    [kind] = kinds
    return kind


def test_leaving_with_unsaved_changes_asks_first(page: Page, server: Server) -> None:
    open_list(page, server)
    new_workflow(page, "Guard", "app/guard")
    name = page.get_by_role("toolbar", name="Workflow").get_by_role("textbox", name="Workflow name")
    name.fill("Guard edited")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()
    to_the_list = page.get_by_role("toolbar", name="Workflow").get_by_role("button", name=re.compile("Workflows"))

    assert asks(page, to_the_list.click) == "confirm"
    expect(name).to_have_value("Guard edited")  # stayed
    assert asks(page, lambda: page.evaluate("() => { setTimeout(() => history.back(), 0) }")) == "confirm"
    expect(name).to_have_value("Guard edited")
    assert asks(page, lambda: page.evaluate("() => { setTimeout(() => location.reload(), 0) }")) == "beforeunload"
    expect(name).to_have_value("Guard edited")
    assert asks(page, to_the_list.click, answer="accept") == "confirm"
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()  # left, as asked


def test_opening_a_run_with_unsaved_changes_asks_first(page: Page, server: Server) -> None:
    with server.api() as api:
        created = api.post(
            "/api/workflows",
            json={
                "name": "Guard runs",
                "trigger": {"event": "app/guard.runs"},
                "workflow": {
                    "actions": [{"id": "n", "kind": "log", "inputs": {}}],
                    "edges": [{"from": "$source", "to": "n"}],
                },
                "publish": True,
                "enabled": True,
            },
        )
        assert created.status_code == 201, created.text
        assert api.post("/api/events", json={"name": "app/guard.runs"}).status_code == 202
    page.goto(f"{server.base}/#/workflows/{created.json()['id']}?token={server.token()}")
    name = page.get_by_role("toolbar", name="Workflow").get_by_role("textbox", name="Workflow name")
    name.fill("Guard runs edited")
    details(page).get_by_role("tab", name="Runs").click()
    run = details(page).get_by_role("list", name="Runs of this workflow").get_by_role("button").first
    assert asks(page, run.click) == "confirm"
    expect(name).to_have_value("Guard runs edited")
