"""<workflow-editor> in a host product's page (frontend/src/element/): its shadow root keeps the host's CSS out
and its own in, the --wk-* theme still gets in, the keyboard and the editor's menus work inside it, a new
token keeps the draft, an expired one is refreshed (tokenProvider) or reported (token-expired), and a page
on an origin the server does not allow is told how to allow it; it talks to the API only, lists the
workflows without a workflow-id, says when its token is bad, and follows a changed workflow-id."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import SECRET, Server, start_server, static_site, stop_server
from .ui import add_step, drag_between, node, trigger_node, wait_still

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

THEME = "workflow-editor { height: 700px; --wk-accent: rgb(200, 0, 120); }"
HOSTILE = """
body { text-transform: uppercase; letter-spacing: 2px; line-height: 3; color: rgb(0, 128, 0); }
* { font-family: serif; }
button { text-transform: uppercase; border: 5px solid red; padding: 20px; }
input { border: 4px dashed green; }
h1, h2 { color: red; }
.wk-button { border-radius: 0; background: yellow; }
.react-flow__node { outline: 3px solid blue; }
"""
PROPERTIES = [
    "font-family", "font-size", "font-weight", "text-transform", "letter-spacing", "line-height", "color",
    "background-color", "border-top-width", "border-top-style", "border-top-color", "border-top-left-radius",
    "padding-top", "padding-left", "outline-style",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The host product's pages: (origin, folder)."""
    folder = tmp_path_factory.mktemp("host")
    with static_site(folder) as origin:
        yield origin, folder


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, site: tuple[str, Path]) -> Iterator[Server]:
    """The editor API, allowing the host's origin (CORS)."""
    found = start_server(tmp_path_factory.mktemp("api"), cors=[site[0]])
    yield found
    stop_server(found)


def create(server: Server, name: str) -> str:
    with server.api() as client:
        response = client.post(
            "/api/workflows",
            json={"name": name, "trigger": {"event": "app/embedded"}, "workflow": {"actions": [], "edges": []}},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def stored(server: Server, workflow_id: str) -> dict[str, Any]:
    with server.api() as client:
        found: dict[str, Any] = client.get(f"/api/workflows/{workflow_id}").json()
    return found


def host_page(
    site: tuple[str, Path],
    name: str,
    server: Server,
    token: str,
    workflow_id: str | None,
    *,
    css: str = THEME,
    body: str = "",
    before: str = "",
    after: str = "",
    element: bool = True,
) -> str:
    """Write a host page embedding the element (its script from the API's server) and return its URL.
    `before` and `after` are scripts run before the element's script loads and after; without a
    `workflow_id` the element shows the list of workflows."""
    origin, folder = site
    which = "" if workflow_id is None else f' workflow-id="{workflow_id}"'
    editor = (
        f'<workflow-editor api-base="{server.base}" token="{token}"{which}></workflow-editor>'
        f"<script>{before}</script><script src='{server.base}/embed/workflow-editor.js'></script>"
        f"<script>{after}</script>"
    )
    (folder / name).write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>Host product</title>
<style>{css}</style></head><body><h1>Host product settings</h1>{body}{editor if element else ""}</body></html>"""
    )
    return f"{origin}/{name}"


def styles(locator: Locator) -> dict[str, str]:
    script = (
        "(e, names) => { const s = getComputedStyle(e);"
        " return Object.fromEntries(names.map(n => [n, s.getPropertyValue(n)])); }"
    )
    found: dict[str, str] = locator.evaluate(script, PROPERTIES)
    return found


def editor_styles(page: Page) -> dict[str, dict[str, str]]:
    """What the editor's own button, input, heading and node look like (the Trigger panel open)."""
    trigger_node(page).click()
    heading = page.locator("workflow-editor").get_by_role("heading", name="Trigger", exact=True)
    expect(heading).to_be_visible()
    return {
        "button": styles(page.get_by_role("button", name="Auto layout")),
        "input": styles(page.get_by_label("Workflow name")),
        "heading": styles(heading),
        "node": styles(trigger_node(page)),
    }


def open_page(page: Page, url: str, name: str) -> None:
    page.goto(url)
    expect(page.get_by_label("Workflow name")).to_have_value(name, timeout=15_000)


def test_the_host_pages_css_stays_out_and_the_editors_stays_in(page: Page, api: Server, site: tuple[str, Path]) -> None:
    workflow_id = create(api, "Styled")
    token = api.token()
    host_parts = (
        '<button class="wk-button" id="host-button">Host</button><input id="host-input"><h2 id="host-heading">Host</h2>'
    )
    plain = host_page(site, "plain.html", api, token, workflow_id)
    hostile = host_page(site, "hostile.html", api, token, workflow_id, css=THEME + HOSTILE, body=host_parts)
    alone = host_page(site, "alone.html", api, token, workflow_id, css=HOSTILE, body=host_parts, element=False)

    open_page(page, plain, "Styled")
    expected = editor_styles(page)
    assert expected["button"]["text-transform"] == "none" and expected["input"]["border-top-style"] != "dashed"

    open_page(page, hostile, "Styled")
    assert editor_styles(page) == expected  # nothing of the host's CSS gets in
    shadow = page.locator("workflow-editor").evaluate(
        "e => ({mode: e.shadowRoot?.mode, css: e.shadowRoot?.querySelector('style')?.textContent.includes('.wk-root')})"
    )
    assert shadow == {"mode": "open", "css": True}
    # the --wk-* theme set on the element does
    publish = page.get_by_role("button", name="Publish")
    assert publish.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(200, 0, 120)"
    # and nothing of the editor's gets out: the host's own .wk-button, input and h2 look as without it
    host = {
        "button": styles(page.locator("#host-button")),
        "input": styles(page.locator("#host-input")),
        "heading": styles(page.locator("#host-heading")),
    }
    outside = page.evaluate(
        "() => ({styles: document.querySelectorAll('style').length,"
        " accent: getComputedStyle(document.documentElement).getPropertyValue('--wk-accent')})"
    )
    assert outside == {"styles": 1, "accent": ""}

    page.goto(alone)
    expect(page.locator("#host-button")).to_be_visible()
    assert {
        "button": styles(page.locator("#host-button")),
        "input": styles(page.locator("#host-input")),
        "heading": styles(page.locator("#host-heading")),
    } == host
    assert host["button"]["border-top-width"] == "5px" and host["button"]["border-top-left-radius"] == "0px"


def test_the_keyboard_and_the_menus_work_inside_the_shadow_root(
    page: Page, api: Server, site: tuple[str, Path]
) -> None:
    workflow_id = create(api, "Keys and menus")
    url = host_page(site, "keys.html", api, api.token(), workflow_id, body='<input id="host-input">')
    open_page(page, url, "Keys and menus")
    host_heading = page.get_by_role("heading", name="Host product settings")

    # the "+" menu: clicks inside it (its search box) keep it open, a click on the host page closes it
    page.get_by_role("button", name="Add a step after the trigger", exact=True).click()
    menu = page.get_by_role("dialog", name=re.compile(r"^Add a step"))
    menu.get_by_role("combobox", name="Search steps").click()
    expect(menu).to_be_visible()
    host_heading.click()
    expect(menu).to_have_count(0)
    add_step(page, "Add a step after the trigger", "Greet someone")
    expect(node(page, "Greet someone")).to_be_visible()

    # the problem list: the same
    page.get_by_test_id("problem-count").click()
    problems = page.get_by_role("dialog", name="Problems")
    problems.locator(".wk-help").click()
    expect(problems).to_be_visible()
    host_heading.click()
    expect(problems).to_have_count(0)

    # Ctrl+S saves when the focus is in the editor, not when it is in the host's own input
    page.get_by_label("Workflow name").fill("Saved with the keyboard")
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    assert stored(api, workflow_id)["name"] == "Saved with the keyboard"
    assert [a["kind"] for a in stored(api, workflow_id)["draft"]["actions"]] == ["greet"]

    page.get_by_label("Workflow name").fill("Not saved by the host's keys")
    page.evaluate(
        "() => window.addEventListener('keydown', e => { if (e.key === 's') window.hostSaw = e.defaultPrevented })"
    )
    page.locator("#host-input").focus()
    page.keyboard.press("Control+s")
    assert page.evaluate("() => window.hostSaw") is False  # the host's Ctrl+S is its own
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()
    assert stored(api, workflow_id)["name"] == "Saved with the keyboard"


def test_the_canvas_the_json_editor_and_the_date_picker_work_inside_the_shadow_root(
    page: Page, api: Server, site: tuple[str, Path]
) -> None:
    workflow_id = create(api, "Widgets")
    open_page(page, host_page(site, "widgets.html", api, api.token(), workflow_id), "Widgets")

    # CodeMirror mounts its styles in the shadow root and checks the JSON as it is typed
    add_step(page, "Add a step after the trigger", "Send an event")
    data = page.get_by_role("textbox", name="Data (JSON)")
    data.click()
    page.keyboard.press("Control+a")
    page.keyboard.type('{"plan": ')
    expect(page.locator('[data-field="data"]').get_by_role("status")).to_contain_text("Not valid JSON yet")
    page.keyboard.type('"pro"}')
    expect(page.locator('[data-field="data"]').get_by_role("status")).to_have_count(0)
    assert page.locator(".cm-editor").evaluate("e => getComputedStyle(e).display") == "flex"

    # the date picker opens, is styled, and picks
    add_step(page, "Add a step after Send an event", "Sleep until")
    until = page.locator('[data-field="until"]')
    until.get_by_role("textbox").click()
    calendar = page.locator(".react-datepicker")
    expect(calendar).to_be_visible()
    assert calendar.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    calendar.locator(".react-datepicker__day:not(.react-datepicker__day--outside-month)").filter(
        has_text="15"
    ).first.click()
    calendar.locator(".react-datepicker__time-list-item").filter(has_text="09:30").click()
    expect(until.get_by_role("textbox")).to_have_value(re.compile(r"-15 09:30$"))

    # React Flow: a node drags, handles connect, Delete on a focused node deletes it
    sleep = node(page, "Sleep until")
    before = sleep.bounding_box()
    assert before
    page.mouse.move(before["x"] + 40, before["y"] + 12)
    page.mouse.down()
    page.mouse.move(before["x"] + 160, before["y"] + 52, steps=8)
    page.mouse.up()
    after = sleep.bounding_box()
    assert after and after["x"] > before["x"] + 60, (before, after)
    sleep.focus()
    page.keyboard.press("Delete")
    expect(sleep).to_have_count(0)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})  # nothing selected
    page.locator('[data-kind="log"]').click()  # added unconnected
    edges = page.locator(".react-flow__edge")
    expect(edges).to_have_count(1)
    wait_still(page, node(page, "Send an event"), node(page, "Log a message"))  # the view moves to the new node
    drag_between(
        page,
        node(page, "Send an event").locator(".react-flow__handle-bottom"),
        node(page, "Log a message").locator(".react-flow__handle-top"),
    )
    expect(edges).to_have_count(2)
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    draft = stored(api, workflow_id)["draft"]
    assert sorted(a["kind"] for a in draft["actions"]) == ["builtin:send_event", "log"]
    assert len(draft["edges"]) == 2


def expiring_token(ttl: int = 3) -> str:
    """A token that expires within `ttl` seconds (its expiry is a whole second)."""
    from workflow_kit import WorkflowKit

    return WorkflowKit(secret=SECRET).editor_token("acme", "ann", ttl=ttl)


def wait_until_refused(server: Server, token: str, within: float = 10) -> None:
    """Ask the API with `token` until it answers 401: the token has expired by the server's clock."""
    deadline = time.monotonic() + within
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=5) as client:
        while client.get("/api/actions").status_code != 401:
            assert time.monotonic() < deadline, f"the token was still accepted after {within} s"
            time.sleep(0.1)


def unsaved(page: Page) -> Locator:
    return page.get_by_role("status").filter(has_text="Unsaved changes")


def test_a_new_token_keeps_the_unsaved_draft(page: Page, api: Server, site: tuple[str, Path]) -> None:
    workflow_id = create(api, "Long edit")
    old = expiring_token()
    open_page(page, host_page(site, "token.html", api, old, workflow_id), "Long edit")
    page.get_by_label("Workflow name").fill("Draft kept across tokens")
    expect(unsaved(page)).to_be_visible()

    fresh = api.token()
    page.locator("workflow-editor").evaluate("(e, token) => e.setAttribute('token', token)", fresh)
    expect(page.get_by_label("Workflow name")).to_have_value("Draft kept across tokens")  # not remounted
    expect(unsaved(page)).to_be_visible()
    wait_until_refused(api, old)
    page.get_by_role("button", name="Save").click()  # with the new token: the old one is refused now
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    assert stored(api, workflow_id)["name"] == "Draft kept across tokens"

    # the property does the same
    page.get_by_label("Workflow name").fill("Kept again")
    page.locator("workflow-editor").evaluate("(e, token) => { e.token = token }", api.token())
    expect(page.get_by_label("Workflow name")).to_have_value("Kept again")
    expect(unsaved(page)).to_be_visible()


def test_an_expired_token_is_replaced_by_the_token_provider(page: Page, api: Server, site: tuple[str, Path]) -> None:
    workflow_id = create(api, "Refreshed")
    old, fresh = expiring_token(), api.token()
    # the host sets the provider before the element's script has loaded (a property to take over)
    provider = (
        "window.asked = 0; window.expired = 0;"
        "document.addEventListener('token-expired', () => { window.expired += 1 });"
        "document.querySelector('workflow-editor').tokenProvider ="
        f" async () => {{ window.asked += 1; return {fresh!r}; }};"
    )
    open_page(page, host_page(site, "provider.html", api, old, workflow_id, before=provider), "Refreshed")
    page.get_by_label("Workflow name").fill("Saved after a refresh")
    wait_until_refused(api, old)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    assert stored(api, workflow_id)["name"] == "Saved after a refresh"
    editor = page.locator("workflow-editor")
    assert page.evaluate("() => [window.asked, window.expired]") == [1, 0]
    assert editor.evaluate("e => e.token") == fresh


def test_without_a_provider_the_host_is_told_and_the_user_can_try_again(
    page: Page, api: Server, site: tuple[str, Path]
) -> None:
    workflow_id = create(api, "Reported")
    old = expiring_token()
    listen = (
        "window.expired = [];"
        "document.addEventListener('token-expired', e => window.expired.push([e.composed, e.detail.message]));"
    )
    open_page(page, host_page(site, "expired.html", api, old, workflow_id, before=listen), "Reported")
    page.get_by_label("Workflow name").fill("Saved after the host's new token")
    wait_until_refused(api, old)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Your editing session has expired or is not valid")
    [[composed, message]] = page.evaluate("() => window.expired")
    assert composed is True and message.startswith("Your editing session has expired")
    expect(page.get_by_label("Workflow name")).to_have_value("Saved after the host's new token")

    # what a host does on token-expired: give the element a new token; the next save works
    page.locator("workflow-editor").evaluate("(e, token) => { e.token = token }", api.token())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    assert stored(api, workflow_id)["name"] == "Saved after the host's new token"


def test_a_page_on_an_origin_the_server_does_not_allow_is_told_how_to_allow_it(
    page: Page, server: Server, site: tuple[str, Path]
) -> None:
    """`server` was started without --cors-origin: the browser refuses the API's answers."""
    origin, _ = site
    url = host_page(site, "not-allowed.html", server, server.token(), "any")
    page.goto(url)
    alert = page.locator("workflow-editor").get_by_role("alert")
    expect(alert).to_contain_text(f"could not reach the API at {server.base}", timeout=15_000)
    expect(alert).to_contain_text(f"workflow-kit serve --cors-origin {origin}")


def test_the_element_talks_only_to_the_api_and_takes_the_font_from_the_theme(
    page: Page, api: Server, site: tuple[str, Path]
) -> None:
    workflow_id = create(api, "Quiet")
    theme = "workflow-editor { height: 700px; --wk-font: monospace; }"
    url = host_page(site, "quiet.html", api, api.token(), workflow_id, css=theme)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_page(page, url, "Quiet")
    add_step(page, "Add a step after the trigger", "Greet someone")
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    assert "monospace" in page.get_by_role("button", name="Auto layout").evaluate("e => getComputedStyle(e).fontFamily")
    host_font = page.get_by_role("heading", name="Host product settings").evaluate(
        "e => getComputedStyle(e).fontFamily"
    )
    assert "monospace" not in host_font
    origin, _ = site
    others = [u for u in requests if not u.startswith((origin, f"{api.base}/api/", f"{api.base}/embed/", "data:"))]
    assert others == [], others  # no other server, no font or script from elsewhere
    assert not [u for u in requests if "/api/demo/" in u]


def test_without_a_workflow_id_the_element_lists_the_workflows_and_opens_one_in_place(
    page: Page, api: Server, site: tuple[str, Path]
) -> None:
    create(api, "Listed in the host")
    url = host_page(site, "list.html", api, api.token(), None)
    page.goto(url)
    element = page.locator("workflow-editor")
    element.get_by_role("button", name="Listed in the host", exact=True).click()
    expect(element.get_by_label("Workflow name")).to_have_value("Listed in the host")
    assert page.url == url  # inside the element: the host page stays where it is


def test_a_bad_token_is_said_in_the_element(page: Page, api: Server, site: tuple[str, Path]) -> None:
    page.goto(host_page(site, "bad-token.html", api, "not-a-token", create(api, "Never shown")))
    alert = page.locator("workflow-editor").get_by_role("alert")
    expect(alert).to_contain_text(re.compile("session|token|sign", re.I), timeout=15_000)
    expect(page.get_by_label("Workflow name")).to_have_count(0)


def test_the_element_follows_a_changed_workflow_id(page: Page, api: Server, site: tuple[str, Path]) -> None:
    one, two = create(api, "Attribute one"), create(api, "Attribute two")
    open_page(page, host_page(site, "attribute.html", api, api.token(), one), "Attribute one")
    page.locator("workflow-editor").evaluate("(e, id) => e.setAttribute('workflow-id', id)", two)
    expect(page.get_by_label("Workflow name")).to_have_value("Attribute two")
