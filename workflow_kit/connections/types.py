"""Connection types: what kinds of outside accounts a tenant may connect, declared in Python.

``kit.connection_type("mailer", name="Mailer", kind="api_key", schema=MailerKey)`` declares an API-key
style type: a form from `schema` (a JSON Schema dict or a type such as a msgspec Struct) whose secret
fields are marked (``"x-secret": true`` on the property, or listed in `secret_fields`).
``kind="oauth2"`` declares an OAuth 2.0 type (authorization code with PKCE, through Authlib: see
oauth.py): its authorize and token URLs, scopes, and the client id and secret from the host's
configuration. A type may define `test`, a hook that checks a connection still works.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .. import paths, schemas

if TYPE_CHECKING:
    from .credential import Credential

Kind = Literal["api_key", "oauth2"]
TestHook = Callable[["Credential"], "Awaitable[None] | None"]
"""``test(credential)``: returns when the connection works, raises (with a message for the end user)
when it does not. Sync or async."""
HeadersHook = Callable[[Mapping[str, Any]], Mapping[str, str]]
"""The HTTP headers that authorize a request, from an API-key connection's fields."""
MAX_NAME_LENGTH = 64
SECRET_MARK = "x-secret"


@dataclass(frozen=True)
class OAuth2Settings:
    """Where and how an OAuth 2.0 type authorizes: the provider's URLs, the scopes asked for, and the
    host's client credentials at that provider."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str | None = None
    scopes: tuple[str, ...] = ()
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ConnectionType:
    """A declared connection type: its id (``slack``), the name end users read, its kind, and for API-key
    types the form's schema and which of its fields are secret."""

    type: str
    name: str
    kind: Kind
    description: str = ""
    schema: schemas.Schema = field(default_factory=dict)
    secret_fields: frozenset[str] = frozenset()
    oauth: OAuth2Settings | None = None
    test: TestHook | None = None
    headers: HeadersHook | None = None
    refresh_margin_ms: int = 120_000
    """An OAuth token is refreshed when it expires within this margin (two minutes)."""

    @classmethod
    def declare(
        cls,
        type_id: str,
        *,
        name: str | None = None,
        kind: Kind = "api_key",
        description: str = "",
        schema: Any = None,
        secret_fields: Sequence[str] = (),
        authorize_url: str | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] = (),
        extra_authorize_params: Mapping[str, str] | None = None,
        test: TestHook | None = None,
        headers: HeadersHook | None = None,
    ) -> ConnectionType:
        """Check and build a declaration; raises `ValueError` saying what is wrong."""
        where = f"connection type {type_id!r}"
        if not isinstance(type_id, str) or not type_id.strip() or len(type_id) > MAX_NAME_LENGTH:
            raise ValueError(f"a connection type's id must be 1 to {MAX_NAME_LENGTH} characters, got {type_id!r}")
        if kind == "api_key":
            form = _form_schema(where, schema)
            marked = {
                key
                for key, prop in (form.get("properties") or {}).items()
                if isinstance(prop, dict) and prop.get(SECRET_MARK)
            }
            unknown = set(secret_fields) - set(form.get("properties") or {})
            if unknown:
                raise ValueError(f"{where}: secret_fields names fields the schema does not have: {sorted(unknown)}")
            for key in secret_fields:
                form["properties"][key] = {**form["properties"][key], SECRET_MARK: True}
            return cls(
                type=type_id,
                name=name or type_id,
                kind=kind,
                description=description,
                schema=form,
                secret_fields=frozenset(marked | set(secret_fields)),
                test=test,
                headers=headers,
            )
        if kind == "oauth2":
            if schema is not None:
                raise ValueError(f"{where}: an OAuth 2.0 type has no form schema")
            missing = [
                n
                for n, v in (("authorize_url", authorize_url), ("token_url", token_url), ("client_id", client_id))
                if not v
            ]
            if missing:
                raise ValueError(
                    f"{where}: an OAuth 2.0 type needs {', '.join(missing)} (from the host's configuration)"
                )
            assert authorize_url and token_url and client_id
            settings = OAuth2Settings(
                authorize_url=authorize_url,
                token_url=token_url,
                client_id=client_id,
                client_secret=client_secret,
                scopes=tuple(scopes),
                extra_authorize_params=dict(extra_authorize_params or {}),
            )
            return cls(
                type=type_id, name=name or type_id, kind=kind, description=description, oauth=settings, test=test
            )
        raise ValueError(f"{where}: kind must be 'api_key' or 'oauth2', got {kind!r}")

    def public(self) -> dict[str, Any]:
        """What the editor gets: id, name, kind, description, the form's schema (API-key types)."""
        shown: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
        }
        if self.kind == "api_key":
            shown["schema"] = copy.deepcopy(self.schema)
        return shown

    def check_fields(self, fields: Any) -> dict[str, Any]:
        """An API-key form's values, checked against the schema (the defaults of fields not given filled
        in): `ValueError` with the path of the first problem (``fields.api_key``); a secret field's
        message never shows its value."""
        for path, code, message in schemas.iter_errors(schemas.validator_for(self.schema), fields):
            secret = bool(path) and path[0] in self.secret_fields and code == "invalid_input"
            shown = "not accepted: check it and enter it again (a secret is not shown here)" if secret else message
            raise ValueError(f"{paths.join('fields', path)}: {shown}")
        assert isinstance(fields, dict)
        defaults = {
            key: copy.deepcopy(prop["default"])
            for key, prop in (self.schema.get("properties") or {}).items()
            if isinstance(prop, dict) and "default" in prop and key not in fields
        }
        return {**defaults, **fields}

    def authorization(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """The headers that authorize an HTTP request with this connection's credential."""
        if self.kind == "oauth2":
            return {"Authorization": f"{secret.get('token_type') or 'Bearer'} {secret.get('access_token', '')}"}
        if self.headers is not None:
            return dict(self.headers(secret))
        for key in ("api_key", "token", "access_token"):
            if isinstance(secret.get(key), str):
                return {"Authorization": f"Bearer {secret[key]}"}
        return {}


def _form_schema(where: str, schema: Any) -> schemas.Schema:
    if schema is None:
        raise ValueError(f"{where}: an API-key type needs a schema: the form's fields")
    if isinstance(schema, dict):
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(
                f"{where}: {paths.join('schema', exc.path)}: not a valid JSON Schema: {exc.message}"
            ) from None
        form = copy.deepcopy(schema)
    else:
        try:
            form = schemas.input_schema(schema)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{where}: the schema must be a JSON Schema dict or a type such as a msgspec Struct: {exc}"
            ) from None
    if form.get("type") != "object" or not isinstance(form.get("properties"), dict):
        raise ValueError(f"{where}: the schema must describe an object with properties (the form's fields)")
    return form


class ConnectionTypeRegistry:
    """The connection types a kit declares, by id."""

    def __init__(self) -> None:
        self._types: dict[str, ConnectionType] = {}

    def register(self, declared: ConnectionType) -> None:
        if declared.type in self._types:
            raise ValueError(f"duplicate connection type {declared.type!r}: it is already declared")
        self._types[declared.type] = declared

    def get(self, type_id: str) -> ConnectionType | None:
        return self._types.get(type_id)

    def __iter__(self) -> Iterator[ConnectionType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def public(self) -> list[dict[str, Any]]:
        return [declared.public() for declared in self._types.values()]
