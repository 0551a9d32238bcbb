"""``GET /api/templates`` through a TestClient: the kit's templates with their blanks, the scope the
action catalog needs, no token no templates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SECRET
from helpers import assert_error
from litestar.testing import TestClient

from editor_api import create_app
from workflow_kit import WorkflowKit


@pytest.fixture(scope="module")
def demo_kit() -> WorkflowKit:
    from seeds.blog import register

    kit = WorkflowKit(secret=SECRET)
    register(kit)
    return kit


@pytest.fixture(scope="module")
def client(demo_kit: WorkflowKit) -> Iterator[Any]:
    with TestClient(create_app(demo_kit)) as client:
        yield client


def headers(kit: WorkflowKit, **options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {kit.editor_token('acme', 'ann', **options)}"}


def test_the_templates_are_listed_with_their_blanks(demo_kit: WorkflowKit, client: Any) -> None:
    response = client.get("/api/templates", headers=headers(demo_kit))
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [t["id"] for t in listed] == [t.id for t in demo_kit.templates]
    weekly = next(t for t in listed if t["id"] == "blog.weekly-refresh")
    assert weekly["trigger"] == {"cron": "0 9 * * 1"}
    assert [(b["action_id"], b["input"]) for b in weekly["blanks"]] == [("toc", "post_id"), ("approval", "timeout")]
    assert all(
        set(t) == {"id", "name", "description", "tags", "trigger", "settings", "workflow", "blanks"} for t in listed
    )


def test_the_templates_need_the_catalog_scope(demo_kit: WorkflowKit, client: Any) -> None:
    assert_error(client.get("/api/templates"), 401, "unauthorized")
    refused = client.get("/api/templates", headers=headers(demo_kit, scopes=["events:write"]))
    assert refused.status_code == 401, refused.text
