"""`create_app(kit)` mounted in another ASGI app: a FastAPI host and a plain Starlette one, each running
the kit's worker in its own lifespan, with the editor API under ``/automations``. Everything the editor
and the host's backend use works under the prefix: the API, OpenAPI, the editor's files and the embed
script. On SQLite and PostgreSQL. And a Litestar host, which forwards the prefix with an ASGI route."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from helpers import logged
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from editor_api import create_app
from editor_api.worker_notice import NO_WORKER
from workflow_kit import ActionContextSync, WorkflowKit

SECRET = "mounting-test-secret-NO20dvq2G03tdvlO1RFUxuCM8kLYVgAZ"
PREFIX = "/automations"
SHOUT = {
    "actions": [{"id": "loud", "kind": "shout", "inputs": {"text": "!ref($.event.data.text)"}}],
    "edges": [{"from": "$source", "to": "loud"}],
}


@pytest.fixture
def kit(database_url: str) -> Iterator[WorkflowKit]:
    kit = WorkflowKit(database_url=database_url, secret=SECRET)

    @kit.action(kind="shout", name="Shout")
    def shout(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return str(inputs["text"]).upper() + "!"

    yield kit
    kit.close()


@pytest.fixture
def editor(tmp_path: Path) -> Path:
    """A stand-in for the built editor: an index.html loading a relative asset, and the embed script."""
    folder = tmp_path / "editor"
    (folder / "assets").mkdir(parents=True)
    (folder / "embed").mkdir()
    (folder / "index.html").write_text('<!doctype html><script src="./assets/app.js"></script><div id=root></div>')
    (folder / "assets" / "app.js").write_text("console.log('editor')")
    (folder / "embed" / "workflow-editor.js").write_text("customElements.define('workflow-editor', class {})")
    return folder


def worker_lifespan(kit: WorkflowKit) -> Callable[[Any], Any]:
    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        async with kit.worker(poll_ms=50):
            yield

    return lifespan


def fastapi_host(kit: WorkflowKit, editor: Path) -> FastAPI:
    host = FastAPI(lifespan=worker_lifespan(kit))

    @host.get("/")
    def home() -> dict[str, str]:
        return {"host": "fastapi"}

    host.mount(PREFIX, create_app(kit, frontend_dir=editor))
    return host


def starlette_host(kit: WorkflowKit, editor: Path) -> Starlette:
    return Starlette(routes=[Mount(PREFIX, app=create_app(kit, frontend_dir=editor))], lifespan=worker_lifespan(kit))


HOSTS = {"fastapi": fastapi_host, "starlette": starlette_host}


def headers(kit: WorkflowKit, tenant: str = "acme") -> dict[str, str]:
    return {"Authorization": f"Bearer {kit.editor_token(tenant, 'ann')}"}


def wait_for_run(client: TestClient, kit: WorkflowKit, event_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = client.get(f"{PREFIX}/api/runs", headers=headers(kit), params={"event_id": event_id}).json()["items"]
        if runs and runs[0]["status"] in ("completed", "failed", "cancelled"):
            return runs[0]
        time.sleep(0.05)
    raise AssertionError(f"the run of event {event_id} did not end: {runs}")


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_a_host_mounts_the_api_and_its_lifespan_worker_runs_the_workflows(
    kit: WorkflowKit, editor: Path, host: str
) -> None:
    app = HOSTS[host](kit, editor)
    with logged("editor_api") as messages, TestClient(app) as client:
        created = client.post(
            f"{PREFIX}/api/workflows",
            headers=headers(kit),
            json={
                "name": "Shouter",
                "trigger": {"event": "app/said"},
                "workflow": SHOUT,
                "publish": True,
                "enabled": True,
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["enabled"] is True and created.json()["published_version"] == 1
        sent = client.post(
            f"{PREFIX}/api/events", headers=headers(kit), json={"name": "app/said", "data": {"text": "hi"}}
        )
        assert sent.status_code == 202, sent.text
        [event_id] = sent.json()["ids"]
        run = wait_for_run(client, kit, event_id)
        assert run["status"] == "completed" and run["output"] == {"loud": "HI!"}, run
        assert run["workflow_id"] == created.json()["id"]
        timeline = client.get(f"{PREFIX}/api/runs/{run['id']}", headers=headers(kit)).json()
        assert [a["status"] for a in timeline["actions"]] == ["completed"]
        if host == "fastapi":
            assert client.get("/").json() == {"host": "fastapi"}  # the host's own routes are untouched
    # the host runs a worker in its lifespan: no warning that nothing would run
    assert f"WARNING {NO_WORKER}" not in messages
    assert kit.secret == SECRET


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_everything_works_under_the_prefix(kit: WorkflowKit, editor: Path, host: str) -> None:
    with TestClient(HOSTS[host](kit, editor), follow_redirects=False) as client:
        bare = client.get(PREFIX)  # the editor's relative asset URLs need the trailing slash
        assert bare.status_code in (307, 308) and bare.headers["location"].endswith(f"{PREFIX}/")
        page = client.get(f"{PREFIX}/")
        assert page.status_code == 200 and "div id=root" in page.text
        assert client.get(f"{PREFIX}/assets/app.js").text == "console.log('editor')"
        embed = client.get(f"{PREFIX}/embed/workflow-editor.js")
        assert embed.status_code == 200 and "workflow-editor" in embed.text
        assert client.get(f"{PREFIX}/api/health").json() == {"status": "ok"}
        assert client.get(f"{PREFIX}/api/workflows").status_code == 401
        assert client.get(f"{PREFIX}/api/actions", headers=headers(kit)).status_code == 200
        spec = client.get(f"{PREFIX}/schema/openapi.json")
        assert spec.status_code == 200 and "/api/workflows" in spec.json()["paths"]
        assert spec.json()["servers"] == [{"url": PREFIX}]  # its paths resolve under the prefix
        assert f"url: {PREFIX}" in client.get(f"{PREFIX}/schema/openapi.yaml").text
        docs = client.get(f"{PREFIX}/schema")
        assert docs.status_code == 200 and "workflow-kit editor API" in docs.text
        assert f'"servers":[{{"url":"{PREFIX}"}}]' in docs.text.replace(" ", "")
        assert client.get(f"{PREFIX}/schema/swagger").status_code == 200
        assert client.get("/api/health").status_code == 404  # nothing leaks out of the prefix


def test_on_its_own_the_document_names_the_root_server(kit: WorkflowKit, editor: Path) -> None:
    with TestClient(create_app(kit, frontend_dir=editor)) as client:
        assert client.get("/schema/openapi.json").json()["servers"] == [{"url": "/"}]
        assert client.get("/schema").status_code == 200 and client.get("/schema/redoc").status_code == 200


def test_without_a_built_editor_the_placeholder_links_under_the_prefix(
    kit: WorkflowKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKFLOW_KIT_FRONTEND_DIR", str(tmp_path / "nothing-built-here"))
    host = Starlette(routes=[Mount(PREFIX, app=create_app(kit))])
    with TestClient(host) as client:
        page = client.get(f"{PREFIX}/")
        assert page.status_code == 200 and "not built" in page.text
        assert "href='schema/openapi.json'" in page.text  # relative: /automations/schema/openapi.json
        assert client.get(f"{PREFIX}/schema/openapi.json").status_code == 200


def test_a_mounted_api_without_any_worker_warns_once_at_its_first_request(kit: WorkflowKit, editor: Path) -> None:
    host = FastAPI()  # no lifespan worker, no run_worker: Starlette does not run a mounted app's lifespan
    host.mount(PREFIX, create_app(kit, frontend_dir=editor))
    with logged("editor_api") as messages, TestClient(host) as client:
        assert messages == []  # nothing reached the editor API yet
        for _ in range(3):
            assert client.get(f"{PREFIX}/api/health").status_code == 200
    assert messages == [f"WARNING {NO_WORKER}"]
    assert "run_worker=True" in NO_WORKER and "kit.worker()" in NO_WORKER and "workflow-kit worker" in NO_WORKER


def test_a_litestar_host_mounts_the_api_with_an_asgi_route(kit: WorkflowKit, editor: Path) -> None:
    """Litestar has no `Mount`: a host forwards a path to the app with ``@asgi(..., is_mount=True)``."""
    from litestar import Litestar, asgi, get
    from litestar.testing import TestClient as LitestarClient
    from litestar.types import Receive, Scope, Send

    inner = create_app(kit, frontend_dir=editor)

    @asgi(PREFIX, is_mount=True, copy_scope=True)
    async def automations(scope: Scope, receive: Receive, send: Send) -> None:
        await inner(scope, receive, send)

    @get("/")
    async def home() -> str:
        return "the host's own page"

    with LitestarClient(Litestar([automations, home])) as client:
        assert client.get("/").text == "the host's own page"
        assert client.get(f"{PREFIX}/api/workflows").status_code == 401
        created = client.post(
            f"{PREFIX}/api/workflows",
            headers=headers(kit),
            json={"name": "Mounted", "trigger": {"event": "app/said"}, "workflow": SHOUT},
        )
        assert created.status_code == 201, created.text
        listed = client.get(f"{PREFIX}/api/workflows", headers=headers(kit)).json()["items"]
        assert [w["name"] for w in listed] == ["Mounted"]
        catalog = client.get(f"{PREFIX}/api/actions", headers=headers(kit)).json()
        assert {"shout", "builtin:if"} <= {a["kind"] for a in catalog}
        assert client.get(f"{PREFIX}/schema/openapi.json").json()["openapi"].startswith("3.1")
