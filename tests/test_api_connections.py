"""The connections routes of the editor API: API-key forms, the OAuth pop-up's start and callback against
a real local provider, test, rename, delete (refused while in use), scopes, and tenant isolation: every
route, called with another tenant's ids, is a 404. No answer carries a secret."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
import pytest
from conftest import SECRET, SERVER_KEY, Api, sqlite_database
from oauth_provider import Provider, running_provider

from workflow_kit import Credential, WorkflowKit
from workflow_kit.connections import connection_of
from workflow_kit.retry import RetryPolicy
from workflow_kit.secrets import new_key

ALPHA, BETA = "alpha", "beta"
MAILER_KEY = "mk-live-0a1b2c3d4e5f"


class MailerKey(msgspec.Struct):
    api_key: str
    sender: str = "news@example.com"


def check_mailer(credential: Any) -> None:
    if not credential.api_key.startswith("mk-"):
        raise ValueError("the mailer refused this key")


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def capi(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Api]:
    from litestar.testing import TestClient

    from editor_api import create_app

    if request.param == "sqlite":
        url = sqlite_database(tmp_path_factory.mktemp("capi"), request.getfixturevalue("sqlite_template"))
    else:
        url = request.getfixturevalue("api_postgres_url")
    kit = WorkflowKit(database_url=url, retry_policy=RetryPolicy.fast(), secret=SECRET, secret_keys=new_key("k1"))
    kit.connection_type("mailer", name="Mailer", schema=MailerKey, secret_fields=["api_key"], test=check_mailer)
    kit.connection_type("crm", name="Test CRM", kind="oauth2", **provider.settings())

    class MailInputs(msgspec.Struct):
        mailer: Annotated[Credential, connection_of("mailer")]
        to: str

    @kit.action(kind="send_mail", name="Send an email")
    def send_mail(ctx: Any, inputs: MailInputs) -> str:
        return f"sent by {inputs.mailer.name}"

    app = create_app(kit, server_keys=[SERVER_KEY], run_worker=False)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield Api(kit, client)
    kit.close()


@pytest.fixture
def api(capi: Api) -> Iterator[Api]:
    capi.kit.db.truncate_all()
    yield capi


def mail_workflow(connection_id: str) -> dict[str, Any]:
    return {
        "actions": [{"id": "mail", "kind": "send_mail", "inputs": {"mailer": connection_id, "to": "a@example.com"}}],
        "edges": [{"from": "$source", "to": "mail"}],
    }


def create_mailer(api: Api, tenant: str = ALPHA, key: str = MAILER_KEY, name: str = "Newsletter") -> dict[str, Any]:
    response = api.client.post(
        "/api/connections",
        json={"type": "mailer", "name": name, "fields": {"api_key": key}},
        headers=api.headers(tenant),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def connect_crm(api: Api, provider: Provider, tenant: str = ALPHA) -> tuple[dict[str, Any], str]:
    response = api.client.post("/api/connections/oauth/start", json={"type": "crm"}, headers=api.headers(tenant))
    assert response.status_code == 200, response.text
    url = response.json()["authorize_url"]
    assert url.startswith(provider.authorize_url) and "code_challenge=" in url
    back = provider.approve(url)
    page = api.client.get("/api/connections/oauth/callback", params=back)
    assert page.status_code == 200, page.text
    [connection] = [
        c for c in api.client.get("/api/connections", headers=api.headers(tenant)).json() if c["type"] == "crm"
    ]
    return connection, page.text


def test_an_api_key_connection_from_create_to_delete(api: Api) -> None:
    headers = api.headers(ALPHA)
    types = api.client.get("/api/connection-types", headers=headers).json()
    assert [(t["type"], t["kind"]) for t in types] == [("mailer", "api_key"), ("crm", "oauth2")]
    assert types[0]["schema"]["properties"]["api_key"]["x-secret"] is True
    created = create_mailer(api)
    assert set(created) == {"id", "type", "name", "status", "expires_at", "created_at", "updated_at"}
    listed = api.client.get("/api/connections", params={"type": "mailer"}, headers=headers).json()
    assert [c["id"] for c in listed] == [created["id"]]
    assert api.client.get("/api/connections", params={"type": "crm"}, headers=headers).json() == []
    renamed = api.client.patch(f"/api/connections/{created['id']}", json={"name": "Weekly"}, headers=headers)
    assert renamed.json()["name"] == "Weekly"
    tested = api.client.post(f"/api/connections/{created['id']}/test", headers=headers).json()
    assert tested["ok"] is True
    bad = create_mailer(api, key="xx-wrong-key-123", name="Wrong")
    failed = api.client.post(f"/api/connections/{bad['id']}/test", headers=headers).json()
    assert failed["ok"] is False and "refused this key" in failed["message"] and "xx-wrong" not in failed["message"]
    assert api.client.delete(f"/api/connections/{created['id']}", headers=headers).status_code == 204
    assert api.client.get(f"/api/connections/{created['id']}", headers=headers).status_code == 404


def test_a_form_that_does_not_fit_is_a_400_with_its_path(api: Api) -> None:
    response = api.client.post(
        "/api/connections", json={"type": "mailer", "name": "N", "fields": {"api_key": 3}}, headers=api.headers(ALPHA)
    )
    assert response.status_code == 400 and "fields.api_key" in response.json()["message"]
    unknown = api.client.post(
        "/api/connections", json={"type": "nope", "name": "N", "fields": {}}, headers=api.headers(ALPHA)
    )
    assert unknown.status_code == 404


def test_the_oauth_pop_up_connects_and_tells_its_opener(api: Api, provider: Provider) -> None:
    connection, page = connect_crm(api, provider)
    assert connection["name"] == "Test CRM" and connection["status"] == "ok" and connection["expires_at"]
    assert "workflow-kit:connection" in page and connection["id"] in page and "window.close()" in page
    for secret in provider.secrets():
        assert secret not in page
    again = api.client.get("/api/connections/oauth/callback", params={"state": "gone", "code": "x"})
    assert again.status_code == 404 and "expired or was already used" in again.text
    denied = api.client.get("/api/connections/oauth/callback", params={"state": "s", "error": "access_denied"})
    assert denied.status_code == 400 and "access was not allowed" in denied.text
    reconnect = api.client.post(f"/api/connections/{connection['id']}/reconnect", headers=api.headers(ALPHA))
    back = provider.approve(reconnect.json()["authorize_url"])
    assert api.client.get("/api/connections/oauth/callback", params=back).status_code == 200
    assert [c["id"] for c in api.client.get("/api/connections", headers=api.headers(ALPHA)).json()] == [
        connection["id"]
    ]


def test_a_connection_a_published_workflow_uses_is_not_deleted(api: Api) -> None:
    headers = api.headers(ALPHA)
    created = create_mailer(api)
    body = {
        "name": "Weekly mail",
        "trigger": {"event": "app/mail"},
        "workflow": mail_workflow(created["id"]),
        "publish": True,
    }
    workflow = api.client.post("/api/workflows", json=body, headers=headers).json()
    response = api.client.delete(f"/api/connections/{created['id']}", headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "connection_in_use"
    assert response.json()["workflows"] == [{"id": workflow["id"], "name": "Weekly mail"}]


def test_validation_refuses_another_tenants_connection_without_a_hint(api: Api) -> None:
    theirs = create_mailer(api, BETA, name="Beta secret name")
    response = api.client.post("/api/workflows/validate", json=mail_workflow(theirs["id"]), headers=api.headers(ALPHA))
    [problem] = response.json()["problems"]
    assert (problem["code"], problem["path"]) == ("unknown_connection", "actions[0].inputs.mailer")
    assert "Beta" not in response.text
    body = {"name": "W", "trigger": {"event": "app/mail"}, "workflow": mail_workflow(theirs["id"]), "publish": True}
    refused = api.client.post("/api/workflows", json=body, headers=api.headers(ALPHA))
    assert refused.status_code == 422 and "Beta" not in refused.text


def id_routes(connection_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"/api/connections/{connection_id}", None),
        ("PATCH", f"/api/connections/{connection_id}", {"name": "Mine now"}),
        ("POST", f"/api/connections/{connection_id}/test", None),
        ("POST", f"/api/connections/{connection_id}/reconnect", None),
        ("DELETE", f"/api/connections/{connection_id}", None),
    ]


def test_another_tenant_gets_404_on_every_route_and_changes_nothing(api: Api, provider: Provider) -> None:
    mailer = create_mailer(api)
    crm, _ = connect_crm(api, provider)
    before = api.client.get("/api/connections", headers=api.headers(ALPHA)).json()
    for connection_id in (mailer["id"], crm["id"]):
        for method, path, body in id_routes(connection_id):
            for headers in (api.headers(BETA), api.server_headers(BETA)):
                response = api.client.request(method, path, json=body, headers=headers)
                assert response.status_code == 404, f"{method} {path}: {response.text}"
                assert "Newsletter" not in response.text and "Test CRM" not in response.text
    assert api.client.get("/api/connections", headers=api.headers(BETA)).json() == []
    assert api.client.get("/api/connections", headers=api.headers(ALPHA)).json() == before
    for method, path, body in id_routes(mailer["id"])[:3]:  # the owner's calls work (the control)
        assert api.client.request(method, path, json=body, headers=api.headers(ALPHA)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "scope"),
    [
        ("GET", "/api/connections", None, "connections:read"),
        ("GET", "/api/connection-types", None, "connections:read"),
        (
            "POST",
            "/api/connections",
            {"type": "mailer", "name": "N", "fields": {"api_key": MAILER_KEY}},
            "connections:write",
        ),
        ("POST", "/api/connections/oauth/start", {"type": "crm"}, "connections:write"),
        ("GET", "/api/connections/{id}", None, "connections:read"),
        ("PATCH", "/api/connections/{id}", {"name": "x"}, "connections:write"),
        ("POST", "/api/connections/{id}/test", None, "connections:read"),
        ("POST", "/api/connections/{id}/reconnect", None, "connections:write"),
        ("DELETE", "/api/connections/{id}", None, "connections:write"),
    ],
)
def test_every_route_needs_its_scope(api: Api, method: str, path: str, body: Any, scope: str) -> None:
    from workflow_kit.tokens import SCOPES

    created = create_mailer(api)
    token = api.token(ALPHA, "ann", scopes=[s for s in SCOPES if s != scope])
    response = api.client.request(
        method, path.replace("{id}", created["id"]), json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401 and scope in response.json()["message"]
    assert [c["id"] for c in api.client.get("/api/connections", headers=api.headers(ALPHA)).json()] == [created["id"]]


def test_no_answer_carries_a_secret(api: Api, provider: Provider) -> None:
    created = create_mailer(api)
    crm, page = connect_crm(api, provider)
    answers = [page]
    for path in ("/api/connections", f"/api/connections/{created['id']}", f"/api/connections/{crm['id']}"):
        answers.append(api.client.get(path, headers=api.headers(ALPHA)).text)
    answers.append(api.client.post(f"/api/connections/{crm['id']}/test", headers=api.headers(ALPHA)).text)
    text = "\n".join(answers)
    for secret in [MAILER_KEY, *provider.secrets()]:
        assert secret not in text
    assert not re.search(r"wk1\.[A-Za-z0-9_-]+\.", text)  # not even sealed
