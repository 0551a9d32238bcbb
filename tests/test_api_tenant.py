"""``GET`` and ``PUT /api/tenant/settings`` in process: the caller's tenant's retention (the kit's time
until it chooses), checked with a path, applied to its runs, and never another tenant's."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import Api
from helpers import action, assert_error, edge, workflow

from workflow_kit.runtime.storage import schema

DAY_MS = 86_400_000


def test_a_tenant_keeps_its_history_as_long_as_it_chose(api: Api) -> None:
    assert api.client.get("/api/tenant/settings", headers=api.headers()).json() == {
        "retention": None,
        "default_retention": "30d",
    }
    saved = api.client.put("/api/tenant/settings", headers=api.headers(), json={"retention": "90d"})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"retention": "90d", "default_retention": "30d"}
    assert api.client.get("/api/tenant/settings", headers=api.headers()).json()["retention"] == "90d"
    # another tenant's settings are its own
    assert api.client.get("/api/tenant/settings", headers=api.headers("globex")).json()["retention"] is None

    created = api.client.post(
        "/api/workflows",
        headers=api.headers(),
        json={
            "name": "W",
            "trigger": {"event": "app/go"},
            "workflow": workflow([action("a", "echo")], [edge("$source", "a")]),
            "publish": True,
            "enabled": True,
        },
    )
    assert created.status_code == 201, created.text
    assert api.client.post("/api/events", headers=api.headers(), json={"name": "app/go"}).status_code == 202
    api.idle()
    with api.kit.db.read() as conn:
        kept = conn.execute(sa.select(schema.runs.c.expires_at - schema.runs.c.ended_at)).scalars().all()
    assert kept == [90 * DAY_MS]

    back = api.client.put("/api/tenant/settings", headers=api.headers(), json={"retention": None})
    assert back.json()["retention"] is None


def test_a_retention_out_of_bounds_or_unreadable_is_refused_with_its_path(api: Api) -> None:
    for wrong, says in (("10m", "from 1 hour to 10 years"), ("a while", "invalid duration")):
        refused = api.client.put("/api/tenant/settings", headers=api.headers(), json={"retention": wrong})
        body = assert_error(refused, 422, "invalid_workflow")
        [problem] = body["problems"]
        assert problem["path"] == "retention" and says in problem["message"], body
    unknown = api.client.put("/api/tenant/settings", headers=api.headers(), json={"retention": "1d", "x": 1})
    assert unknown.status_code == 400, unknown.text
    assert api.client.put("/api/tenant/settings", json={"retention": "1d"}).status_code == 401
    read_only = api.headers(scopes=["workflows:read"])
    assert_error(
        api.client.put("/api/tenant/settings", headers=read_only, json={"retention": "1d"}), 401, "unauthorized"
    )
