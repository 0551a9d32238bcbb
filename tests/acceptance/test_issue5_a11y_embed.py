"""Issue 5: accessible and keyboard-usable (labels on every control, focus order), works at 1280x800; runs
(live updates, cancel, rerun); the embeddable <workflow-editor api-base token workflow-id> custom element in a
separate host page (another origin), themable through CSS variables, talking only to the API."""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from . import issue5_support
from .issue5_support import Server, new_workflow, page_of, shot

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

# the shared fixtures: a real `workflow-kit serve`, Playwright, a fresh Chromium profile per test
playwright = issue5_support.playwright
server = issue5_support.server
browser = issue5_support.browser

CONTROL = r"(button|textbox|combobox|checkbox|radio|switch|spinbutton|slider|searchbox|tab|link|option|menuitem)"
UNNAMED = re.compile(rf"^\s*- {CONTROL}\s*(\[[^\]]*\]\s*)*:?\s*$")


def unnamed_controls(locator: Any) -> list[str]:
    """Lines of an ARIA snapshot that show an interactive role without an accessible name."""
    return [line.strip() for line in locator.aria_snapshot().splitlines() if UNNAMED.match(line)]


def canvas_of(page: Any) -> Any:
    return page.get_by_role("application", name=re.compile("Workflow canvas"))


def details_of(page: Any) -> Any:
    return page.get_by_role("complementary", name="Details")


def add_after_trigger(page: Any, kind_name: str) -> None:
    canvas_of(page).get_by_text(re.compile("^When ")).click()
    page.get_by_role("button", name=re.compile(f"^Add {kind_name}")).click()


def create(server: Server, name: str, actions: list[dict[str, Any]], edges: list[dict[str, Any]], **extra: Any) -> str:
    status, body = server.call(
        "POST",
        "/api/workflows",
        {
            "name": name,
            "trigger": {"event": "app/embed.test"},
            "workflow": {"actions": actions, "edges": edges},
            **extra,
        },
    )
    assert status in (200, 201), body
    return str(body["id"])


# -- labels on every control -------------------------------------------------------------------


def test_every_control_labelled_in_list_trigger_and_simple_panels(browser: Any, server: Server) -> None:
    page = page_of(browser)
    page.goto(server.base + "/")
    expect(page.get_by_role("heading", name="Automations")).to_be_visible()
    assert unnamed_controls(page.locator("body")) == []
    new_workflow(page, server, "Labels")
    assert unnamed_controls(page.locator("body")) == []
    add_after_trigger(page, "Log note")
    assert unnamed_controls(page.locator("body")) == []
    page.get_by_role("button", name=re.compile("^Add If")).click()
    assert unnamed_controls(page.locator("body")) == []
    for tab in ("Settings", "Runs", "Versions"):
        details_of(page).get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
        assert unnamed_controls(page.locator("body")) == [], tab
    details_of(page).get_by_role("tab", name="Settings").click()
    shot(page, "settings-tab")


def test_every_control_labelled_in_a_rich_form(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Rich labels")
    add_after_trigger(page, "Send email")
    details = details_of(page)
    expect(details.get_by_role("heading", name="Send email")).to_be_visible()
    assert unnamed_controls(details) == []


def test_canvas_nodes_have_accessible_names(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Node names")
    add_after_trigger(page, "Log note")
    canvas = canvas_of(page)
    expect(canvas.get_by_role("group", name=re.compile("^Step Log note"))).to_have_count(1, timeout=2000)
    expect(canvas.get_by_role("group", name=re.compile("^(Trigger|When)"))).to_have_count(1, timeout=2000)
    expect(canvas.get_by_role("group", name="Connection from Trigger to Log note")).to_have_count(1, timeout=2000)


# -- keyboard ------------------------------------------------------------------------------------


def test_focus_order_toolbar_palette_canvas_panel(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Focus order")
    page.get_by_role("textbox", name="Workflow name").focus()
    seen: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " if (e.closest('[role=toolbar]')) return 'toolbar';"
                " if (e.closest('nav')) return 'palette';"
                " if (e.closest('.react-flow') || e.closest('.wk-canvas-area')) return 'canvas';"
                " if (e.closest('aside')) return 'panel';"
                " return 'other'; }"
            )
        )
    order = [area for i, area in enumerate(seen) if i == 0 or seen[i - 1] != area]
    assert order[:4] == ["toolbar", "palette", "canvas", "panel"], order


def test_keyboard_builds_with_palette_and_connect(browser: Any, server: Server) -> None:
    """Without a mouse: add from the palette with Enter, connect with the panel's 'Also run after'."""
    page = page_of(browser)
    workflow_id = new_workflow(page, server, "Keyboard build")
    page.get_by_role("button", name=re.compile("^Add Log note")).focus()
    page.keyboard.press("Enter")
    details = details_of(page)
    expect(details.get_by_role("heading", name="Log note")).to_be_visible()
    details.get_by_role("textbox", name="Text").focus()
    page.keyboard.type("typed")
    connect = details.get_by_role("combobox", name="Also run after")
    if connect.locator("option", has_text="The trigger").count():
        connect.focus()
        connect.select_option(label="The trigger")
        details.get_by_role("button", name="Connect", exact=True).focus()
        page.keyboard.press("Enter")
    expect(details.get_by_role("list", name="Runs after")).to_contain_text("The trigger")
    page.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile("Saved"))).to_be_visible()
    _, record = server.call("GET", f"/api/workflows/{workflow_id}")
    assert {"from": "$source", "to": "log_note"} in [
        {"from": e["from"], "to": e["to"]} for e in record["draft"]["edges"]
    ]


def test_keyboard_opens_a_nodes_panel(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Keyboard select")
    details = details_of(page)
    add_after_trigger(page, "Log note")
    details.get_by_role("textbox", name="Name on the canvas").fill("First")
    add_after_trigger(page, "Compute score")
    expect(details.get_by_role("heading", name="Compute score")).to_be_visible()
    canvas_of(page).locator(".react-flow__node").filter(has_text="First").focus()
    page.keyboard.press("Enter")
    expect(details.get_by_role("textbox", name="Name on the canvas")).to_have_value("First", timeout=2000)


def test_keyboard_opens_a_connections_panel(browser: Any, server: Server) -> None:
    page = page_of(browser)
    new_workflow(page, server, "Keyboard edge")
    add_after_trigger(page, "Log note")
    edge = canvas_of(page).get_by_role("group", name=re.compile("^Connection from"))
    edge.first.focus()
    page.keyboard.press("Enter")
    expect(details_of(page).get_by_role("heading", name="Connection")).to_be_visible(timeout=2000)


# -- 1280x800 ------------------------------------------------------------------------------------


def test_fits_1280x800(browser: Any, server: Server) -> None:
    page = page_of(browser)
    assert page.viewport_size == {"width": 1280, "height": 800}
    new_workflow(page, server, "Viewport")
    add_after_trigger(page, "Send email")
    for name in ("Save", "Publish", "Auto layout"):
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 800, name
    box = page.get_by_role("switch").bounding_box()
    assert box and box["x"] + box["width"] <= 1280
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    canvas_box = canvas_of(page).bounding_box()
    side_box = details_of(page).bounding_box()
    assert canvas_box and side_box and canvas_box["width"] >= 400 and side_box["x"] + side_box["width"] <= 1280
    shot(page, "1280x800-editor")


# -- runs: live updates, cancel, rerun -------------------------------------------------------------


def test_run_view_live_updates_and_cancel_and_rerun(browser: Any, server: Server) -> None:
    actions = [
        {"id": "nap", "kind": "builtin:sleep", "inputs": {"duration": "2s"}},
        {"id": "note", "kind": "log_note", "inputs": {"text": "after nap"}},
    ]
    edges = [{"from": "$source", "to": "nap"}, {"from": "nap", "to": "note"}]
    workflow_id = create(server, "Live", actions, edges)
    status, body = server.call("POST", f"/api/workflows/{workflow_id}/publish", {})
    assert status in (200, 201), body
    page = page_of(browser)
    page.goto(f"{server.base}/#/workflows/{workflow_id}")
    details_of(page).get_by_role("tab", name="Runs").click()
    details_of(page).get_by_role("button", name="Test run").click()
    run_toolbar = page.get_by_role("toolbar", name="Run")
    expect(run_toolbar.get_by_text(re.compile("^(running|queued|sleeping|waiting)$", re.I))).to_be_visible()
    # live: the status turns completed without a reload
    expect(run_toolbar.get_by_text("completed", exact=True)).to_be_visible(timeout=15000)
    expect(
        page.get_by_role("list", name="Steps of this run").get_by_role(
            "button", name=re.compile(r"completed\s+Log note")
        )
    ).to_be_visible()
    run_canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(run_canvas.locator(".react-flow__node").filter(has_text="completed")).to_have_count(2)
    # rerun: the view moves to the new run (wait for it: the old run reads "completed" too)
    first_run = page.url
    run_toolbar.get_by_role("button", name=re.compile("Rerun")).first.click()
    expect(page).not_to_have_url(first_run, timeout=15000)
    expect(page.get_by_role("toolbar", name="Run").get_by_text("completed", exact=True)).to_be_visible(timeout=15000)
    # cancel a sleeping run
    page.get_by_role("button", name=re.compile("Back to the editor")).click()
    details_of(page).get_by_role("tab", name="Runs").click()
    details_of(page).get_by_role("button", name="Test run").click()
    run_toolbar = page.get_by_role("toolbar", name="Run")
    run_toolbar.get_by_role("button", name="Cancel").click()
    expect(run_toolbar.get_by_text("cancelled", exact=True)).to_be_visible(timeout=10000)
    expect(run_toolbar.get_by_role("button", name=re.compile("Rerun from the failed step"))).to_be_visible()
    shot(page, "run-cancelled")


def test_failed_step_shows_error_and_attempts(browser: Any, server: Server) -> None:
    actions = [{"id": "bad", "kind": "fail_always", "inputs": {"reason": "because"}}]
    workflow_id = create(server, "Failing", actions, [{"from": "$source", "to": "bad"}], settings={"retries": 0})
    page = page_of(browser)
    page.goto(f"{server.base}/#/workflows/{workflow_id}")
    details_of(page).get_by_role("tab", name="Runs").click()
    details_of(page).get_by_role("button", name="Test run").click()
    run_toolbar = page.get_by_role("toolbar", name="Run")
    expect(run_toolbar.get_by_text("failed", exact=True)).to_be_visible(timeout=15000)
    page.get_by_role("list", name="Steps of this run").get_by_role("button", name=re.compile("Always fail")).click()
    expect(page.get_by_role("complementary", name="Run details").get_by_role("heading", name="Error")).to_be_visible()
    run_details = page.get_by_role("complementary", name="Run details")
    expect(run_details.get_by_role("heading", name="Inputs")).to_be_visible()
    expect(run_details.get_by_label("inputs")).to_contain_text("because")
    expect(run_details.get_by_text(re.compile("failed on purpose")).first).to_be_visible()
    expect(run_details.get_by_role("heading", name="Attempts")).to_be_visible()
    expect(
        run_details.get_by_role("heading", name="Attempts")
        .locator("xpath=following-sibling::ol[1]")
        .get_by_role("listitem")
    ).to_have_count(1)
    run_canvas = page.get_by_role("application", name=re.compile("run's workflow"))
    expect(run_canvas.locator(".status-failed")).to_have_count(1)


# -- the embeddable element --------------------------------------------------------------------


@pytest.fixture
def host_page(server: Server) -> Iterator[dict[str, str]]:
    """A separate host page, on another origin (another port), that embeds the editor with one tag."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", server.host_port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield pages
    finally:
        httpd.shutdown()
        httpd.server_close()


def host_html(server: Server, attributes: str, style: str = "height: 700px") -> str:
    return f"""<!doctype html><html><head><title>Host product</title></head><body>
<h1>My SaaS: automations</h1>
<script src="{server.base}/embed/workflow-editor.js"></script>
<workflow-editor api-base="{server.base}" token="{server.token}" {attributes} style="{style}"></workflow-editor>
</body></html>"""


def test_embedded_custom_element_in_a_separate_host_page(
    browser: Any, server: Server, host_page: dict[str, str]
) -> None:
    actions = [{"id": "note", "kind": "log_note", "inputs": {"text": "hello"}}]
    workflow_id = create(server, "Embedded one", actions, [{"from": "$source", "to": "note"}])
    host_page["/editor.html"] = host_html(
        server,
        f'workflow-id="{workflow_id}"',
        "display:block; height: 720px; --wk-accent: rgb(200, 0, 0); --wk-font: monospace",
    )
    page = page_of(browser)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    host = f"http://127.0.0.1:{server.host_port}"
    page.goto(f"{host}/editor.html")
    expect(page.get_by_role("heading", name="My SaaS: automations")).to_be_visible()
    element = page.locator("workflow-editor")
    canvas = element.get_by_role("application", name=re.compile("Workflow canvas"))
    expect(canvas.get_by_text("Log note")).to_be_visible(timeout=10000)
    expect(element.get_by_role("textbox", name="Workflow name")).to_have_value("Embedded one")
    # themed through CSS variables set on the element
    publish = element.get_by_role("button", name="Publish")
    assert publish.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(200, 0, 0)"
    assert "monospace" in element.get_by_role("toolbar").evaluate("e => getComputedStyle(e).fontFamily")
    # the host page keeps its own look
    assert "monospace" not in page.get_by_role("heading", name="My SaaS: automations").evaluate(
        "e => getComputedStyle(e).fontFamily"
    )
    # edit and save across origins
    canvas.get_by_text("Log note").click()
    element.get_by_role("textbox", name="Text").fill("edited in the host page")
    element.get_by_role("button", name="Save").click()
    expect(element.get_by_text(re.compile("Saved"))).to_be_visible()
    _, record = server.call("GET", f"/api/workflows/{workflow_id}")
    assert record["draft"]["actions"][0]["inputs"]["text"] == "edited in the host page"
    shot(page, "embedded")
    # it talks only to the API (and loads its own script)
    others = [
        u for u in requests if not (u.startswith((host, server.base + "/api/", server.base + "/embed/", "data:")))
    ]
    assert others == [], others
    assert not any("/api/demo/" in u for u in requests)
    assert errors == []


def test_embedded_element_without_workflow_id_lists_workflows(
    browser: Any, server: Server, host_page: dict[str, str]
) -> None:
    create(
        server,
        "Listed in host",
        [{"id": "note", "kind": "log_note", "inputs": {"text": "x"}}],
        [{"from": "$source", "to": "note"}],
    )
    host_page["/list.html"] = host_html(server, "")
    page = page_of(browser)
    page.goto(f"http://127.0.0.1:{server.host_port}/list.html")
    element = page.locator("workflow-editor")
    expect(element.get_by_text("Listed in host")).to_be_visible(timeout=10000)
    # opening one from the list, inside the element
    element.get_by_text("Listed in host").click()
    expect(element.get_by_role("textbox", name="Workflow name")).to_have_value("Listed in host")
    assert page.url.startswith(f"http://127.0.0.1:{server.host_port}/list.html")


def test_embedded_element_with_a_bad_token_says_so(browser: Any, server: Server, host_page: dict[str, str]) -> None:
    host_page["/bad.html"] = host_html(server, "").replace(server.token, "not-a-token")
    page = page_of(browser)
    page.goto(f"http://127.0.0.1:{server.host_port}/bad.html")
    element = page.locator("workflow-editor")
    expect(
        element.get_by_role("alert").or_(element.get_by_text(re.compile("token|unauthori|sign", re.I)))
    ).to_be_visible(timeout=10000)


def test_embedded_element_follows_attribute_changes(browser: Any, server: Server, host_page: dict[str, str]) -> None:
    one = create(
        server, "Attr one", [{"id": "a", "kind": "log_note", "inputs": {"text": "1"}}], [{"from": "$source", "to": "a"}]
    )
    two = create(
        server, "Attr two", [{"id": "b", "kind": "log_note", "inputs": {"text": "2"}}], [{"from": "$source", "to": "b"}]
    )
    host_page["/attr.html"] = host_html(server, f'workflow-id="{one}"')
    page = page_of(browser)
    page.goto(f"http://127.0.0.1:{server.host_port}/attr.html")
    element = page.locator("workflow-editor")
    expect(element.get_by_role("textbox", name="Workflow name")).to_have_value("Attr one", timeout=10000)
    element.evaluate(f"e => e.setAttribute('workflow-id', '{two}')")
    expect(element.get_by_role("textbox", name="Workflow name")).to_have_value("Attr two")
    time.sleep(0.1)


def test_react_component_bundle_built() -> None:
    from .issue5_support import ROOT

    # the React component is the npm package @workflow-kit/editor (frontend/lib, built by `npm run build`)
    bundle = ROOT / "frontend" / "lib" / "index.js"
    assert bundle.exists()
    text = bundle.read_text()
    assert re.search(r"export\s*\{[^}]*\bWorkflowEditor\b", text) and re.search(r"export\s*\{[^}]*\bApi\b", text)
    assert (ROOT / "frontend" / "dist" / "embed" / "workflow-editor.js").exists()
