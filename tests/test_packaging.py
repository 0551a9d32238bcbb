"""The package as users get it: the wheel (and the sdist) built from this checkout, installed into a fresh
virtualenv outside the repository, and `workflow-kit serve` from there serving the editor it carries.

Slow (it builds): ``make test`` runs it with the multi-process tests. The new virtualenv sees the
project's installed dependencies through a ``.pth`` file (nothing is downloaded); the package itself
comes from the wheel. The last test opens the editor in headless Chromium, as tests/browser do.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import textwrap
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SECRET = "packaging-test-secret-2cb6i_pI014my3fv5E8lMfbsOokZvVoZ"
BUILD_TIMEOUT = 600  # npm ci and npm run build, when frontend/dist is missing or stale
STEP_TIMEOUT = 120
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

KIT_MODULE = """
from typing import Any

from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit()


@kit.action(kind="shout", name="Shout")
def shout(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    return str(inputs["text"]).upper() + "!"
"""


def run(
    command: list[str], *, timeout: float = STEP_TIMEOUT, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return str(done.stdout)


def pip_wheel(source: Path, out: Path, env: dict[str, str] | None = None) -> Path:
    """`pip wheel` of `source` (a folder or an sdist) into `out`; with the project's hatchling when it is
    installed (no download), else in pip's isolated build environment."""
    isolated = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(out), *isolated]
    run([*command, "--disable-pip-version-check", "-q"], timeout=BUILD_TIMEOUT, env=env)
    [wheel] = out.glob("workflow_kit-*.whl")
    return wheel


def site_packages(prefix: Path) -> list[str]:
    """The folders a Python environment at `prefix` installs packages into (pure and platform ones)."""
    where = {"base": str(prefix), "platbase": str(prefix)}
    return sorted({sysconfig.get_path(kind, vars=where) for kind in ("purelib", "platlib")})


@dataclass
class Installed:
    wheel: Path
    venv: Path
    home: Path
    """A folder outside the repository: the server's working directory, its kit module and database."""

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from this checkout, installed (alone) into a new virtualenv in a temporary folder."""
    home = tmp_path_factory.mktemp("packaged")
    assert ROOT not in home.parents
    wheel = pip_wheel(ROOT, home / "wheelhouse")
    venv = home / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    own = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # The project's dependencies (already installed where this test runs), after the venv's own packages:
    # plain paths in a .pth file, so the .pth files there (the project's editable install) are not read.
    (own / "_project_dependencies.pth").write_text("\n".join(site_packages(Path(sys.prefix))) + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index"]
    run([*pip, "--disable-pip-version-check", "-q", str(wheel)])
    return Installed(wheel=wheel, venv=venv, home=home)


@dataclass
class Served:
    base: str
    log: Path

    def headers(self, tenant: str = "acme") -> dict[str, str]:
        from workflow_kit import WorkflowKit

        return {"Authorization": f"Bearer {WorkflowKit(secret=SECRET).editor_token(tenant, 'ann')}"}


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[Served]:
    """`workflow-kit serve` of the installed package, from a folder outside the repository."""
    (installed.home / "mykit.py").write_text(textwrap.dedent(KIT_MODULE))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKFLOW_KIT_", "OPENAI_", "PYTHON"))}
    env["WORKFLOW_KIT_SECRET"] = SECRET
    env["WORKFLOW_KIT_DATABASE_URL"] = f"sqlite:///{installed.home / 'served.db'}"
    port = free_port()
    command = [str(installed.venv / "bin" / "workflow-kit"), "serve", "--app", "mykit:kit", "--host", "127.0.0.1"]
    log = installed.home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=installed.home, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the server did not come up:\n{log.read_text()}"
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield Served(base=base, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_the_wheel_carries_the_editor_the_types_and_the_migrations(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert "editor_api/static/index.html" in names
    assert any(re.fullmatch(r"editor_api/static/assets/index-[\w-]+\.js", n) for n in names), sorted(names)
    assert any(re.fullmatch(r"editor_api/static/assets/index-[\w-]+\.css", n) for n in names), sorted(names)
    assert "editor_api/static/embed/workflow-editor.js" in names
    assert {"workflow_kit/py.typed", "editor_api/py.typed"} <= names
    assert "workflow_kit/runtime/migrations/env.py" in names
    migrations = {n for n in names if re.fullmatch(r"workflow_kit/runtime/migrations/versions/\d{4}_\w+\.py", n)}
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "workflow_kit/runtime/migrations/versions").glob("*.py")}
    assert migrations == on_disk
    assert not any(n.startswith(("frontend/", "tests/", "seeds/")) or "node_modules" in n for n in names)


def test_a_wheel_built_from_the_sdist_needs_no_npm(installed: Installed, tmp_path: Path) -> None:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("building the sdist offline needs hatchling (the dev extra)")
    run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)], cwd=ROOT)
    [sdist] = tmp_path.glob("workflow_kit-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"frontend/package.json", "frontend/package-lock.json", "frontend/index.html", "hatch_build.py"} <= names
    assert "frontend/src/main.tsx" in names and "frontend/dist/index.html" in names
    assert not any("node_modules" in name for name in names)
    no_npm = tmp_path / "bin"
    no_npm.mkdir()
    wheel = pip_wheel(sdist, tmp_path / "wheelhouse", env={**os.environ, "PATH": str(no_npm)})
    editor = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("editor_api/static/")}
    assert editor == {n for n in zipfile.ZipFile(installed.wheel).namelist() if n.startswith("editor_api/static/")}


def test_the_new_virtualenv_imports_the_installed_package(installed: Installed) -> None:
    code = "import workflow_kit, editor_api; print(workflow_kit.__file__); print(editor_api.__file__)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    found = run([str(installed.python), "-c", code], cwd=installed.home, env=env).split()
    for path in map(Path, found):
        assert installed.venv in path.parents, found
        assert ROOT not in path.parents, found


def test_serve_from_the_installed_package_serves_the_editor(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "not built" not in page.text and '<div id="root">' in page.text
        assets = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', page.text)
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), page.text
        for asset in assets:
            loaded = client.get(f"/{asset}")
            assert loaded.status_code == 200 and loaded.content, asset
            kind = "javascript" if asset.endswith(".js") else "css"
            assert kind in loaded.headers["content-type"], (asset, loaded.headers["content-type"])
        embed = client.get("/embed/workflow-editor.js")
        assert embed.status_code == 200 and "javascript" in embed.headers["content-type"] and len(embed.content) > 1000


def test_the_installed_server_runs_workflows(served: Served) -> None:
    definition = {
        "actions": [{"id": "loud", "kind": "shout", "inputs": {"text": "!ref($.event.data.text)"}}],
        "edges": [{"from": "$source", "to": "loud"}],
    }
    with httpx.Client(base_url=served.base, headers=served.headers(), timeout=10) as client:
        body = {"name": "Shouter", "trigger": {"event": "app/said"}, "workflow": definition, "publish": True}
        created = client.post("/api/workflows", json={**body, "enabled": True})
        assert created.status_code == 201, created.text
        [event_id] = client.post("/api/events", json={"name": "app/said", "data": {"text": "hi"}}).json()["ids"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = client.get("/api/runs", params={"event_id": event_id}).json()["items"]
            if runs and runs[0]["status"] == "completed":
                break
            time.sleep(0.1)
        assert runs and runs[0]["output"] == {"loud": "HI!"}, runs


def test_the_installed_editor_opens_in_chromium(served: Served) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("WORKFLOW_KIT_REQUIRE_BROWSER") == "1":
            pytest.fail("the browser test needs Chromium (Debian's chromium package)")
        pytest.skip("no Chromium")
    from playwright.sync_api import expect, sync_playwright

    with httpx.Client(base_url=served.base, headers=served.headers("browser"), timeout=10) as client:
        body = {"name": "Installed and listed", "trigger": {"event": "app/x"}, "workflow": {"actions": []}}
        assert client.post("/api/workflows", json=body).status_code == 201
    token = served.headers("browser")["Authorization"].removeprefix("Bearer ")
    profile = tempfile.mkdtemp(prefix="wk-chromium-")
    errors: list[str] = []
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=CHROMIUM_FLAGS
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(f"{served.base}/#/?token={token}", timeout=30_000)
                expect(page.get_by_role("heading", name="Automations")).to_be_visible(timeout=30_000)
                expect(page.get_by_text("Installed and listed")).to_be_visible()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert not errors, errors
