"""A small OAuth 2.0 provider: Authlib's authorization server (authorization code with PKCE, refresh
tokens that rotate), for the demo (mounted by ``workflow-kit serve --demo`` at ``/demo/oauth``) and the
tests (tests/oauth_provider.py serves it on 127.0.0.1). It is a stand-in for a real service's sign-in:
one user, one client, everything in memory.

``GET authorize`` shows a consent page (Allow / Deny, as a provider's pop-up would); ``POST authorize``
decides; ``POST token`` exchanges codes and refresh tokens; ``GET me`` is a protected resource that
answers who the bearer token belongs to. `Provider.revoke_all` withdraws every grant (a user who
disconnected the app at the provider), `refreshes` counts the refreshes served, and `refresh_delay`
holds each one for a while (to make two workers meet)."""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import msgspec

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on 127.0.0.1: a local stand-in

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge

CLIENT_ID = "workflow-kit-tests"
CLIENT_SECRET = "provider-client-secret-" + "q" * 16
USER = "ann@provider.test"


@dataclass
class Client:
    client_id: str
    client_secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return urlsplit(redirect_uri).hostname in ("127.0.0.1", "localhost")

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method


@dataclass
class Token:
    client_id: str
    user: str
    scope: str
    access_token: str
    refresh_token: str | None
    expires_at: float
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked


class _Request(OAuth2Request):
    """An HTTP request as Authlib's server reads it (its `payload` is the query and the form together)."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], args: dict[str, str], form: dict[str, str]
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args, self._form = args, form
        self.payload = BasicOAuth2Payload({**args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class Incoming:
    """An HTTP request to the provider, whatever server received it (`headers` look up names in any case)."""

    method: str
    uri: str
    headers: Mapping[str, str]
    args: dict[str, str]
    form: dict[str, str]


@dataclass
class Provider:
    """The provider's state: its one client, codes, tokens; and what the tests look at. `base_url` is
    where it is served (its endpoints are ``authorize``, ``token`` and ``me`` under it)."""

    base_url: str = ""
    expires_in: int = 3600
    refresh_delay: float = 0.0
    refreshes: int = 0
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def settings(self) -> dict[str, Any]:
        """What a connection type needs: ``kit.connection_type("crm", kind="oauth2", **provider.settings())``."""
        return {
            "authorize_url": self.authorize_url,
            "token_url": self.token_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": ["profile", "contacts"],
        }

    def approve(self, authorize_url: str, *, allow: bool = True) -> dict[str, str]:
        """Consent as the user would in the pop-up: the query of the redirect back (``code`` and
        ``state``, or ``error``)."""
        query = dict(parse_qsl(urlsplit(authorize_url).query))
        decision = {"decision": "allow" if allow else "deny"}
        response = httpx.post(self.authorize_url, params=query, data=decision, follow_redirects=False)
        assert response.status_code == 302, response.text
        return dict(parse_qsl(urlsplit(response.headers["location"]).query))

    def revoke_all(self) -> None:
        """The user withdrew the app's access at the provider: every token stops working."""
        with self.lock:
            for token in self.tokens:
                token.revoked = True

    def user_of(self, access_token: str) -> str | None:
        with self.lock:
            for token in self.tokens:
                if token.access_token == access_token and not token.revoked and not token.is_expired():
                    return token.user
        return None

    def secrets(self) -> list[str]:
        """Every token it handed out and the client secret: what must appear nowhere in clear."""
        with self.lock:
            found = [CLIENT_SECRET]
            for token in self.tokens:
                found.append(token.access_token)
                if token.refresh_token:
                    found.append(token.refresh_token)
            return found


def authorization_server(provider: Provider) -> AuthorizationServer:
    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            with provider.lock:
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=data.get("redirect_uri", ""),
                    scope=data.get("scope", ""),
                    user=request.user,
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            with provider.lock:
                found = provider.codes.get(code)
            return found if found is not None and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            with provider.lock:
                provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return authorization_code.user

    class RefreshTokenGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
            if provider.refresh_delay:
                time.sleep(provider.refresh_delay)  # the provider is slow: a second worker arrives meanwhile
            with provider.lock:
                for token in provider.tokens:
                    if token.refresh_token == refresh_token and not token.revoked:
                        return token
            return None

        def authenticate_user(self, refresh_token: Token) -> str:
            return refresh_token.user

        def revoke_old_credential(self, refresh_token: Token) -> None:
            with provider.lock:
                refresh_token.revoked = True
                provider.refreshes += 1

    class Server(AuthorizationServer):
        def query_client(self, client_id: str) -> Client | None:
            return Client(CLIENT_ID, CLIENT_SECRET) if client_id == CLIENT_ID else None

        def save_token(self, token: dict[str, Any], request: Any) -> None:
            with provider.lock:
                provider.tokens.append(
                    Token(
                        client_id=request.client.client_id,
                        user=request.user,
                        scope=token.get("scope", ""),
                        access_token=token["access_token"],
                        refresh_token=token.get("refresh_token"),
                        expires_at=time.time() + token.get("expires_in", provider.expires_in),
                    )
                )

        def create_oauth2_request(self, request: Any) -> OAuth2Request:
            if isinstance(request, OAuth2Request):
                return request
            return _Request(request.method, request.uri, request.headers, request.args, request.form)

        def create_json_request(self, request: Any) -> Any:
            raise NotImplementedError

        def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, list[tuple[str, str]]]:
            return status, body, list(headers.items() if isinstance(headers, dict) else headers)

        def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
            return None

    server = Server()
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=lambda **_: generate_token(40),
            refresh_token_generator=lambda **_: generate_token(48),
            expires_generator=lambda client, grant_type: provider.expires_in,
        ),
    )
    return server


Response = tuple[int, bytes, list[tuple[str, str]]]


def respond(provider: Provider, server: AuthorizationServer, incoming: Incoming) -> Response:
    """One HTTP request to the provider (its path ends with ``authorize``, ``token`` or ``me``)."""
    path = urlsplit(incoming.uri).path
    if path.endswith("/authorize") and incoming.method == "GET":
        return _html(200, _consent_page(provider, incoming.args))
    if path.endswith("/authorize") and incoming.method == "POST":
        user = USER if incoming.form.get("decision") == "allow" else None
        grant = server.get_authorization_grant(server.create_oauth2_request(incoming))
        return _answer(*server.create_authorization_response(incoming, grant_user=user, grant=grant))
    if path.endswith("/token") and incoming.method == "POST":
        return _answer(*server.create_token_response(incoming))
    if path.endswith("/me"):
        scheme, _, token = (incoming.headers.get("authorization") or "").partition(" ")
        user = provider.user_of(token) if scheme.lower() == "bearer" else None
        return _answer(200 if user else 401, {"user": user} if user else {"error": "invalid_token"}, [])
    return _answer(404, {"error": "not_found"}, [])


def _answer(status: int, body: Any, headers: Any) -> Response:
    listed = [(str(k), str(v)) for k, v in (headers.items() if isinstance(headers, dict) else headers or [])]
    if isinstance(body, str):
        payload = body.encode()
    else:
        payload = msgspec.json.encode(body)
        if not any(k.lower() == "content-type" for k, _ in listed):
            listed.append(("Content-Type", "application/json"))
    return status, payload, listed


def _html(status: int, text: str) -> Response:
    return status, text.encode(), [("Content-Type", "text/html; charset=utf-8")]


def _consent_page(provider: Provider, query: dict[str, str]) -> str:
    hidden = urlencode(query)
    return (
        "<!doctype html><meta charset=utf-8><title>Sign in: allow access?</title>"
        "<body style='font: 15px system-ui, sans-serif; margin: 2rem; max-width: 30rem'>"
        "<h1 style='font-size: 20px'>Allow Workflow Kit to use your account?</h1>"
        f"<p>Signed in as {html.escape(USER)} (a test account of this stand-in provider). "
        f"It asks for: {html.escape(query.get('scope', '') or 'your profile')}.</p>"
        f"<form method=post action='{html.escape(provider.authorize_url)}?{html.escape(hidden)}'>"
        "<button name=decision value=allow>Allow</button> <button name=decision value=deny>Deny</button></form>"
    )
