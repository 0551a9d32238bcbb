"""Serving the Inngest backend's functions: the Litestar adapter hands requests to the SDK's own handler
unchanged (inspection, signature checks), as the SDK's FastAPI integration does."""

from __future__ import annotations

from typing import Any

import httpx
import inngest
import pytest
from fastapi import FastAPI
from litestar import Litestar

from workflow_kit import WorkflowKit
from workflow_kit.inngest import InngestBackend, MemoryWorkflows, inngest_router, serve_fastapi

SIGNING_KEY = "signkey-prod-" + "ab" * 32


def app_for(client: inngest.Inngest, framework: str) -> Any:
    backend = InngestBackend(WorkflowKit(), client, workflows=MemoryWorkflows())
    backend.dedicate("acme", "welcome", {"concurrency": [{"limit": 1}]})
    if framework == "litestar":
        return Litestar(route_handlers=[inngest_router(backend)], openapi_config=None)
    app = FastAPI()
    serve_fastapi(app, backend)
    return app


@pytest.mark.parametrize("framework", ["litestar", "fastapi"])
async def test_the_endpoint_answers_inngests_inspection(framework: str) -> None:
    client = inngest.Inngest(app_id="wk-serve", is_production=False)
    transport = httpx.ASGITransport(app=app_for(client, framework))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        answer = await http.get("/api/inngest")
    assert answer.status_code == 200
    assert answer.json()["function_count"] == 2
    assert answer.headers["x-inngest-sdk"].startswith("inngest-py:")


@pytest.mark.parametrize("framework", ["litestar", "fastapi"])
async def test_an_unsigned_call_is_refused_in_production(framework: str) -> None:
    client = inngest.Inngest(app_id="wk-serve", is_production=True, signing_key=SIGNING_KEY, event_key="key")
    transport = httpx.ASGITransport(app=app_for(client, framework))
    body = {"ctx": {}, "event": {"name": "x"}, "events": [], "steps": {}, "use_api": False}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        answer = await http.post("/api/inngest", params={"fnId": "wk-serve-workflow-run", "stepId": "step"}, json=body)
    assert answer.status_code == 401
    assert SIGNING_KEY not in answer.text
