"""Schemathesis against the editor API's own OpenAPI schema: every operation, with input that fits the
schema and input that does not, and a valid token. Whatever comes in, the app answers without a 5xx.

Half of the generated ids are swapped for ids of records that exist (workflows with published versions,
runs that completed, failed or are sleeping, events), so that handlers get past their 404s too.

(Schemathesis's lazy pytest loader, ``schemathesis.pytest.from_fixture``, fails on pytest 9 (it sets
``node._nodeid``), so each operation is a plain parametrized test driving Hypothesis itself.)
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from conftest import PROPERTY_EXAMPLES
from hypothesis import HealthCheck, given, settings
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from editor_api import create_app
from workflow_kit import ActionContext, ActionContextSync, NonRetriableError, WorkflowKit
from workflow_kit.retry import RetryPolicy

SECRET = "schemathesis-secret-dN8uTsokZqiF5YGOKq1LZDT1vhADG7ei"
TENANT = "acme"
ECHO = {
    "actions": [{"id": "a", "kind": "echo", "inputs": {"x": "!ref($.event.data.x)"}}],
    "edges": [{"from": "$source", "to": "a"}],
}


@dataclass
class Seeded:
    kit: WorkflowKit
    app: Any
    headers: dict[str, str]
    workflow_ids: list[str]
    doomed_ids: list[str]
    run_ids: list[str]
    ended_run_ids: list[str]
    event_ids: list[str]
    hook_ids: list[str]


def make_kit(database_url: str) -> WorkflowKit:
    kit = WorkflowKit(database_url=database_url, retry_policy=RetryPolicy.fast(), secret=SECRET)

    @kit.action(kind="echo", name="Echo", description="Returns its inputs")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> dict[str, Any]:
        return inputs

    @kit.action(kind="fail", name="Fail", description="Always fails")
    def fail(ctx: ActionContextSync, inputs: dict[str, Any]) -> None:
        raise NonRetriableError(str(inputs.get("message", "failed on purpose")))

    @kit.action(kind="nap", name="Nap", description="Sleeps")
    async def nap(ctx: ActionContext, inputs: dict[str, Any]) -> str:
        await ctx.step.sleep("nap", int(inputs.get("ms", 50)))
        return "rested"

    return kit


def seed(kit: WorkflowKit) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """Workflows (one with two versions, one a draft, some to delete), and runs that completed, failed
    and are sleeping."""
    echo = kit.workflows.create_sync(TENANT, name="Echo", trigger="app/echo", workflow=ECHO)
    kit.workflows.update_sync(TENANT, echo.id, description="second version", publish=True)
    broken = kit.workflows.create_sync(
        TENANT,
        name="Broken",
        trigger="app/broken",
        workflow={
            "actions": [{"id": "a", "kind": "echo", "inputs": {}}, {"id": "b", "kind": "fail", "inputs": {}}],
            "edges": [{"from": "$source", "to": "a"}, {"from": "a", "to": "b"}],
        },
    )
    sleepy = kit.workflows.create_sync(
        TENANT,
        name="Sleepy",
        trigger="app/sleepy",
        workflow={
            "actions": [{"id": "s", "kind": "nap", "inputs": {"ms": 10**9}}],
            "edges": [{"from": "$source", "to": "s"}],
        },
    )
    draft = kit.workflows.create_sync(
        TENANT, name="Draft", trigger="app/draft", workflow={"actions": []}, publish=False
    )
    doomed = [
        kit.workflows.create_sync(TENANT, name=f"Doomed {n}", trigger="app/doomed", workflow=ECHO) for n in range(3)
    ]

    async def drive() -> tuple[list[str], list[str]]:
        event_ids = await kit.send(
            TENANT,
            [{"name": "app/echo", "data": {"x": 1}}, {"name": "app/broken"}, {"name": "app/sleepy"}],
        )
        run_ids = [(await kit.runs.list(TENANT, event_id=event_id))[0].id for event_id in event_ids]
        async with kit.worker(poll_ms=20):
            ended = [await kit.runs.wait(TENANT, run_id, timeout=30) for run_id in run_ids[:2]]
            assert [run.status for run in ended] == ["completed", "failed"]
            for _ in range(500):
                if (await kit.runs.get(TENANT, run_ids[2])).status == "sleeping":
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the sleepy run never went to sleep")
        return event_ids, run_ids

    event_ids, run_ids = asyncio.run(drive())
    return [echo.id, broken.id, sleepy.id, draft.id], [d.id for d in doomed], run_ids, run_ids[:2], event_ids


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One SQLite database for the whole file: the operations share (and change) its records."""
    folder = tmp_path_factory.mktemp("schemathesis")
    kit = make_kit(f"sqlite:///{folder / 'schemathesis.db'}")
    workflow_ids, doomed_ids, run_ids, ended, event_ids = seed(kit)
    hooked = kit.workflows.create_sync(TENANT, name="Hooked", triggers=[{"type": "webhook"}], workflow=ECHO)
    hook_ids = [trigger.hook for trigger in hooked.triggers if trigger.hook is not None]
    app = create_app(kit, server_keys=[], run_worker=False)
    headers = {"Authorization": f"Bearer {kit.editor_token(TENANT, 'fuzzer', ttl=timedelta(days=1))}"}
    yield Seeded(kit, app, headers, workflow_ids, doomed_ids, run_ids, ended, event_ids, hook_ids)
    kit.close()


@pytest.fixture(scope="module")
def api_schema(seeded: Seeded) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", seeded.app)


def operations() -> list[Any]:
    """Every operation in the schema (of an app on a kit that never opens its database), in each
    generation mode: positive always, negative when there is something to get wrong (parameters, a body,
    or the token)."""
    app = create_app(WorkflowKit(database_url="sqlite://", secret=SECRET), server_keys=[])
    paths = app.openapi_schema.to_schema()["paths"]
    found = []
    for path, item in sorted(paths.items()):
        for method, spec in sorted(item.items()):
            if method == "parameters":
                continue
            modes = [GenerationMode.POSITIVE]
            if spec.get("parameters") or spec.get("requestBody") or spec.get("security"):
                modes.append(GenerationMode.NEGATIVE)
            found += [pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode}") for mode in modes]
    assert len(found) >= 50, found
    return found


def coin(value: Any) -> int:
    """A deterministic choice from a generated value (the same case always takes the same branch)."""
    return zlib.crc32(repr(value).encode())


def use_real_ids(case: Any, seeded: Seeded) -> None:
    """Swap about half the generated path ids for ids that exist."""
    parameters = case.path_parameters
    if not parameters:
        return
    pick = coin(sorted(parameters.items()))
    if pick % 2:
        return
    is_stream = case.path.endswith("/stream")
    pools = {
        # deleting is for the doomed: the others must outlive the DELETE cases for the operations after them
        "workflow_id": seeded.doomed_ids if case.method == "DELETE" else seeded.workflow_ids,
        # a stream lasts as long as its run: only ended runs (or generated, unknown ids) for it
        "run_id": seeded.ended_run_ids if is_stream else seeded.run_ids,
        "event_id": seeded.event_ids,
        "hook_id": seeded.hook_ids,
    }
    for name, pool in pools.items():
        if name in parameters:
            parameters[name] = pool[(pick // 2) % len(pool)]
    if "number" in parameters and pick % 4 == 0:
        parameters["number"] = 1 + (pick // 8) % 3  # versions 1 and 2 exist, 3 does not


@pytest.mark.parametrize(("method", "path", "mode"), operations())
def test_no_operation_answers_with_a_server_error(
    api_schema: Any, seeded: Seeded, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    statuses: set[int] = set()

    @settings(
        max_examples=PROPERTY_EXAMPLES or 12,  # a longer search: WORKFLOW_KIT_PROPERTY_EXAMPLES=200
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        use_real_ids(case, seeded)
        response = case.call(headers=seeded.headers, timeout=10)
        # no 5xx, and every answer is one the schema documents, with the body and media type it says
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        )
        statuses.add(response.status_code)
        if response.status_code == 401:
            # only when the case left the token out (a negative case may drop the required header):
            # the token sent is valid and has every scope
            sent = response.request.headers.get("Authorization")
            assert sent != seeded.headers["Authorization"], (case.method, case.formatted_path, response.text)
        if response.status_code >= 400:
            body = response.json()  # errors are JSON {code, message}, never a traceback
            assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body

    call()
    assert statuses, "no request was made"


# -- the schema says what the API enforces ------------------------------------------------------------
# (Found by the positive cases above: valid-by-the-schema requests that the API answers with a 400.)


def test_schema_gives_the_lower_bound_of_since_and_until(api_schema: Any, seeded: Seeded) -> None:
    """``since``/``until`` are ``ge=0``: a negative value is a 400, so the schema must say ``minimum: 0``
    (as it does for ``offset``)."""
    with TestClient(seeded.app) as client:
        for name in ("since", "until", "offset"):
            assert client.get("/api/runs", headers=seeded.headers, params={name: -1}).status_code == 400
    parameters = {p["name"]: p["schema"] for p in api_schema.raw_schema["paths"]["/api/runs"]["get"]["parameters"]}
    assert parameters["offset"]["minimum"] == 0
    for name in ("since", "until"):
        assert parameters[name].get("minimum") == 0, (name, parameters[name])


def test_schema_forbids_the_unknown_fields_the_api_rejects(api_schema: Any, seeded: Seeded) -> None:
    """Bodies with an unknown field are a 400 (msgspec ``forbid_unknown_fields``): the schema must say so
    (``additionalProperties: false``), or clients built from it send them."""
    run_id = seeded.ended_run_ids[1]
    with TestClient(seeded.app) as client:
        for url, body in [
            (f"/api/runs/{run_id}/rerun", {"from_failed_step": True, "extra": 1}),
            ("/api/events", {"name": "app/x", "extra": 1}),
        ]:
            response = client.post(url, headers=seeded.headers, json=body)
            assert response.status_code == 400 and "unknown field" in response.text, response.text
    components = api_schema.raw_schema["components"]["schemas"]
    for name in ("RerunRequest", "Event", "WorkflowCreate", "WorkflowUpdate", "PublishRequest", "TestRequest"):
        assert components[name].get("additionalProperties") is False, (name, components[name])
