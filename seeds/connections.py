"""The demo's connections: "Mailer", an API-key type (the demo sends nothing: any key of 8 characters
will do), and "Team Chat (demo)", an OAuth 2.0 type whose provider is the stand-in that ``workflow-kit
serve --demo`` mounts at ``/demo/oauth`` (seeds/oauth_provider.py): connecting an account opens its
consent page in a pop-up, as a real service's sign-in would. Each type has a step that uses it."""

from __future__ import annotations

from typing import Annotated

import msgspec

from workflow_kit import ActionContext, Credential, WorkflowKit
from workflow_kit.connections import connection_of

from .oauth_provider import Provider


class MailerKey(msgspec.Struct):
    api_key: Annotated[
        str,
        msgspec.Meta(
            title="API key",
            description="The mailer's key (the demo sends nothing: any 8 characters will do)",
            min_length=8,
            extra_json_schema={"x-secret": True},
        ),
    ]
    sender: Annotated[str, msgspec.Meta(title="From address")] = "blog@example.com"


class EmailAuthor(msgspec.Struct):
    mailer: Annotated[Credential, connection_of("mailer"), msgspec.Meta(title="Mailer account")]
    to: Annotated[str, msgspec.Meta(title="To")]
    subject: Annotated[str, msgspec.Meta(title="Subject")] = "Your post"


class Emailed(msgspec.Struct):
    sent_with: str
    sender: str
    to: str
    subject: str


class ChatPost(msgspec.Struct):
    chat: Annotated[Credential, connection_of("team_chat"), msgspec.Meta(title="Team Chat account")]
    text: Annotated[str, msgspec.Meta(title="Message")]


class Posted(msgspec.Struct):
    posted_as: str
    text: str


def register_connections(kit: WorkflowKit, provider: Provider) -> None:
    """Declare the two connection types on `kit` and the steps that use them."""
    kit.connection_type(
        "mailer",
        name="Mailer",
        kind="api_key",
        schema=MailerKey,
        description="The service that sends the blog's emails",
    )
    kit.connection_type(
        "team_chat",
        name="Team Chat (demo)",
        kind="oauth2",
        description="A stand-in chat service, signed in through its own page",
        **provider.settings(),
    )

    @kit.action(kind="email_author", name="Email the author", icon="mail", description="Sends an email with the Mailer")
    async def email_author(ctx: ActionContext, inputs: EmailAuthor) -> Emailed:
        # a real mailer: `async with inputs.mailer.http_client() as http: await http.post(...)`
        return Emailed(
            sent_with=inputs.mailer.name, sender=str(inputs.mailer.sender), to=inputs.to, subject=inputs.subject
        )

    @kit.action(
        kind="post_to_chat", name="Post to Team Chat", icon="send", description="Posts a message as the account"
    )
    async def post_to_chat(ctx: ActionContext, inputs: ChatPost) -> Posted:
        async with inputs.chat.http_client() as http:
            answer = await http.get(f"{provider.base_url}/me")
        answer.raise_for_status()
        return Posted(posted_as=str(answer.json()["user"]), text=inputs.text)
