"""Authentication and tenant isolation of the editor API: tokens, scopes, server keys, demo mode, and a
matrix of every route that takes an id, called by another tenant."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import SECRET, SERVER_KEY, Api, Snapshots

from workflow_kit import WorkflowKit
from workflow_kit.timeutil import VirtualClock
from workflow_kit.tokens import ISSUER, SCOPES, TokenError

ALPHA, BETA = "alpha", "beta"
MARKER = "alpha-private-marker-5f1c"
"""Appears in alpha's event data, workflow names and errors: it must never show in beta's responses."""
ALPHA_NAME = f"Alpha echo {MARKER}"

ECHO = {
    "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data.x)"}}],
    "edges": [{"from": "$source", "to": "a"}],
}
FAIL = {
    "actions": [{"id": "f", "kind": "fail", "inputs": {"message": f"boom {MARKER}"}}],
    "edges": [{"from": "$source", "to": "f"}],
}
BETA_FAIL = {
    "actions": [{"id": "f", "kind": "fail", "inputs": {"message": "beta's own failure"}}],
    "edges": [{"from": "$source", "to": "f"}],
}
NAP = {
    "actions": [{"id": "n", "kind": "nap", "inputs": {"ms": 600_000}}],
    "edges": [{"from": "$source", "to": "n"}],
}
TRACEBACK_HINTS = ("Traceback", 'File "', "site-packages", "sqlalchemy", "psycopg")


# -- helpers --------------------------------------------------------------------------------------


def forge(claims: dict[str, Any], key: str | None = SECRET, algorithm: str = "HS256") -> str:
    """A JWT signed by hand (PyJWT warns about HS512 with a short key: not the point here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(claims, key, algorithm=algorithm)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for alpha's user `ann`, valid for an hour from now; `None` drops a claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "ann",
        "tenant": ALPHA,
        "scopes": list(SCOPES),
        "iat": now,
        "exp": now + 3600,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_no_leak(response: Any, *secrets: str) -> None:
    """The body never holds the signing secret, the server key, the caller's token, nor a traceback."""
    text = response.text
    for secret in (SECRET, SERVER_KEY, *secrets):
        if secret:
            assert secret not in text, f"{secret[:12]}... leaked: {text}"
    for hint in TRACEBACK_HINTS:
        assert hint not in text, text


def assert_unauthorized(response: Any, *secrets: str, mentions: str | None = None) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["code"] == "unauthorized", body
    assert isinstance(body["message"], str) and body["message"]
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers
    if mentions is not None:
        assert mentions in body["message"], body
    assert_no_leak(response, *secrets)


def wait_for_run(api: Api, headers: dict[str, str], workflow_id: str, statuses: set[str]) -> dict[str, Any]:
    """Poll GET /api/runs until the workflow has a run in one of `statuses` (20 s deadline)."""
    deadline = time.monotonic() + 20
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = api.client.get("/api/runs", headers=headers, params={"workflow_id": workflow_id})
        assert response.status_code == 200, response.text
        runs = response.json()["items"]
        found = [run for run in runs if run["status"] in statuses]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no run of {workflow_id} reached {statuses}: {runs}")


def create(api: Api, headers: dict[str, str], name: str, event: str, workflow: dict[str, Any], **extra: Any) -> str:
    body = {"name": name, "trigger": {"event": event}, "workflow": workflow, **extra}
    response = api.client.post("/api/workflows", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def send(api: Api, headers: dict[str, str], name: str, data: dict[str, Any]) -> str:
    response = api.client.post("/api/events", headers=headers, json={"name": name, "data": data})
    assert response.status_code == 202, response.text
    [event_id] = response.json()["ids"]
    return str(event_id)


def tenant_state(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    """Everything a tenant can see: workflows, their versions, runs with timelines, events."""
    client = api.client
    workflows = client.get("/api/workflows", headers=headers, params={"limit": 500}).json()["items"]
    versions = {w["id"]: client.get(f"/api/workflows/{w['id']}/versions", headers=headers).json() for w in workflows}
    runs = client.get("/api/runs", headers=headers, params={"limit": 500}).json()["items"]
    timelines = {r["id"]: client.get(f"/api/runs/{r['id']}", headers=headers).json() for r in runs}
    events = client.get("/api/events", headers=headers, params={"limit": 500}).json()["items"]
    return {"workflows": workflows, "versions": versions, "runs": runs, "timelines": timelines, "events": events}


@dataclass
class Alpha:
    """Tenant alpha's data: an enabled echo workflow with a completed run, a disabled workflow with a
    failed run, an enabled workflow with a run sleeping for ten minutes, and the events behind them."""

    headers: dict[str, str]
    ids: dict[str, str]
    state: dict[str, Any]


def alpha_data(api: Api) -> Alpha:
    headers = api.headers(ALPHA, "ann")
    client = api.client
    echo = create(api, headers, ALPHA_NAME, "app/x", ECHO)
    published = client.post(f"/api/workflows/{echo}/publish", headers=headers)
    assert published.status_code == 201, published.text
    assert published.json()["number"] == 1
    enabled = client.post(f"/api/workflows/{echo}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True, enabled.text
    event = send(api, headers, "app/x", {"x": MARKER})
    completed = wait_for_run(api, headers, echo, {"completed"})
    assert completed["output"] == {"a": {"x": MARKER}}

    failing = create(api, headers, f"Alpha fail {MARKER}", "app/fail", FAIL, publish=True, enabled=True)
    fail_event = send(api, headers, "app/fail", {"why": MARKER})
    failed = wait_for_run(api, headers, failing, {"failed"})
    assert MARKER in str(failed["error"])
    disabled = client.post(f"/api/workflows/{failing}/disable", headers=headers)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False, disabled.text

    napping = create(api, headers, f"Alpha nap {MARKER}", "app/nap", NAP, publish=True, enabled=True)
    send(api, headers, "app/nap", {"why": MARKER})
    sleeping = wait_for_run(api, headers, napping, {"sleeping"})

    events = client.get("/api/events", headers=headers, params={"name": "workflow/run.failed"}).json()["items"]
    assert len(events) == 1 and events[0]["event"]["data"]["run_id"] == failed["id"]
    ids = {
        "system_event": events[0]["id"],
        "workflow": echo,
        "disabled_workflow": failing,
        "completed_run": completed["id"],
        "failed_run": failed["id"],
        "sleeping_run": sleeping["id"],
        "event": event,
        "fail_event": fail_event,
    }
    api.idle()  # nothing left to settle before the snapshot is taken
    return Alpha(headers=headers, ids=ids, state=tenant_state(api, headers))


@pytest.fixture
def alpha(api: Api, snapshots: Snapshots) -> Alpha:
    """Alpha's data in the test's database: built once per test process (runs driven to their ends take a
    while), then copied into the database of each test that takes it."""
    return snapshots.restore("alpha", api.kit.database_url, lambda: alpha_data(api))


# -- tokens ---------------------------------------------------------------------------------------


def test_a_valid_token_is_accepted(api: Api) -> None:
    """The positive control for everything below: a kit token and a hand-made one with the right claims."""
    for headers in (api.headers(ALPHA, "ann"), bearer(forge(claims()))):
        response = api.client.get("/api/workflows", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


def test_no_authorization_header_is_401(api: Api) -> None:
    response = api.client.get("/api/workflows")
    assert_unauthorized(response)
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    "authorization",
    [
        "Token abc",
        "Bearer",
        "Bearer ",
        "Basic YW5uOnBhc3N3b3Jk",
        "Bearer abc",
        "Bearer not.a.jwt",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl",
        "Bearer a.b.c.d",
    ],
    ids=["token-scheme", "bearer-alone", "bearer-space", "basic", "opaque", "garbage-jwt", "bad-signature", "4-parts"],
)
def test_a_malformed_authorization_header_is_401(api: Api, authorization: str) -> None:
    response = api.client.get("/api/workflows", headers={"Authorization": authorization})
    assert_unauthorized(response, authorization.partition(" ")[2])


def test_a_token_in_the_query_string_never_counts(api: Api, alpha: Alpha) -> None:
    for path in ("/api/workflows", f"/api/runs/{alpha.ids['completed_run']}/stream"):
        assert_unauthorized(api.client.get(path, params={"token": api.token(ALPHA)}))


FORGED: dict[str, tuple[dict[str, Any], str | None, str]] = {
    "other-secret": (claims(), "another-secret-" + "z" * 40, "HS256"),
    "secret-prefix": (claims(), SECRET[:-1], "HS256"),
    "server-key-as-secret": (claims(), SERVER_KEY + "0" * 20, "HS256"),
    "expired": (claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), SECRET, "HS256"),
    "expired-just-now": (claims(iat=int(time.time()) - 60, exp=int(time.time()) - 1), SECRET, "HS256"),
    "alg-none": (claims(), None, "none"),
    "hs512": (claims(), SECRET, "HS512"),
    "hs384": (claims(), SECRET, "HS384"),
    "no-tenant": (claims(tenant=None), SECRET, "HS256"),
    "empty-tenant": (claims(tenant=""), SECRET, "HS256"),
    "tenant-not-a-string": (claims(tenant=["alpha"]), SECRET, "HS256"),
    "no-exp": (claims(exp=None), SECRET, "HS256"),
    "exp-not-a-number": (claims(exp="tomorrow"), SECRET, "HS256"),
    "no-sub": (claims(sub=None), SECRET, "HS256"),
    "no-iss": (claims(iss=None), SECRET, "HS256"),
    "wrong-iss": (claims(iss="someone-else"), SECRET, "HS256"),
    "scopes-not-a-list": (claims(scopes="workflows:read"), SECRET, "HS256"),
}


@pytest.mark.parametrize(("token_claims", "key", "algorithm"), list(FORGED.values()), ids=list(FORGED))
def test_a_forged_or_invalid_token_is_401(
    api: Api, token_claims: dict[str, Any], key: str | None, algorithm: str
) -> None:
    token = forge(token_claims, key, algorithm)
    for method, path in (("GET", "/api/workflows"), ("GET", "/api/runs"), ("POST", "/api/events")):
        body = {"name": "app/x", "data": {}} if method == "POST" else None
        response = api.client.request(method, path, headers=bearer(token), json=body)
        assert_unauthorized(response, token)
    # nothing was sent for alpha by the POST above
    assert api.client.get("/api/events", headers=api.headers(ALPHA)).json()["items"] == []


def test_without_a_token_an_existing_and_a_missing_id_answer_alike(api: Api) -> None:
    """No existence oracle: the caller is checked before anything is looked up."""
    created = create(api, api.headers(ALPHA), ALPHA_NAME, "app/x", ECHO)
    for headers in ({}, bearer("not-a-token")):
        found = api.client.get(f"/api/workflows/{created}", headers=headers)
        missing = api.client.get("/api/workflows/01XXXXXXXXXXXXXXXXXXXXXXXX", headers=headers)
        assert_unauthorized(found)
        assert_unauthorized(missing)
        assert found.json() == missing.json()
        assert created not in found.text and MARKER not in found.text


@pytest.mark.parametrize("tenant", ["   ", "t" * 129], ids=["blank", "too-long"])
def test_a_token_naming_a_tenant_the_api_refuses_is_401(api: Api, tenant: str) -> None:
    """Like a server key with such a tenant header: no valid tenant, no caller (not a 400 per route)."""
    token = forge(claims(tenant=tenant))
    assert_unauthorized(api.client.get("/api/workflows", headers=bearer(token)), token)


def test_an_expired_kit_token_is_401(api: Api, tmp_path: Path) -> None:
    """Time travel: a kit whose clock is two hours behind mints a one-hour token, expired by now."""
    now_ms = int(time.time() * 1000)
    past = WorkflowKit(database_url=f"sqlite:///{tmp_path}/past.db", secret=SECRET, clock=VirtualClock(now_ms))
    fresh = past.editor_token(ALPHA, "ann", ttl=timedelta(hours=1))
    assert api.client.get("/api/workflows", headers=bearer(fresh)).status_code == 200
    past.clock = VirtualClock(now_ms - 2 * 3_600_000)
    stale = past.editor_token(ALPHA, "ann", ttl=timedelta(hours=1))
    assert_unauthorized(api.client.get("/api/workflows", headers=bearer(stale)), stale, mentions="expired")
    short = past.editor_token(ALPHA, "ann", ttl=60)
    assert_unauthorized(api.client.get("/api/workflows", headers=bearer(short)), short, mentions="expired")


def test_the_tenant_header_does_not_change_a_token_s_tenant(api: Api) -> None:
    created = create(api, api.headers(ALPHA), ALPHA_NAME, "app/x", ECHO)
    headers = {**api.headers(BETA, "bob"), "X-Workflow-Kit-Tenant": ALPHA}
    response = api.client.get(f"/api/workflows/{created}", headers=headers)
    assert response.status_code == 404, response.text
    assert MARKER not in response.text
    assert api.client.get("/api/workflows", headers=headers).json()["items"] == []
    made = create(api, headers, "Beta's", "app/x", ECHO)
    assert api.client.get(f"/api/workflows/{made}", headers=api.headers(BETA)).status_code == 200
    assert api.client.get(f"/api/workflows/{made}", headers=api.headers(ALPHA)).status_code == 404


# -- scopes ---------------------------------------------------------------------------------------


def test_a_read_only_token_cannot_create_a_workflow(api: Api) -> None:
    token = api.token(ALPHA, scopes=["workflows:read"])
    body = {"name": "Nope", "trigger": {"event": "app/x"}, "workflow": ECHO}
    response = api.client.post("/api/workflows", headers=bearer(token), json=body)
    assert_unauthorized(response, token, mentions="workflows:write")
    assert api.client.get("/api/workflows", headers=bearer(token)).json()["items"] == []


def test_a_runs_read_token_cannot_cancel(api: Api, alpha: Alpha) -> None:
    token = api.token(ALPHA, scopes=["runs:read"])
    run_id = alpha.ids["sleeping_run"]
    response = api.client.post(f"/api/runs/{run_id}/cancel", headers=bearer(token))
    assert_unauthorized(response, token, mentions="runs:write")
    assert api.client.get(f"/api/runs/{run_id}", headers=bearer(token)).json()["status"] == "sleeping"


def test_a_token_with_no_scope_can_do_nothing(api: Api) -> None:
    token = api.token(ALPHA, scopes=[])
    for path in ("/api/actions", "/api/workflows", "/api/runs", "/api/events"):
        assert_unauthorized(api.client.get(path, headers=bearer(token)), token)
    assert api.client.get("/api/health").json() == {"status": "ok"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    scope: str
    body: Any = None
    writes: bool = False


ID_ROUTES: dict[str, Route] = {
    "get-workflow": Route("GET", "/api/workflows/{workflow}", "workflows:read"),
    "put-workflow": Route(
        "PUT", "/api/workflows/{workflow}", "workflows:write", {"name": "Hijacked", "workflow": NAP}, True
    ),
    "put-workflow-publish": Route(
        "PUT", "/api/workflows/{workflow}", "workflows:write", {"workflow": NAP, "publish": True}, True
    ),
    "patch-workflow": Route("PATCH", "/api/workflows/{workflow}", "workflows:write", {"name": "Hijacked"}, True),
    "delete-workflow": Route("DELETE", "/api/workflows/{workflow}", "workflows:write", None, True),
    "validate-draft": Route("POST", "/api/workflows/{workflow}/validate", "workflows:read"),
    "publish": Route("POST", "/api/workflows/{workflow}/publish", "workflows:write", None, True),
    "versions": Route("GET", "/api/workflows/{workflow}/versions", "workflows:read"),
    "version-1": Route("GET", "/api/workflows/{workflow}/versions/1", "workflows:read"),
    "enable": Route("POST", "/api/workflows/{disabled_workflow}/enable", "workflows:write", None, True),
    "disable": Route("POST", "/api/workflows/{workflow}/disable", "workflows:write", None, True),
    "export": Route("GET", "/api/workflows/{workflow}/export", "workflows:read"),
    "test-run": Route(
        "POST", "/api/workflows/{workflow}/test", "runs:write", {"event": {"name": "app/x", "data": {"x": 1}}}, True
    ),
    "get-run": Route("GET", "/api/runs/{completed_run}", "runs:read"),
    "get-failed-run": Route("GET", "/api/runs/{failed_run}", "runs:read"),
    "run-workflow": Route("GET", "/api/runs/{completed_run}/workflow", "runs:read"),
    "cancel": Route("POST", "/api/runs/{sleeping_run}/cancel", "runs:write", None, True),
    "rerun": Route("POST", "/api/runs/{failed_run}/rerun", "runs:write", None, True),
    "rerun-from-scratch": Route(
        "POST", "/api/runs/{failed_run}/rerun", "runs:write", {"from_failed_step": False}, True
    ),
    "stream": Route("GET", "/api/runs/{completed_run}/stream", "runs:read"),
    "stream-ticket": Route("POST", "/api/runs/{completed_run}/stream-ticket", "runs:read"),
    "get-event": Route("GET", "/api/events/{event}", "events:read"),
    "get-system-event": Route("GET", "/api/events/{system_event}", "events:read"),
}


def call(api: Api, route: Route, ids: dict[str, str], headers: dict[str, str] | None) -> Any:
    return api.client.request(route.method, route.path.format(**ids), headers=headers, json=route.body)


@pytest.mark.parametrize("name", list(ID_ROUTES))
def test_another_tenant_gets_404_and_changes_nothing(api: Api, alpha: Alpha, name: str) -> None:
    route = ID_ROUTES[name]
    beta = api.headers(BETA, "bob")
    response = call(api, route, alpha.ids, beta)
    assert response.status_code == 404, f"{route.method} {route.path}: {response.status_code} {response.text}"
    assert response.json()["code"] == "not_found"
    assert MARKER not in response.text
    assert_no_leak(response, beta["Authorization"].removeprefix("Bearer "))
    assert tenant_state(api, alpha.headers) == alpha.state
    assert tenant_state(api, beta) == {"workflows": [], "versions": {}, "runs": [], "timelines": {}, "events": []}


def test_another_tenant_cannot_stream_a_run_with_a_ticket_or_a_query_token(api: Api, alpha: Alpha) -> None:
    run = alpha.ids["completed_run"]
    asked = api.client.post(f"/api/runs/{run}/stream-ticket", headers=api.headers(BETA, "bob"))
    assert asked.status_code == 404, asked.text
    assert MARKER not in asked.text
    response = api.client.get(f"/api/runs/{run}/stream", params={"token": api.token(BETA, "bob")})
    assert response.status_code == 401, response.text  # a token in the URL is not read at all
    response = api.client.get(f"/api/runs/{run}/stream", params={"token": api.token(ALPHA)})
    assert response.status_code == 401, response.text
    # alpha's ticket works: the refusals above are not a broken stream
    ticket = api.client.post(f"/api/runs/{run}/stream-ticket", headers=alpha.headers).json()["ticket"]
    with api.client.stream("GET", f"/api/runs/{run}/stream", params={"ticket": ticket}) as stream:
        assert stream.status_code == 200
        body = "".join(stream.iter_text())
    assert "event: run" in body and "event: end" in body and MARKER in body


def test_the_owner_can_use_every_route_of_the_matrix(api: Api, alpha: Alpha) -> None:
    """The control for the matrix: the same calls with alpha's token do not answer 404."""
    for name, route in ID_ROUTES.items():
        if route.writes or name == "stream":
            continue
        response = call(api, route, alpha.ids, alpha.headers)
        assert response.status_code in (200, 201), f"{name}: {response.text}"
    with api.client.stream("GET", f"/api/runs/{alpha.ids['completed_run']}/stream", headers=alpha.headers) as stream:
        assert stream.status_code == 200


OTHER_ROUTES: dict[str, Route] = {
    "list-actions": Route("GET", "/api/actions", "actions:read"),
    "send-events": Route("POST", "/api/events", "events:write", {"name": "app/x", "data": {"x": 2}}, True),
    "list-events": Route("GET", "/api/events", "events:read"),
    "list-runs": Route("GET", "/api/runs", "runs:read"),
    "list-workflows": Route("GET", "/api/workflows", "workflows:read"),
    "create-workflow": Route(
        "POST",
        "/api/workflows",
        "workflows:write",
        {"name": "N", "trigger": {"event": "app/x"}, "workflow": ECHO},
        True,
    ),
    "validate-instance": Route("POST", "/api/workflows/validate", "workflows:read", ECHO),
    "import": Route("POST", "/api/workflows/import?trigger=app/x", "workflows:write", ECHO, True),
}


@pytest.mark.parametrize("name", list(ID_ROUTES) + list(OTHER_ROUTES))
def test_every_route_needs_its_scope(api: Api, alpha: Alpha, name: str) -> None:
    """Alpha's own token with every scope but the one a route needs: 401 naming it, nothing changes."""
    route = ID_ROUTES.get(name) or OTHER_ROUTES[name]
    token = api.token(ALPHA, "ann", scopes=[scope for scope in SCOPES if scope != route.scope])
    response = call(api, route, alpha.ids, bearer(token))
    assert_unauthorized(response, token, mentions=route.scope)
    assert tenant_state(api, alpha.headers) == alpha.state


# -- lists and events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/workflows", {}),
        ("/api/runs", {}),
        ("/api/runs", {"workflow_id": "{workflow}"}),
        ("/api/runs", {"event_id": "{event}"}),
        ("/api/runs", {"status": "failed"}),
        ("/api/runs", {"status": "sleeping"}),
        ("/api/events", {}),
        ("/api/events", {"name": "app/x"}),
        ("/api/events", {"name": "workflow/run.failed"}),
    ],
    ids=[
        "workflows",
        "runs",
        "runs-of-alpha-workflow",
        "runs-of-alpha-event",
        "failed-runs",
        "sleeping-runs",
        "events",
        "events-by-name",
        "system-events",
    ],
)
def test_lists_show_nothing_of_another_tenant(api: Api, alpha: Alpha, path: str, params: dict[str, str]) -> None:
    beta = api.headers(BETA, "bob")
    # beta has data of its own, so the lists are not trivially empty
    own = create(api, beta, "Beta echo", "app/x", ECHO, publish=True, enabled=True)
    own_event = send(api, beta, "app/x", {"x": "beta"})
    own_run = wait_for_run(api, beta, own, {"completed"})
    failing = create(api, beta, "Beta fail", "app/fail", BETA_FAIL, publish=True, enabled=True)
    send(api, beta, "app/fail", {})
    wait_for_run(api, beta, failing, {"failed"})
    query = {key: value.format(**alpha.ids) for key, value in params.items()}
    response = api.client.get(path, headers=beta, params=query)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert MARKER not in response.text
    for alpha_id in alpha.ids.values():
        assert alpha_id not in response.text
    if path == "/api/runs":
        assert all(run["tenant"] == BETA for run in items)
        assert all(run["workflow_id"] in (own, failing) for run in items)
    if not params:  # the unfiltered lists do show beta's own
        expected = {"/api/workflows": own, "/api/runs": own_run["id"], "/api/events": own_event}
        assert expected[path] in [item["id"] for item in items], items
    assert tenant_state(api, alpha.headers) == alpha.state


def test_an_event_from_another_tenant_starts_no_run_of_alpha(api: Api, alpha: Alpha) -> None:
    beta = api.headers(BETA, "bob")
    beta_workflow = create(api, beta, "Beta echo", "app/x", ECHO, publish=True, enabled=True)
    beta_event = send(api, beta, "app/x", {"x": "from beta"})
    beta_run = wait_for_run(api, beta, beta_workflow, {"completed"})
    assert beta_run["output"] == {"a": {"x": "from beta"}}
    send(api, beta, "app/nap", {})
    send(api, beta, "app/fail", {})
    api.idle()  # whatever these events started has run (alpha's nap, ten minutes off, is not due)
    assert tenant_state(api, alpha.headers) == alpha.state
    runs = api.client.get("/api/runs", headers=beta).json()["items"]
    assert [run["id"] for run in runs] == [beta_run["id"]]
    assert runs[0]["event"]["data"] == {"x": "from beta"}
    alpha_runs = api.client.get("/api/runs", headers=alpha.headers, params={"event_id": beta_event}).json()
    assert alpha_runs["items"] == []
    assert api.client.get(f"/api/events/{beta_event}", headers=alpha.headers).status_code == 404


def test_an_event_id_is_deduplicated_per_tenant(api: Api) -> None:
    alpha_headers, beta = api.headers(ALPHA), api.headers(BETA, "bob")
    alpha_workflow = create(api, alpha_headers, "Alpha", "app/x", ECHO, publish=True, enabled=True)
    beta_workflow = create(api, beta, "Beta", "app/x", ECHO, publish=True, enabled=True)
    for headers in (alpha_headers, beta):
        response = api.client.post("/api/events", headers=headers, json={"name": "app/x", "id": "k1", "data": {}})
        assert response.status_code == 202
    wait_for_run(api, alpha_headers, alpha_workflow, {"completed"})
    wait_for_run(api, beta, beta_workflow, {"completed"})
    events = api.client.get("/api/events", headers=beta, params={"name": "app/x"}).json()["items"]
    assert [event["duplicate"] for event in events] == [False]


# -- server keys ----------------------------------------------------------------------------------


def test_a_server_key_acts_for_the_tenant_in_the_header(api: Api) -> None:
    server = api.server_headers(ALPHA)
    workflow = create(api, server, ALPHA_NAME, "app/x", ECHO, publish=True, enabled=True)
    alpha_headers, beta = api.headers(ALPHA), api.headers(BETA, "bob")
    seen = api.client.get(f"/api/workflows/{workflow}", headers=alpha_headers)
    assert seen.status_code == 200 and seen.json()["name"] == ALPHA_NAME
    assert [w["id"] for w in api.client.get("/api/workflows", headers=alpha_headers).json()["items"]] == [workflow]
    hidden = api.client.get(f"/api/workflows/{workflow}", headers=beta)
    assert hidden.status_code == 404 and MARKER not in hidden.text
    assert api.client.get("/api/workflows", headers=beta).json()["items"] == []
    # events sent with the server key start alpha's runs only
    send(api, server, "app/x", {"x": MARKER})
    run = wait_for_run(api, alpha_headers, workflow, {"completed"})
    assert run["tenant"] == ALPHA
    assert api.client.get("/api/runs", headers=beta).json()["items"] == []
    # the server key acts for beta when the header says beta, and then sees nothing of alpha's
    assert api.client.get(f"/api/workflows/{workflow}", headers=api.server_headers(BETA)).status_code == 404
    assert api.client.get(f"/api/runs/{run['id']}", headers=api.server_headers(BETA)).status_code == 404


def test_a_server_key_without_the_tenant_header_is_401(api: Api) -> None:
    response = api.client.get("/api/workflows", headers=bearer(SERVER_KEY))
    assert_unauthorized(response, mentions="X-Workflow-Kit-Tenant".lower())
    body = {"name": "N", "trigger": {"event": "app/x"}, "workflow": ECHO}
    assert_unauthorized(api.client.post("/api/workflows", headers=bearer(SERVER_KEY), json=body))


@pytest.mark.parametrize("tenant", ["", "   ", "t" * 129], ids=["empty", "blank", "too-long"])
def test_a_server_key_with_an_invalid_tenant_header_is_401(api: Api, tenant: str) -> None:
    response = api.client.get("/api/workflows", headers={**bearer(SERVER_KEY), "X-Workflow-Kit-Tenant": tenant})
    assert_unauthorized(response)


@pytest.mark.parametrize(
    "key",
    [SERVER_KEY + "x", SERVER_KEY[:-1], SERVER_KEY.upper(), "server-key", SECRET],
    ids=["suffix", "prefix", "case", "other", "the-signing-secret"],
)
def test_a_wrong_server_key_is_401(api: Api, key: str) -> None:
    headers = {**bearer(key), "X-Workflow-Kit-Tenant": ALPHA}
    assert_unauthorized(api.client.get("/api/workflows", headers=headers), key)
    body = {"name": "N", "trigger": {"event": "app/x"}, "workflow": ECHO}
    assert_unauthorized(api.client.post("/api/workflows", headers=headers, json=body), key)
    assert api.client.get("/api/workflows", headers=api.headers(ALPHA)).json()["items"] == []


def test_server_keys_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WORKFLOW_KIT_SERVER_KEYS: comma-separated, each of them acts for the tenant in the header."""
    from litestar.testing import TestClient

    from editor_api import create_app

    first, second = "env-key-" + "z" * 40, "second-" + "q" * 40
    monkeypatch.setenv("WORKFLOW_KIT_SERVER_KEYS", f"{first},{second}")
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path}/keys.db", secret=SECRET)
    with TestClient(create_app(kit)) as client:
        for key in (first, second):
            response = client.get("/api/workflows", headers={**bearer(key), "X-Workflow-Kit-Tenant": ALPHA})
            assert response.status_code == 200, response.text
        wrong = {**bearer(SERVER_KEY), "X-Workflow-Kit-Tenant": ALPHA}  # the test default is not configured here
        assert_unauthorized(client.get("/api/workflows", headers=wrong), first, second)
    kit.close()


# -- kit.editor_token -----------------------------------------------------------------------------


@pytest.fixture
def token_kit(tmp_path: Path) -> WorkflowKit:
    return WorkflowKit(
        database_url=f"sqlite:///{tmp_path}/tokens.db", secret=SECRET, clock=VirtualClock(1_800_000_000_000)
    )


def decode(token: str) -> dict[str, Any]:
    options = {"verify_exp": False, "verify_iat": False}  # the virtual clock is not the real one
    return jwt.decode(token, SECRET, algorithms=["HS256"], issuer=ISSUER, options=options)


@pytest.mark.parametrize("ttl", [timedelta(minutes=5), 300], ids=["timedelta", "seconds"])
def test_editor_token_ttl(token_kit: WorkflowKit, ttl: timedelta | int) -> None:
    token = token_kit.editor_token(ALPHA, "ann", ttl=ttl)
    decoded = decode(token)
    assert decoded["iat"] == 1_800_000_000
    assert decoded["exp"] == 1_800_000_300
    assert decoded["iss"] == ISSUER and decoded["sub"] == "ann" and decoded["tenant"] == ALPHA
    assert decoded["scopes"] == sorted(SCOPES)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_editor_token_defaults_to_one_hour_and_takes_scopes(token_kit: WorkflowKit) -> None:
    decoded = decode(token_kit.editor_token(ALPHA, "ann"))
    assert decoded["exp"] - decoded["iat"] == 3600
    limited = decode(token_kit.editor_token(ALPHA, "ann", scopes=["runs:read", "actions:read", "runs:read"]))
    assert limited["scopes"] == ["actions:read", "runs:read"]


def test_editor_token_allows_thirty_days(token_kit: WorkflowKit) -> None:
    decoded = decode(token_kit.editor_token(ALPHA, "ann", ttl=timedelta(days=30)))
    assert decoded["exp"] - decoded["iat"] == 30 * 86400


@pytest.mark.parametrize(
    "ttl",
    [0, -1, timedelta(0), timedelta(seconds=-5), timedelta(days=30, seconds=1), 31 * 86400],
    ids=["zero", "negative", "zero-delta", "negative-delta", "over-30-days", "over-30-days-seconds"],
)
def test_editor_token_refuses_an_invalid_ttl(token_kit: WorkflowKit, ttl: timedelta | int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        token_kit.editor_token(ALPHA, "ann", ttl=ttl)


@pytest.mark.parametrize(
    ("tenant", "user", "scopes"),
    [
        ("", "ann", SCOPES),
        (ALPHA, "", SCOPES),
        (ALPHA, "ann", ["workflows:read", "workflows:admin"]),
        (ALPHA, "ann", ["*"]),
    ],
    ids=["empty-tenant", "empty-user", "unknown-scope", "wildcard-scope"],
)
def test_editor_token_refuses_bad_arguments(
    token_kit: WorkflowKit, tenant: str, user: str, scopes: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        token_kit.editor_token(tenant, user, scopes=scopes)


@pytest.mark.parametrize("tenant", ["   ", "t" * 129], ids=["blank", "too-long"])
def test_editor_token_refuses_a_tenant_the_api_refuses(token_kit: WorkflowKit, tenant: str) -> None:
    """The stores (and server keys) refuse a blank or over-long tenant; a token for one is unusable."""
    with pytest.raises(ValueError):
        token_kit.editor_token(tenant, "ann")


def test_editor_token_without_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKFLOW_KIT_SECRET", raising=False)
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path}/x.db")
    assert kit.secret is None
    with pytest.raises(TokenError, match="secret"):
        kit.editor_token(ALPHA, "ann")


def test_editor_token_reads_the_secret_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKFLOW_KIT_SECRET", SECRET)
    token = WorkflowKit(database_url=f"sqlite:///{tmp_path}/x.db").editor_token(ALPHA, "ann")
    assert decode(token)["tenant"] == ALPHA


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path}/x.db", secret="s" * 31)
    with pytest.raises(TokenError, match="32"):
        kit.editor_token(ALPHA, "ann")
    kit.secret = STRONG
    assert decode_with(kit.editor_token(ALPHA, "ann"), STRONG)["tenant"] == ALPHA


STRONG = "a-strong-secret-yubhm-3_Qw7VfnNwfh3sGvJYVjTSY85o"


def decode_with(token: str, secret: str) -> dict[str, Any]:
    return jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER)


# -- create_app: secrets and demo mode ------------------------------------------------------------


@pytest.fixture
def bare_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WorkflowKit:
    monkeypatch.delenv("WORKFLOW_KIT_SECRET", raising=False)
    monkeypatch.delenv("WORKFLOW_KIT_SERVER_KEYS", raising=False)
    return WorkflowKit(database_url=f"sqlite:///{tmp_path}/x.db")


def test_create_app_without_a_secret_refuses_to_start(bare_kit: WorkflowKit) -> None:
    from editor_api import create_app
    from editor_api.app import ConfigurationError

    with pytest.raises(ConfigurationError, match="WORKFLOW_KIT_SECRET"):
        create_app(bare_kit)
    assert bare_kit.secret is None


def test_create_app_with_a_short_secret_refuses_to_start(bare_kit: WorkflowKit) -> None:
    from editor_api import create_app
    from editor_api.app import ConfigurationError

    with pytest.raises((ConfigurationError, TokenError), match="32"):
        create_app(bare_kit, secret="s" * 31)
    bare_kit.secret = "s" * 31
    with pytest.raises((ConfigurationError, TokenError), match="32"):
        create_app(bare_kit)


def test_demo_mode_starts_without_a_secret_and_hands_out_tokens(bare_kit: WorkflowKit) -> None:
    from litestar.testing import TestClient

    from editor_api import create_app

    app = create_app(bare_kit, demo=True)
    assert bare_kit.secret is None  # the demo's random secret is the app's, not the kit's
    with TestClient(app) as client:
        assert_unauthorized(client.get("/api/workflows"))
        response = client.post("/api/demo/token")
        assert response.status_code == 201, response.text
        assert response.json()["tenant"] == "demo" and response.json()["user"] == "demo-user"
        demo = bearer(response.json()["token"])
        body = {"name": "Demo", "trigger": {"event": "app/x"}, "workflow": ECHO}
        created = client.post("/api/workflows", headers=demo, json=body)
        assert created.status_code == 201, created.text
        assert [w["id"] for w in client.get("/api/workflows", headers=demo).json()["items"]] == [created.json()["id"]]

        other = client.post("/api/demo/token", json={"tenant": "t1", "user": "u1"})
        assert other.status_code == 201
        assert (other.json()["tenant"], other.json()["user"]) == ("t1", "u1")
        t1 = bearer(other.json()["token"])
        assert client.get("/api/workflows", headers=t1).json()["items"] == []
        assert client.get(f"/api/workflows/{created.json()['id']}", headers=t1).status_code == 404
        assert_no_leak(response)
    with pytest.raises(TokenError, match="secret"):  # the kit still has no secret to sign with
        bare_kit.editor_token("demo", "demo-user")
    bare_kit.close()


def test_no_demo_token_route_outside_demo_mode(api: Api) -> None:
    for headers in ({}, api.headers(ALPHA)):
        response = api.client.post("/api/demo/token", headers=headers)
        assert response.status_code == 404, response.text
        assert "token" not in response.json()
        response = api.client.post("/api/demo/token", headers=headers, json={"tenant": ALPHA, "user": "ann"})
        assert response.status_code == 404, response.text


def test_create_app_leaves_the_kit_as_it_was(bare_kit: WorkflowKit) -> None:
    """The app keeps its secret to itself: the kit's stays what it was, two apps on one kit each check
    tokens signed with their own secret, and the kit signs with its own."""
    from litestar.testing import TestClient

    from editor_api import create_app

    kit_secret = "the-kit-s-own-secret-MrPiH_sa98PFOyBqQLmHF1Qh806R9ZUC"
    other_secret = "another-app-s-secret-pmtecquDTpXYw5U0O_Z5Gd7zaD6ECoJ3"
    bare_kit.secret = kit_secret
    first = create_app(bare_kit, secret=SECRET, server_keys=[])
    second = create_app(bare_kit, secret=other_secret, server_keys=[])
    third = create_app(bare_kit, server_keys=[])  # no secret given: the kit's
    assert bare_kit.secret == kit_secret
    from_kit = bearer(bare_kit.editor_token(ALPHA, "ann"))
    assert decode_with(bare_kit.editor_token(ALPHA, "ann"), kit_secret)["tenant"] == ALPHA
    for app, secret in ((first, SECRET), (second, other_secret), (third, kit_secret)):
        with TestClient(app) as client:
            signed = client.get("/api/workflows", headers=bearer(forge(claims(), secret)))
            assert signed.status_code == 200, signed.text
            for wrong in {SECRET, other_secret, kit_secret} - {secret}:
                assert_unauthorized(client.get("/api/workflows", headers=bearer(forge(claims(), wrong))))
            if secret == kit_secret:
                assert client.get("/api/workflows", headers=from_kit).status_code == 200
            else:
                assert_unauthorized(client.get("/api/workflows", headers=from_kit))
    assert bare_kit.secret == kit_secret
    bare_kit.close()


def test_create_app_prefers_the_explicit_secret(bare_kit: WorkflowKit) -> None:
    from litestar.testing import TestClient

    from editor_api import create_app

    app = create_app(bare_kit, secret=SECRET, server_keys=[])
    with TestClient(app) as client:
        good = client.get("/api/workflows", headers=bearer(forge(claims())))
        assert good.status_code == 200, good.text
        assert_unauthorized(client.get("/api/workflows", headers=bearer(forge(claims(), "o" * 40))))
        # no server keys configured: the test key is just an invalid token
        assert_unauthorized(
            client.get("/api/workflows", headers={**bearer(SERVER_KEY), "X-Workflow-Kit-Tenant": ALPHA})
        )
    bare_kit.close()
