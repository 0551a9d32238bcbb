"""Editor tokens and stream tickets: verification is as strict as minting, and a signing secret must be
really random (workflow_kit/tokens.py, workflow_kit/secret_strength.py)."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import re
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from workflow_kit.secret_strength import HOW_TO_MAKE_ONE, secret_problem
from workflow_kit.tokens import (
    ISSUER,
    MAX_SKEW,
    MAX_TTL,
    SCOPES,
    TICKET_AUDIENCE,
    Principal,
    TokenError,
    check_secret,
    mint,
    mint_ticket,
    verify,
    verify_ticket,
)

SECRET = "tokens-test-Qm8vT2xK9pL4wR7zB3nY6cF1hJ5gD0sA"
NOW_MS = 1_780_000_000_000
NOW = NOW_MS // 1000


def signed(payload: str | dict[str, Any], *, secret: str = SECRET, header: str | None = None) -> str:
    """A HS256 JWT of exactly this payload text (a dict is dumped): duplicates and odd types survive."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    head = header if header is not None else '{"alg":"HS256","typ":"JWT"}'

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{b64(head.encode())}.{b64(text.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "ann",
        "tenant": "acme",
        "scopes": sorted(SCOPES),
        "iat": NOW,
        "exp": NOW + 3600,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def refused(token: str, mentions: str) -> None:
    with pytest.raises(TokenError) as caught:
        verify(SECRET, token, now_ms=NOW_MS)
    assert mentions in str(caught.value), str(caught.value)


def test_what_mint_makes_verify_accepts() -> None:
    token = mint(SECRET, "acme", "ann", ttl=MAX_TTL, now_ms=NOW_MS, scopes=["runs:read"])
    assert verify(SECRET, token, now_ms=NOW_MS + 1000) == Principal("acme", "ann", frozenset({"runs:read"}))
    assert verify(SECRET, signed(claims()), now_ms=NOW_MS).scopes == frozenset(SCOPES)


@pytest.mark.parametrize(
    ("overrides", "mentions"),
    [
        ({"exp": NOW + 10 * 365 * 86_400}, "lives longer than 30 days"),
        ({"exp": NOW + int(MAX_TTL.total_seconds()) + 1}, "lives longer than 30 days"),
        ({"iat": NOW + 365 * 86_400, "exp": NOW + 365 * 86_400 + 60}, "issued in the future"),
        ({"iat": NOW + int(MAX_SKEW.total_seconds()) + 1}, "issued in the future"),
        ({"iat": str(NOW)}, "'iat' claim must be a whole number"),
        ({"exp": float(NOW + 60)}, "'exp' claim must be a whole number"),
        ({"iat": True}, "'iat' claim must be a whole number"),
        ({"tenant": 7}, "'tenant' claim must be a string"),
        ({"sub": ["ann"]}, "'sub' claim must be a string"),
        ({"scopes": "runs:read"}, "'scopes' claim must be a list"),
        ({"scopes": ["runs:read", "runs:read"]}, "scopes are malformed"),
        ({"scopes": ["admin:everything"]}, "unknown scopes"),
        ({"iss": "someone-else"}, "not issued by"),
        ({"iat": None}, "lacks the iat claim"),
        ({"tenant": None}, "lacks the tenant claim"),
        ({"admin": True}, "unexpected claim(s) admin"),
        ({"exp": NOW}, "expired"),
        ({"exp": NOW - 1, "iat": NOW - 60}, "expired"),
        ({"sub": "  "}, "not usable"),
    ],
)
def test_verify_refuses_what_mint_never_makes(overrides: dict[str, Any], mentions: str) -> None:
    refused(signed(claims(**overrides)), mentions)


def test_a_claim_named_twice_is_refused_whichever_comes_last() -> None:
    honest = json.dumps(claims())
    for twice in ('"tenant": "globex"', '"exp": 4102444800', '"scopes": []'):
        refused(signed(honest[:-1] + ", " + twice + "}"), "more than once")
        refused(signed("{" + twice + ", " + honest[1:]), "more than once")
    refused(signed(claims(), header='{"alg":"none","alg":"HS256"}'), "more than once")


def test_a_token_within_the_clock_skew_is_accepted() -> None:
    ahead = NOW + int(MAX_SKEW.total_seconds())
    assert verify(SECRET, signed(claims(iat=ahead, exp=ahead + 60)), now_ms=NOW_MS).tenant == "acme"


def test_a_token_signed_otherwise_or_malformed_is_refused() -> None:
    other = "other-secret-Zt5wQ1vN8mK3pX6rB9cL2hF7jG4dS0aE"
    refused(signed(claims(), secret=other), "invalid token")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns that the key is short for HS512: not the point
        refused(jwt.encode(claims(), SECRET, algorithm="HS512"), "invalid token")
    refused("not-a-token", "not a signed token")
    refused(signed("[1, 2]"), "not an object")
    refused(signed("{"), "not JSON")


# -- stream tickets -------------------------------------------------------------------------------

ANN = Principal("acme", "ann", frozenset(SCOPES))


def test_a_ticket_names_its_run_tenant_and_user_for_a_minute() -> None:
    ticket, expires_at = mint_ticket(SECRET, ANN, "run-1", now_ms=NOW_MS)
    assert expires_at == NOW_MS + 60_000
    checked = verify_ticket(SECRET, ticket, run_id="run-1", now_ms=NOW_MS + 59_000)
    assert (checked.tenant, checked.user, checked.run_id, checked.expires_ms) == ("acme", "ann", "run-1", expires_at)
    again, _ = mint_ticket(SECRET, ANN, "run-1", now_ms=NOW_MS)
    assert verify_ticket(SECRET, again, run_id="run-1", now_ms=NOW_MS).jti != checked.jti  # each one its own


def test_a_ticket_is_refused_expired_for_another_run_or_as_a_token() -> None:
    ticket, _ = mint_ticket(SECRET, ANN, "run-1", now_ms=NOW_MS)
    with pytest.raises(TokenError, match="expired"):
        verify_ticket(SECRET, ticket, run_id="run-1", now_ms=NOW_MS + 60_000)
    with pytest.raises(TokenError, match="another run"):
        verify_ticket(SECRET, ticket, run_id="run-2", now_ms=NOW_MS)
    with pytest.raises(TokenError, match="lacks the scopes claim"):
        verify(SECRET, ticket, now_ms=NOW_MS)  # a ticket opens a stream, nothing else
    token = mint(SECRET, "acme", "ann", ttl=60, now_ms=NOW_MS)
    with pytest.raises(TokenError, match="lacks"):
        verify_ticket(SECRET, token, run_id="run-1", now_ms=NOW_MS)  # and a token is no ticket


def test_a_ticket_living_longer_than_a_minute_is_refused() -> None:
    long_lived = {
        "iss": ISSUER,
        "aud": TICKET_AUDIENCE,
        "sub": "ann",
        "tenant": "acme",
        "run": "run-1",
        "jti": "x",
        "iat": NOW,
        "exp": NOW + 3600,
    }
    with pytest.raises(TokenError, match="longer than 60 seconds"):
        verify_ticket(SECRET, signed(long_lived), run_id="run-1", now_ms=NOW_MS)
    with pytest.raises(ValueError, match="at most 60 seconds"):
        mint_ticket(SECRET, ANN, "run-1", now_ms=NOW_MS, ttl=timedelta(minutes=5))


# -- the signing secret ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "is missing"),
        (" " * 40, "is blank"),
        ("\t\n" * 20, "is blank"),
        ("Qm8vT2xK9pL4wR7zB3nY6cF1hJ5gD0sA Qm8vT2xK9p", "whitespace"),
        ("s" * 31, "at least 32 characters"),
        ("x" * 40, "repeats one character"),
        ("abab" * 10, "only 2 different characters"),
        ("test-secret-" + "x" * 32, "only 7 different characters"),
        ("change-me-to-32-characters-or-more!", "too easy to guess"),
        ("passwordpasswordpassword1234567890", "too easy to guess"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "too easy to guess"),
        ("qwertyuiopasdfghjklzxcvbnm1234567890", "too easy to guess"),
    ],
)
def test_a_weak_secret_is_refused_with_how_to_make_one(secret: str, problem: str) -> None:
    with pytest.raises(TokenError) as caught:
        check_secret(secret)
    message = str(caught.value)
    assert problem in message and HOW_TO_MAKE_ONE in message, message
    assert "secrets.token_urlsafe(32)" in message
    with pytest.raises(TokenError):
        mint(secret, "acme", "ann", ttl=60, now_ms=NOW_MS)


def test_random_secrets_pass() -> None:
    import secrets

    for _ in range(3):
        for made in (secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(32)):
            assert secret_problem(made) is None, made
    assert check_secret(SECRET) == SECRET


def test_the_secrets_of_the_tests_the_bench_and_the_readme_pass() -> None:
    root = Path(__file__).resolve().parents[1]
    found: list[str] = []
    for path in [*root.joinpath("tests").rglob("*.py"), *root.joinpath("bench").glob("*.py")]:
        text = path.read_text()
        if "SECRET = " not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SECRET" for t in node.targets):
                value = eval(compile(ast.Expression(node.value), str(path), "eval"), {})
                if isinstance(value, str):  # (a test's SECRET may be a connection's fields, not a signing secret)
                    found.append(value)
    found += re.findall(r'secret="([^"]+)"', (root / "README.md").read_text())
    assert len(found) >= 10, found
    for secret in found:
        assert secret_problem(secret) is None, secret
