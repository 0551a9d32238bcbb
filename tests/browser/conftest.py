"""Browser tests: Debian's Chromium, driven by Playwright, against a real `workflow-kit serve` on 127.0.0.1.

They need the built frontend (frontend/dist) and Chromium on the PATH (`chromium`); `make test` provides both and sets
WORKFLOW_KIT_REQUIRE_BROWSER=1, so there they fail rather than skip when something is missing.
A failed test leaves a screenshot of its page in test-artifacts/; with WORKFLOW_KIT_SCREENSHOTS=1 (`make
screenshots`) every test does, and each screen a test names (`ui.screenshots`) is kept at 1280x800 and
1920x1080, to be looked at. Assertions wait up to `EXPECT_TIMEOUT_MS` for the page (a loaded machine is
not a failure).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts"
SECRET = "browser-test-secret-AJfhq04HGI4yDDcEWBEQdTzpqeMcgS93"  # random: a weak one is refused
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
REQUIRED = os.environ.get("WORKFLOW_KIT_REQUIRE_BROWSER") == "1"
SCREENSHOTS = os.environ.get("WORKFLOW_KIT_SCREENSHOTS") == "1"
EXPECT_TIMEOUT_MS = 15_000

APP = """
from typing import Annotated, Any
import msgspec
from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit()


class Greet(msgspec.Struct):
    name: str
    greeting: str = "Hello"


class Greeting(msgspec.Struct):
    text: str
    length: int


@kit.action(kind="greet", name="Greet someone", description="Builds a greeting", icon="plus", side_effects=False)
def greet(ctx: ActionContextSync, inputs: Greet) -> Greeting:
    text = f"{inputs.greeting}, {inputs.name}!"
    return Greeting(text=text, length=len(text))


@kit.action(kind="log", name="Log a message", description="Writes a line", icon="list", side_effects=False)
def log(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
    return inputs


class Odd(msgspec.Struct):
    # a number asking for a text area: no widget of the form library fits it, so its form fails to draw
    count: Annotated[int, msgspec.Meta(extra_json_schema={"x-widget": "textarea"})] = 1


@kit.action(kind="odd_form", name="Odd form", description="A field no widget fits", side_effects=False)
def odd_form(ctx: ActionContextSync, inputs: Odd) -> dict[str, Any]:
    return {"count": inputs.count}
"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or (shutil.which("chromium-browser"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Marks a test whose body failed (`failed_call`), for the `page` fixture's screenshot, and adds what
    its page showed then (its address and accessibility tree) to the failure's report: a failure in CI
    leaves no screenshot behind, so the log says what was on the screen."""
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True  # type: ignore[attr-defined]
        page = getattr(item, "funcargs", {}).get("page")
        if page is not None:
            report.sections.append(("what the page showed", page_state(page)))
    return report


def page_state(page: Any, limit: int = 8000) -> str:
    """The page's address and its accessibility tree (cut at `limit` characters), or why neither could be read."""
    try:
        tree = str(page.locator("body").aria_snapshot(timeout=5000))
        address = str(page.url)
    except Exception as error:  # the page may be gone: the report must not fail for it
        return f"(not readable: {error})"
    return f"{address}\n{tree[:limit]}{' …' if len(tree) > limit else ''}"


@pytest.fixture(scope="session", autouse=True)
def _browser_prerequisites() -> None:
    missing = []
    if not (DIST / "index.html").exists():
        missing.append("the built frontend (cd frontend && npm ci && npm run build)")
    if chromium_path() is None:
        missing.append("Chromium (Debian's chromium package)")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


@dataclass(frozen=True)
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    tenant: str = "acme"
    """The tenant a test module works in when it names none: the shared servers give each module its own."""

    def token(self, tenant: str | None = None, user: str = "ann") -> str:
        from workflow_kit import WorkflowKit

        return WorkflowKit(secret=SECRET).editor_token(tenant or self.tenant, user)

    def api(self, tenant: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token(tenant)}"}, timeout=10)

    def for_tenant(self, tenant: str) -> Server:
        return dataclasses.replace(self, tenant=tenant)


def start_server(
    tmp: Path,
    cors: list[str] | None = None,
    app: str = "browser_app:kit",
    seed: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """`workflow-kit serve` of `app` (by default the small app above) on a new SQLite database in `tmp`;
    `seed` runs `workflow-kit seed` first (the demo's posts and workflows, for `seeds.app:kit`). The kits
    of tests/apps are there too, as `apps.<module>:kit`. `extra_env` is set last (e.g. an AI provider)."""
    (tmp / "browser_app.py").write_text(APP)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT), str(ROOT / "tests")]),
        "WORKFLOW_KIT_SECRET": SECRET,
        "WORKFLOW_KIT_DATABASE_URL": f"sqlite:///{tmp / 'browser.db'}",
        "WORKFLOW_KIT_FRONTEND_DIR": str(DIST),
    }
    env = {k: v for k, v in env.items() if not k.startswith("OPENAI")}  # the demo's AI: its local stand-in
    env.update(extra_env or {})
    if seed:
        subprocess.run([sys.executable, "-m", "workflow_kit.cli", "seed", "--app", app], env=env, check=True, cwd=tmp)
    command = [
        sys.executable,
        "-m",
        "workflow_kit.cli",
        "serve",
        "--app",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    for origin in cors or []:
        command += ["--cors-origin", origin]
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return Server(base, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


class SharedServers:
    """The servers of the small app and of the forms app, started on first use and shared by the test
    modules of one pytest process (a server starts in about three seconds); each module works in a tenant
    of its own, so what one module creates is invisible to the others."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._started: dict[str, Server] = {}

    def get(self, app: str) -> Server:
        if app not in self._started:
            self._started[app] = start_server(self._tmp.mktemp("serve"), app=app)
        return self._started[app]

    def stop(self) -> None:
        for found in self._started.values():
            stop_server(found)


@pytest.fixture(scope="session")
def shared_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServers]:
    servers = SharedServers(tmp_path_factory)
    yield servers
    servers.stop()


def module_tenant(request: pytest.FixtureRequest) -> str:
    """A tenant named after the test module (``test_runs_view`` works in ``runs-view``)."""
    name: str = request.module.__name__
    return name.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")


@pytest.fixture(scope="module")
def server(shared_servers: SharedServers, request: pytest.FixtureRequest) -> Server:
    """`workflow-kit serve` of the small app above, in this module's own tenant."""
    return shared_servers.get("browser_app:kit").for_tenant(module_tenant(request))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The blog demo's kit (seeds.app:kit), seeded: its actions and its two workflows, for tenant "demo"."""
    found = start_server(tmp_path_factory.mktemp("demo"), app="seeds.app:kit", seed=True)
    yield found
    stop_server(found)


@pytest.fixture(scope="module")
def forms_server(shared_servers: SharedServers, request: pytest.FixtureRequest) -> Server:
    """The kit of tests/apps/forms_app.py: actions whose inputs need every kind of form field, a typed
    output, and an action that always fails; in this module's own tenant."""
    return shared_servers.get("apps.forms_app:kit").for_tenant(module_tenant(request))


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """The files in `folder` served on 127.0.0.1 (a host product's pages, on an origin of their own);
    yields the origin."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def host_page(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A host product's page on another origin, served from a temporary folder: (origin, folder)."""
    folder = tmp_path / "host"
    folder.mkdir()
    with static_site(folder) as origin:
        yield origin, folder


class BrowserSession:
    """Playwright and one Chromium for the browser tests of a pytest process: launched for the first
    browser test, kept for the next ones (a launch and its driver cost about a second of CPU), launched
    again if it went away, and closed before any test that does not use it and at the end: Playwright's
    sync API keeps an event loop running on this thread while it is open, which asyncio code and another
    Playwright in other tests cannot share.
    Each test still gets a context of its own (`page`), a fresh profile."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def browser(self) -> Any:
        if self._browser is not None and not self._browser.is_connected():
            self.close()
        if self._browser is None:
            from playwright.sync_api import expect, sync_playwright

            expect.set_options(timeout=EXPECT_TIMEOUT_MS)
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
            )
        return self._browser

    def close(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if "browser" not in getattr(item, "fixturenames", ()):
            self.close()

    def pytest_sessionfinish(self) -> None:
        self.close()


def pytest_configure(config: pytest.Config) -> None:
    # a plugin rather than this conftest's hooks: those would be called for the tests of this folder only
    config.pluginmanager.register(BrowserSession(), "workflow-kit-browser-session")


@pytest.fixture
def browser(pytestconfig: pytest.Config) -> object:
    """This process's Chromium (see `BrowserSession`)."""
    session: BrowserSession = pytestconfig.pluginmanager.get_plugin("workflow-kit-browser-session")
    return session.browser()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context per test, 1280x800; its screenshot is kept in test-artifacts/ if the test
    failed (or with WORKFLOW_KIT_SCREENSHOTS=1)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    console: list[str] = []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    page.console_errors = console  # type: ignore[attr-defined]  # tests that expect none assert on it
    yield page
    try:
        if SCREENSHOTS or getattr(request.node, "failed_call", False):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"
