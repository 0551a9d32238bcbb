"""A kit for the browser test of connections (tests/browser/test_connections.py): an OAuth type pointed
at the test provider ($WORKFLOW_KIT_TEST_OAUTH_PROVIDER, tests/oauth_provider.py) and a step that asks
the provider who the connected account is."""

from __future__ import annotations

import os
from typing import Annotated, Any

import msgspec
from oauth_provider import CLIENT_ID, CLIENT_SECRET

from workflow_kit import ActionContext, Credential, WorkflowKit
from workflow_kit.connections import connection_of

PROVIDER = os.environ.get("WORKFLOW_KIT_TEST_OAUTH_PROVIDER", "http://127.0.0.1:9")

kit = WorkflowKit()  # the keys: $WORKFLOW_KIT_SECRET_KEYS
kit.connection_type(
    "crm",
    name="Test CRM",
    kind="oauth2",
    authorize_url=f"{PROVIDER}/authorize",
    token_url=f"{PROVIDER}/token",
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    scopes=["profile"],
)


class Lookup(msgspec.Struct):
    crm: Annotated[Credential, connection_of("crm"), msgspec.Meta(title="CRM account")]


@kit.action(
    kind="crm_whoami", name="Look me up in the CRM", description="Asks the CRM who the account is", side_effects=False
)
async def crm_whoami(ctx: ActionContext, inputs: Lookup) -> dict[str, Any]:
    async with inputs.crm.http_client(base_url=PROVIDER) as http:
        answer = (await http.get("/me")).json()
    return {"user": answer.get("user"), "account": inputs.crm.name}
