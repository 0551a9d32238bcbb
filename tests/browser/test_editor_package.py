"""The npm package @workflow-kit/editor (frontend/package.json, frontend/vite.lib.config.ts) in a real host: a
tiny Vite + React app outside the repository installs the tarball `npm pack` makes (its other packages from
npm's cache), type-checks against its declarations, builds, and in Chromium renders the component styled by
its style.css and the custom element from its ./element export, both editing through a real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from .conftest import REQUIRED, ROOT, Server, start_server, static_site, stop_server
from .ui import add_step

pytestmark = pytest.mark.browser  # make test runs these after the parallel part, alone

FRONTEND = ROOT / "frontend"
HOST_PACKAGES = ["react", "react-dom", "vite", "@vitejs/plugin-react", "typescript", "@types/react", "@types/react-dom"]

HEAD = '<meta charset="utf-8"><link rel="icon" href="data:,">'
INDEX_HTML = f"""<!doctype html><html><head>{HEAD}<title>React host</title></head>
<body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body></html>"""

MAIN_TSX = """import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { WorkflowEditor, useEditorApi, type WorkflowEditorProps } from "@workflow-kit/editor";
import "@workflow-kit/editor/style.css";

const params = new URLSearchParams(location.search);

function Host() {
  const api = useEditorApi(params.get("api") ?? "", params.get("token") ?? "");
  const props: WorkflowEditorProps = { api, workflowId: params.get("workflow") ?? undefined };
  return (
    <main>
      <h1>React host</h1>
      <div style={{ height: 720 }}><WorkflowEditor {...props} /></div>
    </main>
  );
}

createRoot(document.getElementById("root")!).render(<StrictMode><Host /></StrictMode>);
"""

ELEMENT_HTML = f"""<!doctype html><html><head>{HEAD}<title>Element host</title>
<style>workflow-editor {{ height: 700px; --wk-accent: rgb(0, 110, 90); }}
button {{ text-transform: uppercase; }}</style>
</head><body><h1>Element host</h1><workflow-editor></workflow-editor>
<script type="module" src="/src/element.ts"></script></body></html>"""

ELEMENT_TS = """import "@workflow-kit/editor/element";

const params = new URLSearchParams(location.search);
const editor = document.querySelector("workflow-editor")!;
editor.setAttribute("api-base", params.get("api") ?? "");
editor.setAttribute("workflow-id", params.get("workflow") ?? "");
editor.tokenProvider = async () => params.get("token") ?? "";  // no token attribute: the provider gives one
"""

VITE_CONFIG = """import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: { chunkSizeWarningLimit: 4000, rolldownOptions: { input: { main: "index.html", element: "element.html" } } },
});
"""

TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "lib": ["ES2022", "DOM", "DOM.Iterable"],
        "module": "ESNext",
        "moduleResolution": "bundler",
        "jsx": "react-jsx",
        "strict": True,
        "noEmit": True,
        "types": ["vite/client"],
    },
    "include": ["src"],
}


def run(command: list[str], cwd: Path, timeout: float) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def lib_is_stale() -> bool:
    """frontend/lib is missing, or older than a source (`npm run build` builds it; so does `npm pack`)."""
    built = [FRONTEND / "lib" / "index.js", FRONTEND / "lib" / "types" / "package" / "index.d.ts"]
    if not all(path.exists() for path in built):
        return True
    sources = [*FRONTEND.glob("src/**/*"), *FRONTEND.glob("vite*.ts"), *FRONTEND.glob("*.json")]
    newest = max(path.stat().st_mtime for path in sources if path.is_file())
    return newest > min(path.stat().st_mtime for path in built)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm pack` of frontend/, once per module. It packs the lib/ that `npm run build` made (built again
    here only if a source is newer), so no other test sees lib/ half rebuilt."""
    if shutil.which("npm") is None:
        if REQUIRED:
            pytest.fail("the package test needs npm")
        pytest.skip("the package test needs npm")
    if lib_is_stale():
        run(["npm", "run", "build:lib", "--silent"], FRONTEND, 240)
    out = tmp_path_factory.mktemp("pack")
    run(["npm", "pack", "--ignore-scripts", "--pack-destination", str(out), "--loglevel=error"], FRONTEND, 120)
    [found] = out.glob("*.tgz")
    return found


@pytest.fixture(scope="module")
def host_build(tmp_path_factory: pytest.TempPathFactory, tarball: Path) -> Path:
    """The React host, outside the repository: installed (the tarball, and the rest from npm's cache),
    type-checked against the package's declarations, and built by Vite; returns its dist/."""
    folder = tmp_path_factory.mktemp("react-host")
    ours = json.loads((FRONTEND / "package.json").read_text())["devDependencies"]
    versions = {name: ours[name] for name in HOST_PACKAGES}  # the same versions as the editor's own
    package = {
        "name": "react-host",
        "private": True,
        "type": "module",
        "dependencies": {
            "@workflow-kit/editor": f"file:{tarball}",
            "react": versions["react"],
            "react-dom": versions["react-dom"],
        },
        "devDependencies": {name: versions[name] for name in HOST_PACKAGES if not name.startswith("react")},
    }
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    (folder / "tsconfig.json").write_text(json.dumps(TSCONFIG, indent=2))
    (folder / "vite.config.ts").write_text(VITE_CONFIG)
    (folder / "index.html").write_text(INDEX_HTML)
    (folder / "element.html").write_text(ELEMENT_HTML)
    (folder / "src").mkdir()
    (folder / "src" / "main.tsx").write_text(MAIN_TSX)
    (folder / "src" / "element.ts").write_text(ELEMENT_TS)
    run(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], folder, 300)
    run(["npx", "--no-install", "tsc", "-p", "."], folder, 120)
    run(["npx", "--no-install", "vite", "build", "--logLevel", "warn"], folder, 120)
    return folder / "dist"


@pytest.fixture(scope="module")
def host(host_build: Path) -> Iterator[str]:
    """The built host, served on 127.0.0.1: its origin."""
    with static_site(host_build) as origin:
        yield origin


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, host: str) -> Iterator[Server]:
    found = start_server(tmp_path_factory.mktemp("api"), cors=[host])
    yield found
    stop_server(found)


def create(server: Server, name: str) -> str:
    with server.api() as client:
        response = client.post(
            "/api/workflows",
            json={"name": name, "trigger": {"event": "app/hosted"}, "workflow": {"actions": [], "edges": []}},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def stored(server: Server, workflow_id: str) -> dict[str, Any]:
    with server.api() as client:
        found: dict[str, Any] = client.get(f"/api/workflows/{workflow_id}").json()
    return found


def test_the_tarball_holds_the_builds_and_leaves_react_to_the_host(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.loads(archive.extractfile("package/package.json").read())  # type: ignore[union-attr]
        code = {
            name: archive.extractfile(name).read().decode()  # type: ignore[union-attr]
            for name in names
            if name.endswith(".js")
        }
    assert {"package/lib/index.js", "package/lib/element.js", "package/lib/style.css"} <= names
    assert {"package/lib/types/package/index.d.ts", "package/lib/types/package/element.d.ts"} <= names
    assert not any(name.startswith(("package/src/", "package/node_modules/")) for name in names)
    assert manifest["name"] == "@workflow-kit/editor" and "private" not in manifest
    assert set(manifest["exports"]) == {".", "./element", "./style.css", "./package.json"}
    assert set(manifest["peerDependencies"]) == {"react", "react-dom"}
    assert "react" not in manifest["dependencies"] and "@xyflow/react" in manifest["dependencies"]
    for name, text in code.items():
        assert "require(" not in text, name  # no CommonJS shim: the host's bundler resolves the dependencies
        assert "__SECRET_INTERNALS" not in text and "react-dom.production" not in text, name  # React is not in it
    assert re.search(r'from\s*"react"', code["package/lib/element.js"])


def test_a_vite_react_host_renders_the_component_styled_and_edits_through_it(
    page: Page, host: str, api: Server
) -> None:
    workflow_id = create(api, "From the package")
    query = urlencode({"api": api.base, "token": api.token(), "workflow": workflow_id})
    page.goto(f"{host}/index.html?{query}")
    expect(page.get_by_label("Workflow name")).to_have_value("From the package", timeout=15_000)
    # styled by the package's style.css: what only the editor's CSS (and React Flow's in it) gives
    assert page.locator(".wk-root").evaluate("e => getComputedStyle(e).display") == "flex"
    publish = page.get_by_role("button", name="Publish")
    assert publish.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(79, 70, 229)"  # --wk-accent
    assert page.locator(".react-flow__pane").evaluate("e => getComputedStyle(e).position") == "absolute"

    page.get_by_label("Workflow name").fill("Edited in the React host")
    add_step(page, "Add a step after the trigger", "Greet someone")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Saved"))).to_be_visible()
    record = stored(api, workflow_id)
    assert record["name"] == "Edited in the React host"
    assert [a["kind"] for a in record["draft"]["actions"]] == ["greet"]
    expect(page).to_have_title("React host")  # an embedded editor leaves the host's title alone
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_the_element_export_works_in_a_bundled_host(page: Page, host: str, api: Server) -> None:
    workflow_id = create(api, "Element from the package")
    query = urlencode({"api": api.base, "token": api.token(), "workflow": workflow_id})
    page.goto(f"{host}/element.html?{query}")
    expect(page.get_by_label("Workflow name")).to_have_value("Element from the package", timeout=15_000)
    assert page.locator("workflow-editor").evaluate("e => e.shadowRoot?.mode") == "open"
    save = page.get_by_role("button", name="Save")
    assert save.evaluate("e => getComputedStyle(e).textTransform") == "none"  # the host's button CSS stays out
    publish = page.get_by_role("button", name="Publish")
    assert publish.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 110, 90)"
    page.get_by_label("Workflow name").fill("Edited in the element")
    page.keyboard.press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_have_count(0)
    assert stored(api, workflow_id)["name"] == "Edited in the element"
