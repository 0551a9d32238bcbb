"""Issue 5, the editor's behaviour: live validation on the right node and field, a 409 conflict shown plainly
with a reload choice, the unsaved-changes guard, the trigger node, palette search, delete / move / fan-in,
edges (True/False labels, match edges), versions."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from . import issue5_support
from .issue5_support import Server, new_workflow, page_of, shot, write_condition

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

# the shared fixtures: a real `workflow-kit serve`, Playwright, a fresh Chromium profile per test
playwright = issue5_support.playwright
server = issue5_support.server
browser = issue5_support.browser


def canvas_of(page: Any) -> Any:
    return page.get_by_role("application", name=re.compile("Workflow canvas"))


def details_of(page: Any) -> Any:
    return page.get_by_role("complementary", name="Details")


def toolbar_of(page: Any) -> Any:
    return page.get_by_role("toolbar", name="Workflow")


def node(page: Any, text: str | re.Pattern[str]) -> Any:
    return canvas_of(page).locator(".react-flow__node").filter(has_text=text)


def add_after_trigger(page: Any, kind_name: str) -> None:
    canvas_of(page).get_by_text(re.compile("^When ")).click()
    page.get_by_role("button", name=re.compile(f"^Add {kind_name}")).click()


def record_of(server: Server, workflow_id: str) -> dict[str, Any]:
    status, record = server.call("GET", f"/api/workflows/{workflow_id}")
    assert status == 200
    return dict(record)


def test_validation_problem_on_the_right_node_and_field(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Validation")
    details = details_of(page)
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("Good note")
    details.get_by_role("textbox", name="Text").fill("fine")
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("Bad note")
    # a ref to an action that does not exist upstream: a problem the server finds
    details.get_by_role("textbox", name="Text").fill("!ref($.state.nowhere.x)")
    expect(node(page, "Bad note").get_by_text(re.compile("⚠"))).to_be_visible(timeout=5000)
    expect(node(page, "Good note").get_by_text(re.compile("⚠"))).to_have_count(0)
    expect(details.get_by_role("list", name="Problems with Text")).to_be_visible()
    expect(toolbar_of(page).get_by_test_id("problem-count")).to_have_text(re.compile(r"\d+ problem"))
    shot(page, "validation-node")
    # a CEL syntax error in an If's condition: on the If node and under its Condition field
    canvas_of(page).get_by_text("Good note").click()
    page.get_by_role("button", name=re.compile("^Add If")).click()
    write_condition(details, "state.good_note ==")
    expect(node(page, re.compile(r"^\W*If")).get_by_text(re.compile("⚠"))).to_be_visible(timeout=5000)
    expect(details.get_by_role("list", name="Problems with Condition")).to_be_visible()
    # fixed: the problems go away
    write_condition(details, "true")
    canvas_of(page).get_by_text("Bad note").click()
    details.get_by_role("button", name=re.compile("^Stop using .* in Text$")).click()  # a whole ref is a chip
    details.get_by_role("textbox", name="Text").fill("now fine")
    expect(toolbar_of(page).get_by_text("No problems")).to_be_visible(timeout=5000)


def test_trigger_node_editable_and_its_problems(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Trigger edit")
    details = details_of(page)
    canvas_of(page).get_by_text(re.compile("^When ")).click()
    details.get_by_role("textbox", name="Event name").fill("app/order.paid")
    expect(canvas_of(page).get_by_text("When app/order.paid")).to_be_visible()
    write_condition(details, "event.data.total >", label="Only when (optional)")
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Text").fill("paid")
    # saving a broken filter: refused, the problem shown on the trigger node
    toolbar_of(page).get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(node(page, "When app/order.paid").get_by_text(re.compile("⚠"))).to_be_visible(timeout=5000)
    canvas_of(page).get_by_text(re.compile("^When ")).click()
    write_condition(details, "event.data.total > 100", label="Only when (optional)")
    toolbar_of(page).get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    trigger = record_of(server, workflow_id)["trigger"]
    assert trigger["event"] == "app/order.paid" and trigger["if"] == "event.data.total > 100"


def test_trigger_filter_problem_shown_live(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Trigger live")
    add_after_trigger(page, "Log note")
    details_of(page).get_by_role("textbox", name="Text").fill("x")
    canvas_of(page).get_by_text(re.compile("^When ")).click()
    write_condition(details_of(page), "event.data.total >", label="Only when (optional)")
    expect(node(page, "When ").get_by_text(re.compile("⚠"))).to_be_visible(timeout=3000)


def test_added_nodes_do_not_overlap(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Overlap")
    details = details_of(page)
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("First")
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("Second")
    canvas_of(page).get_by_text("First").click()
    page.get_by_role("button", name=re.compile("^Add Compute score")).click()
    boxes = [canvas_of(page).locator(".react-flow__node").nth(i).bounding_box() for i in range(4)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a and b
            overlap = (
                a["x"] < b["x"] + b["width"]
                and b["x"] < a["x"] + a["width"]
                and a["y"] < b["y"] + b["height"]
                and b["y"] < a["y"] + a["height"]
            )
            assert not overlap, (a, b)


def test_palette_search_and_catalog(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Palette")
    palette = page.get_by_role("navigation", name="Actions")
    expect(palette.get_by_role("button", name=re.compile("^Add Send email: Sends an email to a user"))).to_be_visible()
    palette.get_by_role("searchbox").or_(palette.get_by_role("textbox", name=re.compile("Search"))).fill("email")
    expect(palette.get_by_role("button", name=re.compile("^Add "))).to_have_count(1)
    palette.get_by_role("textbox", name=re.compile("Search")).fill("doubles")
    expect(palette.get_by_role("button", name=re.compile("^Add Compute score"))).to_be_visible()
    palette.get_by_role("textbox", name=re.compile("Search")).fill("zzzz")
    expect(palette.get_by_role("button", name=re.compile("^Add "))).to_have_count(0)


def test_delete_move_fan_in_and_match_edge(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Graph ops")
    details = details_of(page)
    canvas = canvas_of(page)
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("Left")
    details.get_by_role("textbox", name="Text").fill("l")
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("Right")
    details.get_by_role("textbox", name="Text").fill("r")
    # a join: Compute score after Left, and also after Right (fan-in)
    canvas.get_by_text("Left").click()
    page.get_by_role("button", name=re.compile("^Add Compute score")).click()
    details.get_by_role("spinbutton", name="Value").fill("3")
    details.get_by_role("combobox", name="Also run after").select_option(label="Right")
    details.get_by_role("button", name="Connect", exact=True).click()
    expect(details.get_by_role("list", name="Runs after").get_by_role("listitem")).to_have_count(2)
    # a throwaway node, deleted with the keyboard
    add_after_trigger(page, "Send email")
    expect(node(page, "Send email")).to_have_count(1)
    node(page, "Send email").click()
    page.keyboard.press("Delete")
    expect(node(page, "Send email")).to_have_count(0)
    # move a node: its position is kept in the workflow's metadata
    box = node(page, "Right").bounding_box()
    assert box
    page.mouse.move(box["x"] + 40, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 60, steps=6)
    page.mouse.up()
    # a match edge: select the connection Left -> score, follow it when the value equals 3
    edge = canvas.get_by_role("group", name="Connection from Left to Compute score")
    edge.focus()
    edge.click(force=True)
    panel = details.get_by_role("heading", name="Connection")
    if not panel.is_visible():  # the path is thin: click its middle
        edge_box = edge.bounding_box()
        assert edge_box
        page.mouse.click(edge_box["x"] + edge_box["width"] / 2, edge_box["y"] + edge_box["height"] / 2)
    expect(panel).to_be_visible()
    details.get_by_role("combobox", name="Follow this connection").select_option(label="Only when…")
    details.get_by_role("combobox", name="Data", exact=True).select_option(value="$.output")  # Left's whole output
    details.get_by_role("combobox", name="Comparison", exact=True).select_option(label="equals")
    details.get_by_role("textbox", name="Value", exact=True).fill("l")
    toolbar_of(page).get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    draft = record_of(server, workflow_id)["draft"]
    assert sorted(a["kind"] for a in draft["actions"]) == ["log_note", "log_note", "score"]
    edges = {(e["from"], e["to"]): e for e in draft["edges"]}
    assert ("log_note", "score") in edges and ("log_note_2", "score") in edges
    assert edges[("log_note", "score")]["conditional"] == {"type": "match", "ref": "!ref($.output)", "value": "l"}
    assert "log_note_2" in str(draft["metadata"])


def test_conflict_shown_with_reload(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Conflict")
    expect(toolbar_of(page).get_by_role("textbox", name="Workflow name")).to_have_value("Conflict")
    version = record_of(server, workflow_id)["version"]
    status, body = server.call(
        "PATCH", f"/api/workflows/{workflow_id}", {"name": "Changed elsewhere", "version": version}
    )
    assert status == 200, body
    toolbar_of(page).get_by_role("textbox", name="Workflow name").fill("My name")
    toolbar_of(page).get_by_role("button", name="Save").click()
    alert = page.get_by_role("alert").filter(has_text=re.compile("changed|conflict|someone else", re.I))
    expect(alert).to_be_visible()
    shot(page, "conflict")
    alert.get_by_role("button", name=re.compile("Reload")).click()
    expect(toolbar_of(page).get_by_role("textbox", name="Workflow name")).to_have_value("Changed elsewhere")
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)


def test_unsaved_changes_guard(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Guard")
    toolbar_of(page).get_by_role("textbox", name="Workflow name").fill("Guard edited")
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    messages: list[str] = []

    def dismiss(dialog: Any) -> None:
        messages.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    toolbar_of(page).get_by_role("button", name=re.compile("Workflows")).click()
    expect(toolbar_of(page).get_by_role("textbox", name="Workflow name")).to_have_value("Guard edited")
    assert messages == ["confirm"]
    page.remove_listener("dialog", dismiss)
    page.once("dialog", lambda dialog: dialog.accept())
    toolbar_of(page).get_by_role("button", name=re.compile("Workflows")).click()
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()


def test_unsaved_changes_guard_on_reload(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Guard reload")
    toolbar_of(page).get_by_role("textbox", name="Workflow name").fill("Guard reload edited")
    kinds: list[str] = []

    def dismiss(dialog: Any) -> None:
        kinds.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    with contextlib.suppress(Exception):  # a dismissed beforeunload cancels the navigation
        page.reload(timeout=3000)
    assert kinds == ["beforeunload"]


def test_unsaved_changes_guard_on_browser_back(browser: Any, server: Server) -> None:
    page = page_of(browser)
    page.goto(server.base + "/")
    new_workflow(page, server, "Guard back")
    toolbar_of(page).get_by_role("textbox", name="Workflow name").fill("Guard back edited")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.go_back()
    page.wait_for_timeout(500)
    assert asked, "no prompt"
    expect(toolbar_of(page).get_by_role("textbox", name="Workflow name")).to_have_value("Guard back edited")


def test_publish_versions_and_enable_toggle(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Versions")
    details = details_of(page)
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Text").fill("one")
    toolbar_of(page).get_by_role("button", name="Publish").click()
    expect(toolbar_of(page).get_by_text("Published v1")).to_be_visible()
    canvas_of(page).get_by_text("Log note").click()
    details.get_by_role("textbox", name="Text").fill("two")
    toolbar_of(page).get_by_role("button", name="Publish").click()
    expect(toolbar_of(page).get_by_text("Published v2")).to_be_visible()
    details.get_by_role("tab", name="Versions").click()
    expect(details.get_by_text(re.compile(r"^(Version|v)\s*1$"))).to_be_visible()
    expect(details.get_by_text(re.compile(r"^(Version|v)\s*2$"))).to_be_visible()
    switch = toolbar_of(page).get_by_role("switch")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert record_of(server, workflow_id)["enabled"] is True
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert record_of(server, workflow_id)["enabled"] is False


def test_enable_switch_has_a_stable_name(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Switch name")
    switch = toolbar_of(page).get_by_role("switch", name="Enabled")
    expect(switch).to_have_attribute("aria-checked", "false", timeout=2000)


def test_invalid_publish_is_refused_plainly(browser: Any, server: Server) -> None:
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Invalid publish")
    add_after_trigger(page, "Log note")  # Text is required and left empty
    toolbar_of(page).get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(toolbar_of(page).get_by_text("Draft, not published yet")).to_be_visible()
    assert record_of(server, workflow_id)["published_version"] in (None, 0)


def test_unsaved_changes_guard_when_opening_a_run(browser: Any, server: Server) -> None:
    status, body = server.call(
        "POST",
        "/api/workflows",
        {
            "name": "Guard runs",
            "trigger": {"event": "app/guard.runs"},
            "workflow": {
                "actions": [{"id": "n", "kind": "log_note", "inputs": {"text": "x"}}],
                "edges": [{"from": "$source", "to": "n"}],
            },
            "publish": True,
            "enabled": True,
        },
    )
    assert status in (200, 201), body
    workflow_id = body["id"]
    assert server.call("POST", "/api/events", {"name": "app/guard.runs", "data": {}})[0] in (200, 201, 202)
    page = page_of(browser)
    page.goto(f"{server.base}/#/workflows/{workflow_id}")
    toolbar_of(page).get_by_role("textbox", name="Workflow name").fill("Guard runs edited")
    details_of(page).get_by_role("tab", name="Runs").click()
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    details_of(page).get_by_role("list", name="Runs of this workflow").get_by_role("button").first.click()
    page.wait_for_timeout(500)
    assert asked, "no prompt"
    expect(toolbar_of(page).get_by_role("textbox", name="Workflow name")).to_have_value("Guard runs edited")
