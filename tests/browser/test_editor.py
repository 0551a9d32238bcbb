"""The editor in Chromium, through the UI only, against a real server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, Server, start_server
from .ui import drag_between, new_workflow

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

SAMPLE = {"name": "app/user.created", "data": {"name": "Ann", "n": 7}}


def open_editor(page: Page, server: Server, tenant: str | None = None) -> None:
    page.goto(f"{server.base}/#/?token={server.token(tenant)}")
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()


def node(page: Page, node_id: str) -> Locator:
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def settled(page: Page, locator: Locator) -> None:
    """Wait until `locator` stays where it is for a moment (the canvas fits itself again, with an
    animation, a little after it changes size)."""
    previous = None
    for _ in range(40):
        box = locator.bounding_box()
        if box is not None and box == previous:
            return
        previous = box
        page.wait_for_timeout(250)


def test_build_publish_and_run_a_branching_workflow_through_the_ui(page: Page, server: Server) -> None:
    open_editor(page, server)
    new_workflow(page, "Greeter", "app/user.created")

    # A sample event, so the ref picker offers the event's fields.
    page.get_by_label("Sample event (JSON)").fill(json.dumps(SAMPLE))

    # Drag an If from the palette onto the canvas, and connect the trigger to it.
    page.locator('[data-kind="builtin:if"]').drag_to(
        page.locator(".react-flow__pane"), target_position={"x": 340, "y": 600}
    )
    expect(node(page, "if")).to_be_visible()
    # The live check reports the unconnected If in a banner, and the canvas fits itself to its new size:
    # drag once that is over, or the handles move under the mouse.
    expect(page.get_by_test_id("problem-count")).to_have_text("2 problems")
    settled(page, node(page, "$source"))
    drag_between(
        page,
        node(page, "$source").locator(".react-flow__handle-bottom"),
        node(page, "if").locator(".react-flow__handle-top"),
    )
    expect(page.locator(".react-flow__edge")).to_have_count(1)

    # The condition, with the builder: the event's N is greater than 5.
    node(page, "if").click()
    page.get_by_role("button", name="Add a condition").click()
    page.get_by_role("combobox", name="Field").select_option(label="N")
    page.get_by_role("combobox", name="Comparison operator").select_option(label="is greater than")
    page.get_by_role("spinbutton", name="Value").fill("5")

    # With the If selected, the palette adds the True branch, then the False branch.
    page.locator('[data-kind="greet"]').click()
    node(page, "if").click()
    page.locator('[data-kind="log"]').click()
    expect(page.locator(".react-flow__edge-text")).to_have_text(["True", "False"])

    # Greet's name comes from the event, picked in the data picker; shown as a chip with its name.
    node(page, "greet").click()
    page.locator('[data-field="name"]').get_by_role("radio", name="Data").click()
    page.locator('[data-path="$.event.data.name"]').click()
    expect(page.get_by_role("status", name="Name uses Trigger event > Name")).to_be_visible()

    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch").click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    page.screenshot(path=str(ARTIFACTS / "editor-built.png"))

    # A test run with the sample event: the True branch runs, the False branch is skipped.
    page.get_by_role("tab", name="Runs").click()
    page.get_by_role("button", name="Test run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=20_000)
    expect(node(page, "if").locator(".wk-status")).to_have_text("completed")
    expect(node(page, "greet").locator(".wk-status")).to_have_text("completed")
    expect(node(page, "log").locator(".wk-status")).to_have_text("skipped")
    node(page, "greet").click()
    expect(page.get_by_label("output", exact=True)).to_contain_text("Hello, Ann!")

    # And a real event, through the API, runs the published, enabled workflow.
    with server.api() as api:
        assert api.post("/api/events", json=SAMPLE).status_code == 202
    page.get_by_role("button", name="Back to the editor").click()
    page.get_by_role("tab", name="Runs").click()
    expect(page.get_by_role("button", name="completed").first).to_be_visible(timeout=20_000)


def test_a_validation_problem_appears_on_the_node_and_field(page: Page, server: Server) -> None:
    open_editor(page, server)
    new_workflow(page, "Needs a name", "app/x")
    page.locator('[data-kind="greet"]').click()  # added and connected from... nothing selected: unconnected
    expect(node(page, "greet")).to_be_visible()
    greet = node(page, "greet")
    expect(greet.locator(".wk-problem-count")).to_be_visible()
    greet.click()
    expect(page.get_by_label("Problems with Name", exact=True)).to_contain_text("Fill in Name.")
    expect(page.get_by_label("Problems with the workflow")).to_contain_text(
        "Nothing runs yet: connect a step after the trigger."
    )
    # Fixing it clears the problems.
    page.get_by_role("textbox", name="Name", exact=True).fill("Bob")
    page.get_by_label("Also run after").select_option("$source")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    expect(greet.locator(".wk-problem-count")).to_have_count(0)


def test_a_schedule_trigger_is_checked_and_shows_its_next_run(page: Page, server: Server) -> None:
    open_editor(page, server)
    new_workflow(page, "Monday digest", schedule="0 9 * * 1")
    trigger = node(page, "$source")
    expect(trigger).to_contain_text("Every Monday at 09:00 (UTC)")
    trigger.click()
    page.locator('[data-kind="log"]').click()  # added below the selected trigger
    expect(page.get_by_test_id("problem-count")).to_have_text("No problems")
    trigger.click()
    expect(page.get_by_label("A schedule (cron)")).to_be_checked()

    # The server's problem shows on the schedule, with its path.
    page.get_by_label("Time zone").fill("Europe/Pari")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Problems with the schedule")).to_have_text(
        "unknown time zone 'Europe/Pari': did you mean Europe/Paris?"
    )
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Save").click()
    expect(trigger).to_contain_text("Every Monday at 09:00 (Europe/Paris)")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("published")).to_have_text("Published v1")
    page.get_by_role("switch").click()
    expect(page.get_by_label("Next run")).to_contain_text("Next run:")
    with server.api() as api:
        [record] = [w for w in api.get("/api/workflows").json()["items"] if w["name"] == "Monday digest"]
    assert record["trigger"] == {"cron": "TZ=Europe/Paris 0 9 * * 1"}
    assert record["next_tick_at"] is not None


def test_switching_between_two_nodes_of_one_kind_shows_each_nodes_values(page: Page, server: Server) -> None:
    open_editor(page, server)
    new_workflow(page, "Two greeters", "app/x")
    node(page, "$source").click()
    page.locator('[data-kind="greet"]').click()
    page.get_by_role("textbox", name="Name", exact=True).fill("First")
    node(page, "$source").click()
    page.locator('[data-kind="greet"]').click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Second")
    node(page, "greet").click()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("First")
    node(page, "greet_2").click()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("Second")


def test_the_keyboard_opens_and_deletes_nodes_and_connections(page: Page, server: Server) -> None:
    """A focused node or connection: Enter opens its panel, Delete or Backspace deletes that one only."""
    open_editor(page, server)
    new_workflow(page, "Keys", "app/x")
    node(page, "$source").click()
    page.locator('[data-kind="greet"]').click()
    node(page, "$source").click()
    page.locator('[data-kind="log"]').click()  # the log's panel is open
    expect(page.get_by_role("heading", name="Log a message")).to_be_visible()
    greet = page.get_by_role("group", name="Step Greet someone")
    greet.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Greet someone")).to_be_visible()
    edge = page.get_by_role("group", name="Connection from Trigger to Greet someone")
    edge.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Connection")).to_be_visible()
    # Delete on the focused log node deletes it, not the connection that is selected
    node(page, "log").focus()
    page.keyboard.press("Delete")
    expect(node(page, "log")).to_have_count(0)
    expect(node(page, "$source")).to_be_focused()  # the focus goes back to what it ran after
    expect(edge).to_have_count(1)
    expect(greet).to_have_count(1)
    edge.focus()
    page.keyboard.press("Backspace")
    expect(edge).to_have_count(0)
    expect(greet).to_have_count(1)
    node(page, "$source").focus()
    page.keyboard.press("Delete")  # the trigger stays
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    workflow_id = page.url.split("/workflows/")[1].split("?")[0]
    with server.api() as api:
        draft = api.get(f"/api/workflows/{workflow_id}").json()["draft"]
    assert [a["id"] for a in draft["actions"]] == ["greet"] and draft["edges"] == []
    expect(node(page, "$source")).to_have_count(1)


def test_a_stale_save_is_a_conflict_with_a_reload_choice(page: Page, server: Server) -> None:
    open_editor(page, server)
    new_workflow(page, "Contested", "app/x")
    workflow_id = page.url.split("/workflows/")[1].split("?")[0]
    with server.api() as api:
        current = api.get(f"/api/workflows/{workflow_id}").json()
        assert (
            api.put(
                f"/api/workflows/{workflow_id}", json={"name": "Changed elsewhere", "version": current["version"]}
            ).status_code
            == 200
        )
    page.get_by_label("Workflow name").fill("My edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this workflow")
    page.get_by_role("button", name="Reload (discard my changes)").click()
    expect(page.get_by_label("Workflow name")).to_have_value("Changed elsewhere")


def test_the_custom_element_works_in_a_host_page(page: Page, host_page: tuple[str, Path], tmp_path: Path) -> None:
    origin, folder = host_page
    (tmp_path / "api").mkdir()
    api_server = start_server(tmp_path / "api", cors=[origin])
    try:
        with api_server.api() as api:
            created = api.post(
                "/api/workflows",
                json={
                    "name": "Embedded",
                    "trigger": {"event": "app/embedded"},
                    "workflow": {"actions": [], "edges": []},
                },
            ).json()
        token = api_server.token()
        (folder / "index.html").write_text(
            f"""<!doctype html><html><head><title>Host product</title>
<style>workflow-editor {{ height: 700px; --wk-accent: rgb(200, 0, 120); }}</style></head>
<body><h1>Host product settings</h1>
<workflow-editor api-base="{api_server.base}" token="{token}" workflow-id="{created["id"]}"></workflow-editor>
<script src="{api_server.base}/embed/workflow-editor.js"></script></body></html>"""
        )
        page.goto(f"{origin}/index.html")
        expect(page.get_by_role("heading", name="Host product settings")).to_be_visible()
        expect(page.locator("workflow-editor .react-flow__node")).to_have_count(1, timeout=15_000)
        expect(page.get_by_label("Workflow name")).to_have_value("Embedded")
        # It edits through the API from the host's origin (CORS) and is themed by the host.
        page.locator('[data-kind="greet"]').click()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
        accent = page.locator(".wk-button.primary").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert accent == "rgb(200, 0, 120)"
        with api_server.api() as api:
            stored: dict[str, Any] = api.get(f"/api/workflows/{created['id']}").json()
        assert [a["kind"] for a in stored["draft"]["actions"]] == ["greet"]
    finally:
        api_server.process.terminate()
        api_server.process.wait(timeout=15)


def test_auto_layout_fits_the_laid_out_graph_into_view(page: Page, server: Server) -> None:
    """A workflow whose saved positions are far apart opens zoomed out; Auto layout packs the graph and
    brings it back into view at full size, every node on the canvas."""
    far_apart = {
        "actions": [
            {"id": "first", "kind": "log", "inputs": {}},
            {"id": "second", "kind": "log", "inputs": {}},
        ],
        "edges": [{"from": "$source", "to": "first"}, {"from": "first", "to": "second"}],
        "metadata": {
            "positions": {"$source": {"x": 0, "y": 0}, "first": {"x": 0, "y": 150}, "second": {"x": 6000, "y": 4000}}
        },
    }
    with server.api() as api:
        created = api.post(
            "/api/workflows", json={"name": "Spread out", "trigger": {"event": "app/x"}, "workflow": far_apart}
        )
        assert created.status_code == 201, created.text
    page.goto(f"{server.base}/#/workflows/{created.json()['id']}?token={server.token()}")
    expect(node(page, "second")).to_be_visible()
    before = node(page, "first").bounding_box()
    assert before and before["width"] < 200, before  # zoomed out to show the far node

    page.get_by_role("button", name="Auto layout").click()
    canvas = page.locator(".react-flow").first.bounding_box()
    assert canvas

    def every_node_in_view_at_full_size() -> bool:
        for node_id in ("$source", "first", "second"):
            box = node(page, node_id).bounding_box()
            if not box or box["width"] < 200:
                return False
            if box["x"] < canvas["x"] or box["y"] < canvas["y"]:
                return False
            if box["x"] + box["width"] > canvas["x"] + canvas["width"]:
                return False
            if box["y"] + box["height"] > canvas["y"] + canvas["height"]:
                return False
        return True

    deadline_ms = 3000
    waited = 0
    while not every_node_in_view_at_full_size() and waited < deadline_ms:
        page.wait_for_timeout(100)
        waited += 100
    assert every_node_in_view_at_full_size(), [node(page, n).bounding_box() for n in ("$source", "first", "second")]
