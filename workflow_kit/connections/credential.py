"""An action input typed as a connection, and the live credential its handler receives.

``slack: Connection["slack"]`` on an action's inputs (or, for strict type checkers,
``Annotated[Credential, connection_of("slack")]``) is a string in the workflow, the id of one of the
tenant's connections of that type; its JSON Schema says so (``"x-connection-type": "slack"``), which is
how the editor draws a picker and how validation and the runtime find it. At run time the handler gets
a `Credential`: ``inputs.slack.access_token`` (OAuth), the API-key form's fields as attributes
(``inputs.mailer.api_key``), and ``inputs.slack.http_client()``, an authorized ``httpx.AsyncClient``.
A credential never shows its secret in a repr; what a run records of it is ``{id, name}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

if TYPE_CHECKING:
    import httpx

TYPE_KEY = "x-connection-type"


class Credential:
    """The live credential of one connection, for the handler of a run: never stored, never logged."""

    __slots__ = ("_headers", "_secret", "id", "name", "type")

    def __init__(self, *, id: str, name: str, type: str, secret: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        self.id = id
        self.name = name
        self.type = type
        self._secret = dict(secret)
        self._headers = dict(headers)

    @property
    def access_token(self) -> str | None:
        """An OAuth connection's access token (None for an API-key connection without that field)."""
        token = self._secret.get("access_token")
        return token if isinstance(token, str) else None

    @property
    def fields(self) -> dict[str, Any]:
        """An API-key connection's form values (secret ones included)."""
        return dict(self._secret)

    def headers(self) -> dict[str, str]:
        """The HTTP headers that authorize a request (``Authorization: Bearer ...`` for OAuth)."""
        return dict(self._headers)

    def http_client(self, **options: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that sends the authorizing headers with every request
        (``async with inputs.slack.http_client(base_url=...) as http: ...``)."""
        import httpx

        headers = {**self._headers, **dict(options.pop("headers", None) or {})}
        return httpx.AsyncClient(headers=headers, **options)

    def public(self) -> dict[str, str]:
        """What a run records and shows of it: its id and name."""
        return {"id": self.id, "name": self.name}

    def __getattr__(self, name: str) -> Any:
        secret = object.__getattribute__(self, "_secret")
        if name in secret:
            return secret[name]
        raise AttributeError(f"the connection {self.name!r} has no field {name!r}")

    def __repr__(self) -> str:
        return f"<Credential {self.type} {self.name!r} id={self.id}>"


def connection_of(type_id: str) -> msgspec.Meta:
    """The annotation that makes a `Credential` input a connection of `type_id`:
    ``Annotated[Credential, connection_of("slack")]`` (what ``Connection["slack"]`` spells)."""
    return msgspec.Meta(extra_json_schema={TYPE_KEY: type_id})


class Connection:
    """``Connection["slack"]``: an action input holding one of the tenant's Slack connections."""

    def __class_getitem__(cls, type_id: str) -> Any:
        if not isinstance(type_id, str) or not type_id:
            raise TypeError(f'Connection[...] takes a connection type\'s id, e.g. Connection["slack"], got {type_id!r}')
        return Annotated[Credential, connection_of(type_id)]


def dec_hook(annotation: Any, value: Any) -> Any:
    """msgspec's decode hook: the runtime puts live `Credential`s in place of ids before converting."""
    if annotation is Credential and isinstance(value, Credential):
        return value
    raise NotImplementedError
