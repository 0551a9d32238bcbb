"""A kit for the browser tests of the editor's forms (tests/browser/test_action_panel.py) and run view
(tests/browser/test_run_view.py): actions whose inputs need every kind of field (text, text area, number,
check box, choice, list, nested and optional objects), one whose output is typed, one that always fails, and
one that fails once (its retry is a second later) then works."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from workflow_kit import ActionContextSync, RetryAfterError, WorkflowKit

kit = WorkflowKit()


class Address(msgspec.Struct):
    city: str
    zip: str = ""


class EmailInputs(msgspec.Struct):
    to: str
    subject: str = "Hello"
    body: str = ""
    urgent: bool = False
    priority: Literal["low", "normal", "high"] = "normal"
    retries: int = 1
    tags: list[str] = []
    address: Address | None = None


class EmailOut(msgspec.Struct):
    sent_to: str
    words: int


@kit.action(kind="send_email", name="Send email", description="Sends an email to a user", icon="mail")
def send_email(ctx: ActionContextSync, inputs: EmailInputs) -> EmailOut:
    return EmailOut(sent_to=inputs.to, words=len(inputs.body.split()))


class ArticleInputs(msgspec.Struct):
    title: str
    content: Annotated[str, msgspec.Meta(extra_json_schema={"format": "textarea"})] = ""
    address: Address = msgspec.field(default_factory=lambda: Address(city="Paris"))


@kit.action(kind="article", name="Write article", description="Writes an article", icon="pen")
def article(ctx: ActionContextSync, inputs: ArticleInputs) -> str:
    return inputs.title


class NoteInputs(msgspec.Struct):
    text: str


@kit.action(kind="log_note", name="Log note", description="Writes a note to the log", icon="note", side_effects=False)
def log_note(ctx: ActionContextSync, inputs: NoteInputs) -> str:
    return inputs.text


class ScoreInputs(msgspec.Struct):
    value: float


class ScoreOut(msgspec.Struct):
    score: float


@kit.action(kind="score", name="Compute score", description="Doubles a number", icon="calculator", side_effects=False)
def score(ctx: ActionContextSync, inputs: ScoreInputs) -> ScoreOut:
    return ScoreOut(score=inputs.value * 2)


class FailInputs(msgspec.Struct):
    reason: str


@kit.action(kind="fail_always", name="Always fail", description="Raises an error", icon="x", side_effects=False)
def fail_always(ctx: ActionContextSync, inputs: FailInputs) -> None:
    raise ValueError(f"failed on purpose: {inputs.reason}")


class FlakyInputs(msgspec.Struct):
    service: str = "the service"


@kit.action(kind="flaky", name="Call a busy service", description="Busy on the first try, then answers", icon="refresh")
def flaky(ctx: ActionContextSync, inputs: FlakyInputs) -> str:
    if ctx.attempt == 0:
        raise RetryAfterError(f"{inputs.service} is busy", retry_after=1000)
    return f"{inputs.service} answered"
