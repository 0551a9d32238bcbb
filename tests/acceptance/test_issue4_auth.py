"""Issue 4 auth and tenants: editor tokens (expired, wrong signature, wrong tenant, missing scope, malformed:
401, nothing leaks), server keys, the signing secret, and the tenant-isolation matrix."""

from __future__ import annotations

import base64
import json
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from acceptance.issue4_support import ADD_WF, SECRET, SERVER_KEY, Api, build_kit
from editor_api import create_app
from workflow_kit import WorkflowKit


def _unauthorized(r: Any, *secrets: str) -> None:
    assert r.status_code == 401, (r.status_code, r.text)
    body = r.json()
    assert set(body) <= {"code", "message", "path"}, body
    for s in (SECRET, SERVER_KEY, "Adder", "tenant-a", *secrets):
        assert s not in r.text


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_token_round_trip_and_claims(api: Api) -> None:
    token = api.kit.editor_token("tenant-a", "ann", ttl=timedelta(minutes=5))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iss": False})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["tenant"] == "tenant-a" and "ann" in (claims.get("sub"), claims.get("user"))
    assert claims["exp"] - claims["iat"] == 300
    assert "scopes" in claims or "scope" in claims
    r = api.client.get("/api/workflows", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


def test_expired_token(api: Api) -> None:
    w = api.create()
    token = api.kit.editor_token("tenant-a", "ann", ttl=1)
    assert api.client.get("/api/workflows", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    time.sleep(1.1)
    for url in ("/api/workflows", f"/api/workflows/{w['id']}", "/api/actions"):
        _unauthorized(api.client.get(url, headers={"Authorization": f"Bearer {token}"}), w["id"])


def test_wrong_signature(api: Api, tmp_path: Path) -> None:
    w = api.create()
    other = WorkflowKit(database_url=f"sqlite:///{tmp_path / 'other.db'}", secret="another-secret-" + "y" * 40)
    forged = other.editor_token("tenant-a", "ann", ttl=600)
    _unauthorized(api.client.get(f"/api/workflows/{w['id']}", headers={"Authorization": f"Bearer {forged}"}), w["id"])
    # a real token whose payload was changed to another tenant
    head, payload, sig = api.kit.editor_token("tenant-b", "bob", ttl=600).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tenant"] = "tenant-a"
    tampered = ".".join([head, _b64(claims), sig])
    _unauthorized(api.client.get("/api/workflows", headers={"Authorization": f"Bearer {tampered}"}), w["id"])
    # the right secret but another algorithm, and no algorithm at all
    claims_a = jwt.decode(api.kit.editor_token("tenant-a", "ann", ttl=600), options={"verify_signature": False})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT: a 48-byte key is short for HS512 (not the point here)
        hs512 = jwt.encode(claims_a, SECRET, algorithm="HS512")
    _unauthorized(api.client.get("/api/workflows", headers={"Authorization": f"Bearer {hs512}"}))
    none_alg = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims_a), ""])
    _unauthorized(api.client.get("/api/workflows", headers={"Authorization": f"Bearer {none_alg}"}))


def test_wrong_tenant(api: Api) -> None:
    w = api.create("tenant-a")
    b = api.h("tenant-b", "bob")
    r = api.client.get(f"/api/workflows/{w['id']}", headers=b)
    assert r.status_code in (401, 404) and "Adder" not in r.text and "tenant-a" not in r.text
    # a token for B cannot be turned into A's by a tenant header
    r = api.client.get("/api/workflows", headers={**b, "X-Workflow-Kit-Tenant": "tenant-a"})
    assert r.status_code in (401, 403) or r.json()["items"] == []
    r = api.client.get(f"/api/workflows/{w['id']}", headers={**b, "X-Workflow-Kit-Tenant": "tenant-a"})
    assert r.status_code in (401, 403, 404) and "Adder" not in r.text
    # a signed token without a usable tenant
    claims = {
        "iss": "workflow-kit",
        "sub": "ann",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "scopes": ["workflows:read"],
    }
    for tenant in (None, "", 42, ["tenant-a"]):
        c = dict(claims) if tenant is None else {**claims, "tenant": tenant}
        token = jwt.encode(c, SECRET, algorithm="HS256")
        _unauthorized(api.client.get("/api/workflows", headers={"Authorization": f"Bearer {token}"}))


def test_missing_scope(api: Api) -> None:
    w = api.create()
    ro = api.h(scopes=["workflows:read"])
    assert api.client.get(f"/api/workflows/{w['id']}", headers=ro).status_code == 200
    _unauthorized(api.client.put(f"/api/workflows/{w['id']}", json={"name": "x"}, headers=ro))
    _unauthorized(
        api.client.post(
            "/api/workflows", json={"name": "x", "trigger": {"event": "a/b"}, "workflow": ADD_WF}, headers=ro
        )
    )
    _unauthorized(api.client.post("/api/events", json={"name": "app/add"}, headers=ro))
    _unauthorized(api.client.get("/api/runs", headers=ro))
    _unauthorized(api.client.post(f"/api/workflows/{w['id']}/test", json={}, headers=ro))
    none = api.h(scopes=[])
    _unauthorized(api.client.get("/api/workflows", headers=none))
    _unauthorized(api.client.get(f"/api/workflows/{w['id']}", headers=none), w["id"])
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.h()).json()["name"] == "Adder"


def test_malformed_tokens(api: Api) -> None:
    w = api.create()
    good = api.kit.editor_token("tenant-a", "ann", ttl=600)
    for header in (
        "Bearer",
        "Bearer ",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        f"Basic {good}",
        good,
        f"Bearer {good[:-4]}",
        f"Bearer {good}x",
        "Bearer " + "A" * 5000,
        f"Token {good}",
    ):
        for url in ("/api/workflows", f"/api/workflows/{w['id']}", "/api/workflows/does-not-exist"):
            _unauthorized(api.client.get(url, headers={"Authorization": header}), w["id"])


def test_no_existence_oracle_without_auth(api: Api) -> None:
    w = api.create()
    a = api.client.get(f"/api/workflows/{w['id']}")
    b = api.client.get("/api/workflows/01XXXXXXXXXXXXXXXXXXXXXXXX")
    assert a.status_code == b.status_code == 401
    assert a.json()["code"] == b.json()["code"]


def test_server_keys_act_for_any_tenant(api: Api) -> None:
    w = api.live("tenant-a")
    r = api.client.post("/api/events", json={"name": "app/add", "data": {"a": 1}}, headers=api.server("tenant-a"))
    assert r.status_code in (200, 201, 202)
    [run] = api.runs_of("tenant-a", w["id"])
    assert api.wait_run(run["id"])["status"] == "completed"
    r = api.client.post("/api/events", json=[{"name": "app/other"}], headers=api.server("tenant-c"))
    assert r.status_code in (200, 201, 202)
    ids = r.json()["ids"]
    assert api.client.get(f"/api/events/{ids[0]}", headers=api.h("tenant-c")).status_code == 200
    assert api.client.get(f"/api/events/{ids[0]}", headers=api.h("tenant-a")).status_code == 404
    # admin operations
    listed = api.client.get("/api/workflows", headers=api.server("tenant-a"))
    assert [x["id"] for x in listed.json()["items"]] == [w["id"]]
    assert api.client.post(f"/api/workflows/{w['id']}/disable", headers=api.server("tenant-a")).status_code == 200
    assert api.client.get(f"/api/workflows/{w['id']}", headers=api.server("tenant-b")).status_code == 404
    # a wrong key, and a key without a tenant
    bad = api.client.get(
        "/api/workflows", headers={"Authorization": "Bearer wrong-" + SERVER_KEY, "X-Workflow-Kit-Tenant": "tenant-a"}
    )
    _unauthorized(bad, w["id"])
    r = api.client.get("/api/workflows", headers={"Authorization": f"Bearer {SERVER_KEY}"})
    assert r.status_code in (400, 401) and w["id"] not in r.text


def test_server_keys_from_environment(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKFLOW_KIT_SERVER_KEYS", "env-key-" + "z" * 40 + ",second-" + "q" * 40)
    kit = build_kit(db_url)
    with TestClient(create_app(kit)) as c:
        for key in ("env-key-" + "z" * 40, "second-" + "q" * 40):
            r = c.get("/api/workflows", headers={"Authorization": f"Bearer {key}", "X-Workflow-Kit-Tenant": "t1"})
            assert r.status_code == 200
        r = c.get("/api/workflows", headers={"Authorization": "Bearer nope", "X-Workflow-Kit-Tenant": "t1"})
        assert r.status_code == 401
    kit.close()


def test_secret_from_configuration(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKFLOW_KIT_SECRET", raising=False)
    bare = build_kit(db_url, secret=None)
    with pytest.raises(Exception, match="WORKFLOW_KIT_SECRET"):
        create_app(bare)
    demo = create_app(build_kit(db_url, secret=None), demo=True)
    with TestClient(demo) as c:
        assert c.get("/api/workflows").status_code == 401
    env_secret = "from-the-environment-" + "e" * 30
    monkeypatch.setenv("WORKFLOW_KIT_SECRET", env_secret)
    kit = build_kit(db_url, secret=None)
    app = create_app(kit)
    token = kit.editor_token("t1", "u1", ttl=60)
    jwt.decode(token, env_secret, algorithms=["HS256"], options={"verify_iss": False})
    with TestClient(app) as c:
        assert c.get("/api/workflows", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    bare.close()
    kit.close()


# ---- the tenant-isolation matrix ------------------------------------------------------------------------


@pytest.fixture
def tenant_a(api: Api) -> dict[str, Any]:
    w = api.live("tenant-a")
    napper = api.live(
        "tenant-a",
        {
            "actions": [{"id": "n", "kind": "nap", "inputs": {"duration": "1h"}}],
            "edges": [{"from": "$source", "to": "n"}],
        },
        event="app/nap",
    )
    [event_id] = api.send("tenant-a", {"name": "app/add", "data": {"a": 1}})
    [run] = api.runs_of("tenant-a", w["id"])
    api.wait_run(run["id"])
    api.send("tenant-a", {"name": "app/nap", "data": {}})
    [sleeping] = api.runs_of("tenant-a", napper["id"])
    api.wait_run(sleeping["id"], until=lambda r: r["status"] == "sleeping")
    return {"w": w, "napper": napper, "event": event_id, "run": run["id"], "sleeping": sleeping["id"]}


def test_tenant_b_cannot_read_change_run_cancel_list_or_stream_a(api: Api, tenant_a: dict[str, Any]) -> None:
    wid, rid, sid, eid = tenant_a["w"]["id"], tenant_a["run"], tenant_a["sleeping"], tenant_a["event"]
    b = api.h("tenant-b", "bob")
    upd = {"name": "hijacked", "workflow": ADD_WF}
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"/api/workflows/{wid}", None),
        ("PUT", f"/api/workflows/{wid}", upd),
        ("PATCH", f"/api/workflows/{wid}", upd),
        ("PUT", f"/api/workflows/{wid}", {**upd, "version": tenant_a["w"]["version"]}),
        ("POST", f"/api/workflows/{wid}/validate", None),
        ("POST", f"/api/workflows/{wid}/publish", None),
        ("GET", f"/api/workflows/{wid}/versions", None),
        ("GET", f"/api/workflows/{wid}/versions/1", None),
        ("POST", f"/api/workflows/{wid}/disable", None),
        ("POST", f"/api/workflows/{wid}/enable", None),
        ("GET", f"/api/workflows/{wid}/export", None),
        ("POST", f"/api/workflows/{wid}/test", {"event": {"name": "app/add", "data": {"a": 1}}}),
        ("GET", f"/api/runs/{rid}", None),
        ("GET", f"/api/runs/{rid}/workflow", None),
        ("POST", f"/api/runs/{sid}/cancel", None),
        ("POST", f"/api/runs/{rid}/rerun", None),
        ("POST", f"/api/runs/{rid}/rerun", {"from_failed_step": False}),
        ("GET", f"/api/runs/{sid}/stream", None),
        ("GET", f"/api/events/{eid}", None),
        ("DELETE", f"/api/workflows/{wid}", None),
    ]
    for method, url, body in calls:
        r = api.client.request(method, url, headers=b, json=body)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert "Adder" not in r.text and "tenant-a" not in r.text
    # lists and filters show nothing of A's
    assert api.client.get("/api/workflows", headers=b).json()["items"] == []
    for params in ({}, {"workflow_id": wid}, {"event_id": eid}, {"status": "sleeping"}):
        assert api.client.get("/api/runs", params=params, headers=b).json()["items"] == []
    assert api.client.get("/api/events", headers=b).json()["items"] == []
    # B's events do not start A's workflows
    api.send("tenant-b", {"name": "app/add", "data": {"a": 5}})
    time.sleep(0.3)
    assert len(api.runs("tenant-a", workflow_id=wid)) == 1
    # and nothing of A's changed
    a = api.h("tenant-a")
    rec = api.client.get(f"/api/workflows/{wid}", headers=a).json()
    assert rec["name"] == "Adder" and rec["enabled"] is True and rec["version"] == tenant_a["w"]["version"]
    assert rec["published_version"] == 1
    assert api.client.get(f"/api/runs/{sid}", headers=a).json()["status"] == "sleeping"
    assert len(api.client.get(f"/api/workflows/{wid}/versions", headers=a).json()["items"]) == 1
    assert len(api.runs("tenant-a")) == 2


def test_tenant_b_cannot_import_or_stream_with_query_token(api: Api, tenant_a: dict[str, Any]) -> None:
    token_b = api.kit.editor_token("tenant-b", "bob", ttl=60)
    r = api.client.get(f"/api/runs/{tenant_a['sleeping']}/stream", params={"token": token_b})
    assert r.status_code == 404
    token_a = api.kit.editor_token("tenant-a", "ann", ttl=60)
    r = api.client.get(f"/api/runs/{tenant_a['run']}/stream", params={"token": token_a})
    assert r.status_code == 200 and tenant_a["run"] in r.text


def test_server_key_with_an_unusable_tenant_header(api: Api) -> None:
    for tenant in ("", "   ", "a" * 1000):
        r = api.client.get(
            "/api/workflows", headers={"Authorization": f"Bearer {SERVER_KEY}", "X-Workflow-Kit-Tenant": tenant}
        )
        assert r.status_code in (400, 401), (tenant[:10], r.status_code)
        assert SERVER_KEY not in r.text
