"""Helpers for the black-box acceptance tests of issue 4 (the editor API), written from the issue text."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec
from litestar.testing import TestClient

from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit

SECRET = "acceptance-secret-" + "x" * 30
SERVER_KEY = "server-key-" + "k" * 40
FLAGS: dict[str, Any] = {"fail": True, "counted": 0}


class AddInputs(msgspec.Struct):
    a: float
    b: float


class NapInputs(msgspec.Struct):
    duration: str = "1h"


def build_kit(database_url: str, secret: str | None = SECRET) -> WorkflowKit:
    kit = WorkflowKit(database_url=database_url, secret=secret)

    @kit.action(kind="add", name="Add numbers", description="Adds two numbers", icon="plus")
    def zz_private_add_handler_impl(ctx: ActionContextSync, inputs: AddInputs) -> float:
        return inputs.a + inputs.b

    @kit.action(kind="count", name="Count", description="Counts its executions")
    def zz_private_count_handler(ctx: ActionContextSync, inputs: dict[str, Any]) -> int:
        FLAGS["counted"] += 1
        return int(FLAGS["counted"])

    @kit.action(kind="flaky", name="Flaky", description="Fails while told to")
    def zz_private_flaky_handler(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        if FLAGS["fail"]:
            raise NonRetriableError("flaky step failed on purpose")
        return "recovered"

    @kit.action(kind="nap", name="Nap", description="Sleeps durably")
    async def zz_private_nap_handler(ctx: ActionContext, inputs: NapInputs) -> str:
        await ctx.step.sleep("nap", inputs.duration)
        return "rested"

    kit.migrate_sync()
    return kit


ADD_WF: dict[str, Any] = {
    "actions": [{"id": "sum", "kind": "add", "inputs": {"a": "!ref($.event.data.a)", "b": 2}}],
    "edges": [{"from": "$source", "to": "sum"}],
}


class Api:
    """A test client plus token helpers."""

    def __init__(self, client: TestClient[Any], kit: WorkflowKit) -> None:
        self.client = client
        self.kit = kit

    def h(self, tenant: str = "tenant-a", user: str = "ann", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.kit.editor_token(tenant, user, ttl=kw.pop('ttl', 600), **kw)}"}

    def server(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {SERVER_KEY}", "X-Workflow-Kit-Tenant": tenant}

    def create(
        self, tenant: str = "tenant-a", workflow: dict[str, Any] | None = None, event: str = "app/add", **extra: Any
    ) -> dict[str, Any]:
        body = {"name": extra.pop("name", "Adder"), "trigger": {"event": event}, "workflow": workflow or ADD_WF}
        body.update(extra)
        r = self.client.post("/api/workflows", json=body, headers=self.h(tenant))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def live(
        self, tenant: str = "tenant-a", workflow: dict[str, Any] | None = None, event: str = "app/add"
    ) -> dict[str, Any]:
        """A created, published and enabled workflow."""
        w = self.create(tenant, workflow, event)
        r = self.client.post(f"/api/workflows/{w['id']}/publish", headers=self.h(tenant))
        assert r.status_code in (200, 201), r.text
        r = self.client.post(f"/api/workflows/{w['id']}/enable", headers=self.h(tenant))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def send(self, tenant: str, event: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
        r = self.client.post("/api/events", json=event, headers=self.h(tenant))
        assert r.status_code in (200, 201, 202), r.text
        ids = r.json()["ids"]
        assert isinstance(ids, list)
        return ids

    def runs(self, tenant: str = "tenant-a", **params: Any) -> list[dict[str, Any]]:
        r = self.client.get("/api/runs", params=params, headers=self.h(tenant))
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    def wait_run(
        self,
        run_id: str,
        tenant: str = "tenant-a",
        until: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        done = until or (lambda run: run["status"] in ("completed", "failed", "cancelled"))
        deadline = time.monotonic() + timeout
        while True:
            r = self.client.get(f"/api/runs/{run_id}", headers=self.h(tenant))
            assert r.status_code == 200, r.text
            run = dict(r.json())
            if done(run):
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
            time.sleep(0.05)

    def runs_of(self, tenant: str, workflow_id: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            items = self.runs(tenant, workflow_id=workflow_id)
            if len(items) >= count:
                return items
            assert time.monotonic() < deadline, f"expected {count} runs of {workflow_id}, got {len(items)}"
            time.sleep(0.05)
