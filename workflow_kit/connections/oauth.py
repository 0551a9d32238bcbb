"""OAuth 2.0 for connection types, through Authlib's client (authorization code with PKCE, refresh).

Authlib builds the authorize URL with the S256 code challenge, exchanges the code (with the verifier)
and refreshes tokens; this module only says which settings go where and turns its token into what a
connection stores. Nothing here keeps state: the flow's state and verifier are kept server-side by the
connection store (``wk_oauth_states``), never in a URL beyond what OAuth requires.
"""

from __future__ import annotations

from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from ..errors import WorkflowKitError
from .types import OAuth2Settings

TIMEOUT_S = 15.0


class OAuthFailed(WorkflowKitError):
    """The provider refused (a code, a refresh) or could not be reached: the message is for end users."""

    code = "oauth_failed"

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused
        """True when the provider answered no (the grant is gone); False when it could not be asked."""


def new_state() -> str:
    return str(generate_token(43))


def new_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43 to 128 characters)."""
    return str(generate_token(64))


def _client(settings: OAuth2Settings, redirect_uri: str | None = None) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scope=" ".join(settings.scopes) or None,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=TIMEOUT_S,
    )


def authorize_url(settings: OAuth2Settings, *, redirect_uri: str, state: str, verifier: str) -> str:
    """Where to send the end user: the provider's authorize URL with the client id, scopes, the redirect,
    the `state` and the code challenge of `verifier` (never the verifier itself)."""
    with _client(settings, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            settings.authorize_url, state=state, code_verifier=verifier, **dict(settings.extra_authorize_params)
        )
    return str(url)


def exchange_code(settings: OAuth2Settings, *, redirect_uri: str, code: str, verifier: str) -> dict[str, Any]:
    """The tokens for an authorization `code` (with the PKCE `verifier`)."""
    with _client(settings, redirect_uri) as client:
        return _token(lambda: client.fetch_token(settings.token_url, code=code, code_verifier=verifier))


def refresh(settings: OAuth2Settings, refresh_token: str) -> dict[str, Any]:
    """New tokens for a refresh token; `OAuthFailed` (``refused``) when the provider says no."""
    with _client(settings) as client:
        return _token(lambda: client.refresh_token(settings.token_url, refresh_token=refresh_token))


def _token(call: Any) -> dict[str, Any]:
    try:
        token = dict(call())
    except OAuthError as exc:
        raise OAuthFailed(f"the provider refused: {exc.error}", refused=True) from None
    except httpx.HTTPStatusError as exc:  # Authlib checks the status before it reads the error
        status = exc.response.status_code
        if status in (400, 401, 403):
            raise OAuthFailed(f"the provider refused: {_error_of(exc.response)}", refused=True) from None
        raise OAuthFailed(f"the provider answered {status}", refused=False) from None
    except Exception as exc:  # the network, a provider's malformed answer
        raise OAuthFailed(f"the provider could not be reached ({type(exc).__name__})", refused=False) from None
    if not isinstance(token.get("access_token"), str):
        raise OAuthFailed("the provider answered without an access token", refused=True)
    return token


def _error_of(response: httpx.Response) -> str:
    """The OAuth error code of an error response (``invalid_grant``), never its description at length."""
    try:
        body = response.json()
    except ValueError:
        return f"status {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    return error[:64] if isinstance(error, str) else f"status {response.status_code}"


def stored_token(
    token: dict[str, Any], now_ms: int, previous: dict[str, Any] | None = None
) -> tuple[dict[str, Any], int | None]:
    """What a connection keeps of a token (sealed) and when it expires (epoch ms on the kit's clock, from
    ``expires_in``; None if never). A refresh that returns no new refresh token keeps the previous one."""
    kept = {key: token[key] for key in ("access_token", "refresh_token", "token_type", "scope") if token.get(key)}
    if "refresh_token" not in kept and previous and previous.get("refresh_token"):
        kept["refresh_token"] = previous["refresh_token"]
    expires_in = token.get("expires_in")
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    return kept, now_ms + int(expires_in * 1000) if isinstance(expires_in, int | float) else None
