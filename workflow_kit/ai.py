"""AI steps: ``ctx.step.ai.infer(id, messages=[...])`` asks a chat model, as a durable step.

The answer is recorded like any step's output, so a replay never asks again. A provider's rate limit
(429) and server errors (5xx) are retried with the step's backoff, or at the time the provider names
(``Retry-After``) through `RetryAfterError`; other client errors (a bad request, a bad key) fail at once.

Providers: `OpenAIProvider` (the ``openai`` client: OpenAI, or any OpenAI-compatible server through
``OPENAI_BASE_URL``) and `LocalProvider` (deterministic text, clearly labelled, for demos and tests
without a key). `provider_from_environment` picks one from ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and
``WORKFLOW_KIT_AI_MODEL``.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import msgspec

from .errors import NonRetriableError, RetryAfterError

DEFAULT_MODEL = "gpt-4o-mini"
LOCAL_LABEL = "local demo model (no OPENAI_API_KEY): deterministic text, not AI"


class ChatResult(msgspec.Struct, kw_only=True):
    """What an AI step returns (and records): the text, and where it came from."""

    content: str
    model: str
    provider: str
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None


class AIProvider(Protocol):
    name: str
    model: str

    async def chat(self, *, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatResult: ...


class AIProviderError(Exception):
    """A retriable failure talking to the provider (its 5xx, a timeout, a dropped connection)."""


class OpenAIProvider:
    """Chat completions through the ``openai`` client. The client's own retries are off: the step retries."""

    name = "openai"

    def __init__(
        self, api_key: str, *, base_url: str | None = None, model: str = DEFAULT_MODEL, timeout: float = 60
    ) -> None:
        try:
            from openai import AsyncOpenAI
        except ImportError:
            raise RuntimeError("OPENAI_API_KEY is set but openai is not installed: install workflow-kit[ai]") from None

        self.model = model
        self.base_url = base_url
        self._client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    async def chat(self, *, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatResult:
        import openai

        try:
            response = await self._client.chat.completions.create(model=model, messages=messages, **params)  # type: ignore[arg-type]
        except openai.APIStatusError as exc:
            status = exc.status_code
            wait = retry_after(exc.response.headers)
            message = f"{self.name} answered {status}: {exc.message}"
            if status == 429 or status >= 500:
                if wait is not None:
                    raise RetryAfterError(message, wait) from None
                raise AIProviderError(message) from None
            raise NonRetriableError(message) from None
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise AIProviderError(f"{self.name} could not be reached: {exc}") from None
        choice = response.choices[0] if response.choices else None
        usage = response.usage.model_dump() if response.usage is not None else None
        return ChatResult(
            content=(choice.message.content or "") if choice else "",
            model=response.model,
            provider=self.name,
            finish_reason=choice.finish_reason if choice else None,
            usage=usage,
        )


class LocalProvider:
    """Deterministic text for demos and tests without a key. Subclass and override `answer` to teach it
    a demo's tasks; every answer is labelled so nobody mistakes it for a model's."""

    name = "local"

    def __init__(self, model: str = "local-demo") -> None:
        self.model = model

    async def chat(self, *, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatResult:
        system = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
        user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        return ChatResult(content=self.answer(system, user), model=self.model, provider=self.name, finish_reason="stop")

    def answer(self, system: str, user: str) -> str:
        digest = hashlib.sha256(f"{system}\n{user}".encode()).hexdigest()[:8]
        first = user.strip().splitlines()[0][:120] if user.strip() else ""
        return f"[{LOCAL_LABEL}] reply {digest} to: {first}"


def provider_from_environment(environ: dict[str, str] | None = None) -> AIProvider:
    """OpenAI (or a compatible server) when ``OPENAI_API_KEY`` is set, else the local provider."""
    env = os.environ if environ is None else environ
    model = env.get("WORKFLOW_KIT_AI_MODEL") or DEFAULT_MODEL
    key = env.get("OPENAI_API_KEY")
    if key:
        return OpenAIProvider(key, base_url=env.get("OPENAI_BASE_URL") or None, model=model)
    return LocalProvider()


def retry_after(headers: Any) -> timedelta | datetime | None:
    """The wait a response asks for: ``retry-after-ms``, ``retry-after`` in seconds, or an HTTP date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return timedelta(milliseconds=float(milliseconds))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return timedelta(seconds=float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
