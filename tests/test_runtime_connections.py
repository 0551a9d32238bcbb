"""``kit.connections`` on both databases: API-key and OAuth connections (against a real local OAuth
provider), validation against the tenant's connections, the live credential a step receives, token
refresh (once, however many workers ask at once), a revoked grant, key rotation, and no secret in clear
in any row, run record, export or log line."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

import msgspec
import pytest
import sqlalchemy as sa
from oauth_provider import Provider, running_provider

from workflow_kit import ActionContext, Connection, Credential, WorkflowKit, WorkflowValidationError
from workflow_kit.connections import connection_of
from workflow_kit.retry import RetryPolicy
from workflow_kit.runtime.models import ConnectionInUseError, NotFoundError, RunStatus
from workflow_kit.runtime.stores.connections import ConnectionUnavailable
from workflow_kit.runtime.worker.loop import Worker
from workflow_kit.secrets import SecretKeyError, key_of, new_key
from workflow_kit.timeutil import VirtualClock

TENANT, OTHER = "acme", "beta"
KEY = new_key("k1")
MAILER_KEY = "mk-live-4f8a9c2e7d1b"


class MailerKey(msgspec.Struct):
    api_key: Annotated[str, msgspec.Meta(extra_json_schema={"x-secret": True}, min_length=8)]
    sender: str = "news@example.com"


Crm = Annotated[Credential, connection_of("crm")]


class MailInputs(msgspec.Struct):
    mailer: Annotated[Credential, connection_of("mailer")]
    to: str


class CrmInputs(msgspec.Struct):
    crm: Crm


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def declare(kit: WorkflowKit, provider: Provider) -> None:
    kit.connection_type("mailer", name="Mailer", kind="api_key", schema=MailerKey)
    kit.connection_type("crm", name="Test CRM", kind="oauth2", **provider.settings())

    @kit.action(kind="send_mail", name="Send an email")
    async def send_mail(ctx: ActionContext, inputs: MailInputs) -> dict[str, Any]:
        ctx.logger.info("sending with %r", inputs.mailer)  # a credential's repr shows no secret
        return {"by": inputs.mailer.name, "tail": inputs.mailer.api_key[-4:], "sender": inputs.mailer.sender}

    @kit.action(kind="crm_me", name="Who am I at the CRM")
    async def crm_me(ctx: ActionContext, inputs: CrmInputs) -> dict[str, Any]:
        async with inputs.crm.http_client(base_url=provider.base_url) as http:
            answer = (await http.get("/me")).json()
        return {"user": answer.get("user"), "connection": inputs.crm.name}


@pytest.fixture
def kit(database_url: str, clock: VirtualClock, provider: Provider) -> Iterator[WorkflowKit]:
    kit = WorkflowKit(database_url=database_url, retry_policy=RetryPolicy.fast(), clock=clock, secret_keys=KEY)
    declare(kit, provider)
    yield kit
    kit.close()


def mail_workflow(connection_id: Any) -> dict[str, Any]:
    return {
        "actions": [{"id": "mail", "kind": "send_mail", "inputs": {"mailer": connection_id, "to": "ann@example.com"}}],
        "edges": [{"from": "$source", "to": "mail"}],
    }


def crm_workflow(connection_id: str) -> dict[str, Any]:
    return {
        "actions": [{"id": "me", "kind": "crm_me", "inputs": {"crm": connection_id}}],
        "edges": [{"from": "$source", "to": "me"}],
    }


def connect_crm(kit: WorkflowKit, provider: Provider, tenant: str = TENANT) -> str:
    url = kit.connections.start_oauth_sync(tenant, "crm", redirect_uri="http://127.0.0.1:9/callback", name="Ann's CRM")
    assert "code_challenge=" in url and "code_verifier" not in url
    back = provider.approve(url)
    found_tenant, record = kit.connections.finish_oauth_sync(back["state"], back["code"])
    assert found_tenant == tenant and record.status == "ok"
    return record.id


def raw_rows(kit: WorkflowKit) -> str:
    """Every row of every table, as text."""
    with kit.db.engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        return "\n".join(str(row) for name in names for row in conn.execute(sa.text(f"SELECT * FROM {name}")))


async def run_to_end(kit: WorkflowKit, worker: Worker, clock: VirtualClock, event: str) -> Any:
    [event_id] = await kit.send(TENANT, {"name": event, "data": {}})
    for _ in range(40):
        await worker.idle()
        runs = await kit.runs.list(TENANT, event_id=event_id)
        if runs and runs[0].status.terminal:
            return await kit.runs.get(TENANT, runs[0].id)
        clock.advance(timedelta(seconds=1))
    raise AssertionError("the run did not end")


# -- API keys ------------------------------------------------------------------------------------------------


async def test_an_api_key_connection_is_stored_sealed_and_reaches_the_step(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    record = await kit.connections.create(TENANT, "mailer", name="Newsletter", fields={"api_key": MAILER_KEY})
    assert (record.type, record.name, record.status, record.expires_at) == ("mailer", "Newsletter", "ok", None)
    assert MAILER_KEY not in raw_rows(kit)
    await kit.workflows.create(TENANT, name="Mail", trigger="app/mail", workflow=mail_workflow(record.id))
    run = await run_to_end(kit, worker, clock, "app/mail")
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["mail"] == {"by": "Newsletter", "tail": MAILER_KEY[-4:], "sender": "news@example.com"}
    [action] = run.actions
    assert action.inputs == {"mailer": {"id": record.id, "name": "Newsletter"}, "to": "ann@example.com"}
    exported = msgspec.json.encode(run).decode()
    for place in (exported, raw_rows(kit), caplog.text):
        assert MAILER_KEY not in place


async def test_a_form_that_does_not_fit_the_schema_is_refused_with_its_path(kit: WorkflowKit) -> None:
    with pytest.raises(ValueError, match=r"fields\.api_key") as raised:
        await kit.connections.create(TENANT, "mailer", name="Short", fields={"api_key": "short"})
    assert "short" not in str(raised.value)  # a secret's value is not echoed back
    with pytest.raises(NotFoundError):
        await kit.connections.create(TENANT, "crm", name="Not a form", fields={})


async def test_without_a_key_nothing_is_stored(database_url: str, provider: Provider) -> None:
    kit = WorkflowKit(database_url=database_url, secret_keys="")
    declare(kit, provider)
    try:
        with pytest.raises(SecretKeyError, match="workflow-kit connections new-key"):
            await kit.connections.create(TENANT, "mailer", name="N", fields={"api_key": MAILER_KEY})
        assert await kit.connections.list(TENANT) == []
    finally:
        kit.close()


async def test_rename_list_by_type_and_another_tenant_sees_nothing(kit: WorkflowKit, provider: Provider) -> None:
    mail = await kit.connections.create(TENANT, "mailer", name="Newsletter", fields={"api_key": MAILER_KEY})
    crm = connect_crm(kit, provider)
    renamed = await kit.connections.rename(TENANT, mail.id, "  Weekly news ")
    assert renamed.name == "Weekly news"
    assert [c.id for c in await kit.connections.list(TENANT, type="mailer")] == [mail.id]
    assert {c.id for c in await kit.connections.list(TENANT)} == {mail.id, crm}
    assert await kit.connections.list(OTHER) == []
    for call in (
        kit.connections.get(OTHER, mail.id),
        kit.connections.rename(OTHER, mail.id, "x"),
        kit.connections.delete(OTHER, mail.id),
        kit.connections.test(OTHER, mail.id),
        kit.connections.start_oauth(OTHER, "crm", redirect_uri="http://127.0.0.1:9/cb", connection_id=crm),
    ):
        with pytest.raises(NotFoundError) as raised:
            await call
        assert "Newsletter" not in str(raised.value) and "Weekly" not in str(raised.value)
    with pytest.raises(ConnectionUnavailable, match="no longer exists"):
        await kit.connections.credentials(OTHER, {"mailer": ("mailer", mail.id)})
    assert (await kit.connections.get(TENANT, mail.id)).name == "Weekly news"


async def test_publishing_refuses_another_tenants_or_another_types_connection(
    kit: WorkflowKit, provider: Provider
) -> None:
    theirs = await kit.connections.create(OTHER, "mailer", name="Beta mail", fields={"api_key": MAILER_KEY})
    crm = connect_crm(kit, provider)
    with pytest.raises(WorkflowValidationError) as raised:
        await kit.workflows.create(TENANT, name="Mail", trigger="app/mail", workflow=mail_workflow(theirs.id))
    [problem] = raised.value.problems
    assert (problem.code, problem.path) == ("unknown_connection", "actions[0].inputs.mailer")
    assert "Beta" not in problem.message  # no hint that it exists
    assert await kit.connections.problems(TENANT, mail_workflow("nope")) == [problem]
    [wrong] = await kit.connections.problems(TENANT, mail_workflow(crm))
    assert (wrong.code, wrong.path) == ("wrong_connection_type", "actions[0].inputs.mailer")
    assert "Test CRM" in wrong.message and "Mailer" in wrong.message
    [ref] = await kit.connections.problems(TENANT, mail_workflow("!ref($.event.data.id)"))
    assert ref.code == "invalid_connection"
    draft = await kit.workflows.create(
        TENANT, name="Draft", trigger="app/mail", workflow=mail_workflow(theirs.id), publish=False
    )
    assert draft.published_version is None  # a draft may hold problems; publishing it may not


async def test_a_connection_in_use_by_a_published_workflow_cannot_be_deleted(kit: WorkflowKit) -> None:
    mail = await kit.connections.create(TENANT, "mailer", name="Newsletter", fields={"api_key": MAILER_KEY})
    spare = await kit.connections.create(TENANT, "mailer", name="Spare", fields={"api_key": MAILER_KEY})
    workflow = await kit.workflows.create(
        TENANT, name="Weekly mail", trigger="app/mail", workflow=mail_workflow(mail.id)
    )
    with pytest.raises(ConnectionInUseError, match="Weekly mail") as raised:
        await kit.connections.delete(TENANT, mail.id)
    assert raised.value.workflows == [{"id": workflow.id, "name": "Weekly mail"}]
    await kit.connections.delete(TENANT, spare.id)
    await kit.workflows.update(TENANT, workflow.id, workflow=mail_workflow(spare.id), publish=False)
    with pytest.raises(ConnectionInUseError):  # the published version still uses it
        await kit.connections.delete(TENANT, mail.id)
    await kit.workflows.delete(TENANT, workflow.id)
    await kit.connections.delete(TENANT, mail.id)
    assert await kit.connections.list(TENANT) == []


async def test_rotation_reseals_every_secret_under_the_newest_key(
    database_url: str, clock: VirtualClock, kit: WorkflowKit, provider: Provider
) -> None:
    mail = await kit.connections.create(TENANT, "mailer", name="Newsletter", fields={"api_key": MAILER_KEY})
    newer = new_key("k2")
    rotated = WorkflowKit(database_url=database_url, clock=clock, secret_keys=f"{newer},{KEY}")
    declare(rotated, provider)
    try:
        assert await rotated.connections.rotate_keys() == 1
        assert await rotated.connections.rotate_keys() == 0
        with rotated.db.engine.connect() as conn:
            [blob] = conn.execute(sa.text("SELECT secret FROM wk_connections")).scalars()
        assert key_of(blob) == "k2"
        only_new = WorkflowKit(database_url=database_url, clock=clock, secret_keys=newer)
        declare(only_new, provider)
        found = await only_new.connections.credentials(TENANT, {"m": ("mailer", mail.id)})
        assert found["m"].api_key == MAILER_KEY
        only_new.close()
    finally:
        rotated.close()


# -- OAuth ---------------------------------------------------------------------------------------------------


async def test_an_oauth_connection_calls_the_provider_with_a_live_token(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    crm = connect_crm(kit, provider)
    record = await kit.connections.get(TENANT, crm)
    assert record.expires_at == clock.now_ms() + provider.expires_in * 1000
    await kit.workflows.create(TENANT, name="CRM", trigger="app/crm", workflow=crm_workflow(crm))
    run = await run_to_end(kit, worker, clock, "app/crm")
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["me"] == {"user": "ann@provider.test", "connection": "Ann's CRM"}
    clock.advance(timedelta(seconds=provider.expires_in))  # a refresh too
    again = await run_to_end(kit, worker, clock, "app/crm")
    assert again.status == RunStatus.COMPLETED, again.error
    # the provider's own log (Authlib's server, a third party here) aside, no line holds a token
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("authlib"))
    text = raw_rows(kit) + msgspec.json.encode([run, again]).decode() + ours
    for secret in provider.secrets():
        assert secret not in text


async def test_a_state_is_used_once(kit: WorkflowKit, provider: Provider) -> None:
    url = kit.connections.start_oauth_sync(TENANT, "crm", redirect_uri="http://127.0.0.1:9/callback")
    back = provider.approve(url)
    await kit.connections.finish_oauth(back["state"], back["code"])
    with pytest.raises(NotFoundError, match="expired or was already used"):
        await kit.connections.finish_oauth(back["state"], back["code"])


async def test_a_token_about_to_expire_is_refreshed_first(
    kit: WorkflowKit, clock: VirtualClock, provider: Provider
) -> None:
    crm = connect_crm(kit, provider)
    first = (await kit.connections.credentials(TENANT, {"crm": ("crm", crm)}))["crm"].access_token
    before = provider.refreshes
    clock.advance(timedelta(seconds=provider.expires_in - 60))  # within the two minutes' margin
    second = (await kit.connections.credentials(TENANT, {"crm": ("crm", crm)}))["crm"].access_token
    assert second != first and provider.refreshes == before + 1
    assert provider.user_of(second) == "ann@provider.test"
    third = (await kit.connections.credentials(TENANT, {"crm": ("crm", crm)}))["crm"].access_token
    assert third == second and provider.refreshes == before + 1  # fresh now: not refreshed again


async def test_two_workers_refreshing_at_once_refresh_once(
    database_url: str, kit: WorkflowKit, clock: VirtualClock, provider: Provider
) -> None:
    crm = connect_crm(kit, provider)
    other = WorkflowKit(database_url=database_url, clock=clock, secret_keys=KEY)  # another process's kit
    declare(other, provider)
    clock.advance(timedelta(seconds=provider.expires_in))
    before = provider.refreshes
    provider.refresh_delay = 0.3
    tokens: list[str | None] = []
    start = threading.Barrier(2)

    def credential(of: WorkflowKit) -> None:
        start.wait()
        tokens.append(of.connections.credentials_sync(TENANT, {"crm": ("crm", crm)})["crm"].access_token)

    try:
        threads = [threading.Thread(target=credential, args=(k,)) for k in (kit, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        provider.refresh_delay = 0.0
        other.close()
    assert provider.refreshes == before + 1
    assert len(tokens) == 2 and tokens[0] == tokens[1] and provider.user_of(tokens[0] or "") is not None


async def test_a_revoked_grant_breaks_the_connection_and_its_runs_fail_at_once_naming_it(
    kit: WorkflowKit, worker: Worker, clock: VirtualClock, provider: Provider
) -> None:
    crm = connect_crm(kit, provider)
    await kit.workflows.create(TENANT, name="CRM", trigger="app/crm", workflow=crm_workflow(crm))
    provider.revoke_all()
    clock.advance(timedelta(seconds=provider.expires_in))
    run = await run_to_end(kit, worker, clock, "app/crm")
    assert run.status == RunStatus.FAILED
    assert run.error is not None and "Ann's CRM" in run.error["message"] and "Reconnect" in run.error["message"]
    [action] = run.actions
    assert len(action.attempts) == 1  # not retried
    assert (await kit.connections.get(TENANT, crm)).status == "broken"
    assert [
        c.id for c in (await kit.connections.broken(TENANT, [(await kit.workflows.list(TENANT))[0].id])).popitem()[1]
    ] == [crm]
    # reconnecting renews the same connection: workflows keep using it
    url = await kit.connections.start_oauth(TENANT, "crm", redirect_uri="http://127.0.0.1:9/cb", connection_id=crm)
    back = provider.approve(url)
    _, renewed = await kit.connections.finish_oauth(back["state"], back["code"])
    assert (renewed.id, renewed.status, renewed.name) == (crm, "ok", "Ann's CRM")
    again = await run_to_end(kit, worker, clock, "app/crm")
    assert again.status == RunStatus.COMPLETED, again.error


async def test_a_denied_consent_stores_nothing(kit: WorkflowKit, provider: Provider) -> None:
    url = await kit.connections.start_oauth(TENANT, "crm", redirect_uri="http://127.0.0.1:9/cb")
    back = provider.approve(url, allow=False)
    assert back["error"] == "access_denied"
    await kit.connections.forget_oauth(back["state"])
    assert await kit.connections.list(TENANT) == []


def test_connection_marker_says_its_type_in_the_schema() -> None:
    kit = WorkflowKit()

    @kit.action(kind="post")
    def post(ctx: Any, inputs: CrmInputs) -> None:
        return None

    schema = next(a for a in kit.public_actions() if a["kind"] == "post")["inputs"]
    assert schema["properties"]["crm"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "x-connection-type": "crm",
    }
    assert Connection["crm"] == Crm
    assert asyncio.iscoroutinefunction(post) is False


def test_a_step_with_a_connection_runs_in_memory_with_a_given_credential(provider: Provider) -> None:
    from workflow_kit.testing import run_workflow

    kit = WorkflowKit()
    declare(kit, provider)
    given = Credential(
        id="c1", name="Test mailer", type="mailer", secret={"api_key": MAILER_KEY, "sender": "a@b.c"}, headers={}
    )
    result = run_workflow(kit, mail_workflow("c1"), connections={"c1": given})
    assert result.status == "completed" and result.state["mail"]["by"] == "Test mailer"
    assert result.actions["mail"].inputs == {"mailer": {"id": "c1", "name": "Test mailer"}, "to": "ann@example.com"}
    missing = run_workflow(kit, mail_workflow("c2"), connections={"c1": given})
    assert missing.status == "failed" and "no mailer connection 'c2' was given" in str(missing.error)
