"""The drafting routes through a TestClient, against a local fake OpenAI-compatible server: a draft from
words (the repair loop, nothing saved), a change to a stored draft (another tenant's is a 404), the
per-tenant rate limit (429 with Retry-After), the host's opt-in to keep what was asked, and without a
provider: the feature said unavailable, the routes a 409 saying why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import SECRET
from drafting_answers import INVALID, LOOP_WORDS, REVIEW_WORDS, VALID, loop_answer, reply
from fake_openai import FakeOpenAI
from helpers import assert_error
from litestar.testing import TestClient

from editor_api import create_app
from workflow_kit import WorkflowKit
from workflow_kit.ai import LocalProvider, OpenAIProvider


@pytest.fixture
def fake(fake_model: FakeOpenAI) -> FakeOpenAI:
    return fake_model


@contextmanager
def served(database_url: str, fake: FakeOpenAI | None, **options: Any) -> Iterator[tuple[WorkflowKit, Any]]:
    from seeds.blog import register

    provider = OpenAIProvider("test-key", base_url=fake.base_url, model="test-model") if fake else LocalProvider()
    kit = WorkflowKit(database_url=database_url, secret=SECRET, ai=provider)
    register(kit)
    with TestClient(create_app(kit, **options)) as client:
        yield kit, client
    kit.close()


def headers(kit: WorkflowKit, tenant: str = "acme") -> dict[str, str]:
    return {"Authorization": f"Bearer {kit.editor_token(tenant, 'ann')}"}


@pytest.fixture
def no_database(tmp_path: Path) -> str:
    """A database URL the routes without a stored workflow never open."""
    return f"sqlite:///{tmp_path / 'unused.db'}"


def test_a_draft_from_words_is_repaired_and_not_saved(fake: FakeOpenAI, no_database: str) -> None:
    fake.script += [reply(INVALID), reply(VALID)]
    kept: list[Any] = []
    with served(no_database, fake, keep_drafts=kept.append) as (kit, client):
        assert client.get("/api/assistant", headers=headers(kit)).json() == {
            "available": True,
            "reason": None,
            "model": "test-model",
        }
        response = client.post("/api/workflows/draft-from-text", headers=headers(kit), json={"words": REVIEW_WORDS})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["problems"] == [] and body["repair_rounds"] == 1
        assert [s["action_id"] for s in body["steps"]] == ["toc", "grammar"]
        assert all(s["explanation"] for s in body["steps"])
        assert body["triggers"] == [{"event": "blog-post.updated", "if": "event.data.status == 'under review'"}]
        assert kit.validate(body["workflow"]) == []
    assert len(fake.requests) == 2
    assert not Path(no_database.removeprefix("sqlite:///")).exists()  # nothing stored
    [record] = kept  # the host opted in: it got the words and the answers
    assert record.tenant == "acme" and record.words == REVIEW_WORDS and len(record.answers) == 2


def test_a_drafted_loop_explains_the_steps_inside_it_too(fake: FakeOpenAI, no_database: str) -> None:
    fake.script.append(reply(loop_answer("!ref($.item)")))
    with served(no_database, fake) as (kit, client):
        response = client.post("/api/workflows/draft-from-text", headers=headers(kit), json={"words": LOOP_WORDS})
        assert response.status_code == 200, response.text
        body = response.json()
    assert body["problems"] == []
    assert [s["action_id"] for s in body["steps"]] == ["each", "toc", "done"]  # the loop's step after the loop
    assert body["workflow"]["actions"][0]["body"]["actions"][0]["id"] == "toc"


def test_a_change_is_drafted_from_the_stored_draft_of_this_tenant_only(fake: FakeOpenAI, database_url: str) -> None:
    with served(database_url, fake) as (kit, client):
        created = client.post(
            "/api/workflows",
            headers=headers(kit),
            json={
                "name": "Review",
                "trigger": {"event": "blog-post.updated"},
                "workflow": {
                    "actions": [{"id": "toc", "kind": "add_toc", "inputs": {"post_id": "!ref($.event.data.id)"}}],
                    "edges": [{"from": "$source", "to": "toc"}],
                },
            },
        )
        assert created.status_code == 201, created.text
        workflow_id = created.json()["id"]
        other = client.post(
            f"/api/workflows/{workflow_id}/draft-change", headers=headers(kit, "globex"), json={"words": "add grammar"}
        )
        assert_error(other, 404, "not_found")
        assert fake.requests == []
        fake.script.append(reply(VALID))
        response = client.post(
            f"/api/workflows/{workflow_id}/draft-change", headers=headers(kit), json={"words": "then fix the grammar"}
        )
        assert response.status_code == 200, response.text
        assert [a["id"] for a in response.json()["workflow"]["actions"]] == ["toc", "grammar"]
        assert '"id": "toc"' in fake.requests[0]["body"]["messages"][1]["content"]
        stored = client.get(f"/api/workflows/{workflow_id}", headers=headers(kit)).json()
        assert [a["id"] for a in stored["draft"]["actions"]] == ["toc"]  # not saved


def test_each_tenant_has_a_rate_limit(fake: FakeOpenAI, no_database: str) -> None:
    fake.script += [reply(VALID)] * 3
    with served(no_database, fake, drafts_per_minute=2) as (kit, client):
        ask = {"words": REVIEW_WORDS}
        for _ in range(2):
            assert client.post("/api/workflows/draft-from-text", headers=headers(kit), json=ask).status_code == 200
        refused = client.post("/api/workflows/draft-from-text", headers=headers(kit), json=ask)
        assert_error(refused, 429, "too_many_requests")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        other = client.post("/api/workflows/draft-from-text", headers=headers(kit, "globex"), json=ask)
        assert other.status_code == 200, other.text
    assert len(fake.requests) == 3


def test_without_a_provider_the_feature_is_unavailable_and_says_why(no_database: str) -> None:
    with served(no_database, None) as (kit, client):
        status = client.get("/api/assistant", headers=headers(kit)).json()
        assert status["available"] is False and "OPENAI_API_KEY" in status["reason"]
        refused = client.post("/api/workflows/draft-from-text", headers=headers(kit), json={"words": REVIEW_WORDS})
        body = assert_error(refused, 409, "ai_not_configured")
        assert "OPENAI_API_KEY" in body["message"]


def test_words_are_required(fake: FakeOpenAI, no_database: str) -> None:
    with served(no_database, fake) as (kit, client):
        assert_error(
            client.post("/api/workflows/draft-from-text", headers=headers(kit), json={"words": ""}), 400, "bad_request"
        )
        assert_error(
            client.post("/api/workflows/draft-from-text", headers=headers(kit), json={"words": "   "}),
            400,
            "bad_request",
        )
    assert fake.requests == []
