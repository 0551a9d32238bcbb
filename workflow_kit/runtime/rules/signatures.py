"""Checking that a webhook request comes from who it says: the verification styles services use. Pure.

- ``none``: no check (anyone who knows the URL may post).
- ``header``: a shared secret, sent as is in a header (`Verification.header`).
- ``github``: GitHub's ``X-Hub-Signature-256: sha256=<hex>``, an HMAC-SHA256 of the raw body.
- ``stripe``: Stripe's ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=...]``, an HMAC-SHA256 of
  ``<t>.<body>``; a signature older or newer than `Verification.tolerance` seconds is refused, so a
  request caught on the wire cannot be replayed later.
- ``hmac``: any other service's: an HMAC of the raw body with `algorithm`, in `header`, after `prefix`,
  as hex or base64.

Signatures are compared in constant time (`hmac.compare_digest`). `sign` makes the headers a sender
would, for the editor's "Send a test request" and for tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Literal

import msgspec

from ...errors import Problem

Style = Literal["none", "header", "github", "stripe", "hmac"]
Algorithm = Literal["sha1", "sha256", "sha512"]
STYLES: tuple[Style, ...] = ("none", "header", "github", "stripe", "hmac")
DEFAULT_TOLERANCE_S = 300
MAX_TOLERANCE_S = 86_400
GITHUB_HEADER = "x-hub-signature-256"
STRIPE_HEADER = "stripe-signature"
DEFAULT_SECRET_HEADER = "x-webhook-secret"
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
MAX_PREFIX = 50


class Verification(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How a hook checks its requests (see the module docstring). `header`: the header of ``header``
    and ``hmac`` (default ``X-Webhook-Secret`` for ``header``); `algorithm`, `prefix` (e.g.
    ``sha256=``) and `encoding`: ``hmac``'s; `tolerance`: ``stripe``'s, in seconds."""

    style: Style = "none"
    header: str | None = None
    algorithm: Algorithm = "sha256"
    prefix: str = ""
    encoding: Literal["hex", "base64"] = "hex"
    tolerance: int = DEFAULT_TOLERANCE_S

    @property
    def needs_secret(self) -> bool:
        return self.style != "none"

    @property
    def secret_header(self) -> str:
        """The header the ``header`` and ``hmac`` styles read (lower case)."""
        return (self.header or DEFAULT_SECRET_HEADER).lower()


class SignatureError(Exception):
    """The request's signature is missing or wrong; the message says which, never the secret."""


def verification_problems(verification: Verification, path: str = "verification") -> list[Problem]:
    """What is wrong with a verification (paths under `path`)."""
    problems: list[Problem] = []
    if verification.header is not None and not _HEADER_NAME.fullmatch(verification.header):
        problems.append(Problem("invalid_verification", f"{path}.header", "expected a header name, e.g. X-Signature"))
    if verification.style == "hmac" and verification.header is None:
        problems.append(Problem("invalid_verification", f"{path}.header", "name the header the signature comes in"))
    if len(verification.prefix) > MAX_PREFIX or "\x00" in verification.prefix:
        problems.append(Problem("invalid_verification", f"{path}.prefix", f"at most {MAX_PREFIX} characters"))
    if not 1 <= verification.tolerance <= MAX_TOLERANCE_S:
        message = f"expected 1 to {MAX_TOLERANCE_S} seconds"
        problems.append(Problem("invalid_verification", f"{path}.tolerance", message))
    return problems


def check(
    verification: Verification, secret: str | None, headers: Mapping[str, str], body: bytes, now_s: float
) -> None:
    """Raise `SignatureError` unless the request (its `headers` with lower-case names, its raw `body`)
    passes `verification` with `secret` at `now_s` (Unix seconds)."""
    style = verification.style
    if style == "none":
        return
    if not secret:
        raise SignatureError("the webhook has no secret yet: create one in its settings")
    if style == "header":
        sent = headers.get(verification.secret_header)
        named = verification.header or "X-Webhook-Secret"
        if sent is None:
            raise SignatureError(f"no {named} header: the request does not say the secret")
        if not hmac.compare_digest(sent.encode(), secret.encode()):
            raise SignatureError(f"the {named} header does not match the secret")
        return
    if style == "github":
        expected = "sha256=" + _digest(secret, body, "sha256", "hex")
        _expect(headers, GITHUB_HEADER, expected, "GitHub signature (X-Hub-Signature-256 header)")
        return
    if style == "stripe":
        _check_stripe(verification, secret, headers, body, now_s)
        return
    expected = verification.prefix + _digest(secret, body, verification.algorithm, verification.encoding)
    _expect(headers, verification.secret_header, expected, f"signature ({verification.header} header)")


def sign(verification: Verification, secret: str | None, body: bytes, now_s: float) -> dict[str, str]:
    """The headers a sender would add to `body` to pass `verification` at `now_s`."""
    style = verification.style
    if style == "none" or not secret:
        return {}
    if style == "header":
        return {verification.secret_header: secret}
    if style == "github":
        return {GITHUB_HEADER: "sha256=" + _digest(secret, body, "sha256", "hex")}
    if style == "stripe":
        stamp = int(now_s)
        return {STRIPE_HEADER: f"t={stamp},v1={_digest(secret, str(stamp).encode() + b'.' + body, 'sha256', 'hex')}"}
    signature = verification.prefix + _digest(secret, body, verification.algorithm, verification.encoding)
    return {verification.secret_header: signature}


def _digest(secret: str, message: bytes, algorithm: str, encoding: str) -> str:
    mac = hmac.new(secret.encode(), message, getattr(hashlib, algorithm)).digest()
    return mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()


def _expect(headers: Mapping[str, str], header: str, expected: str, what: str) -> None:
    """`what`: the signature in words, e.g. "GitHub signature (X-Hub-Signature-256 header)"."""
    sent = headers.get(header)
    if sent is None:
        raise SignatureError(f"no {what}: the request is not signed")
    if not hmac.compare_digest(sent.strip().encode(), expected.encode()):
        raise SignatureError(f"the {what} does not match the body and the secret")


def _check_stripe(
    verification: Verification, secret: str, headers: Mapping[str, str], body: bytes, now_s: float
) -> None:
    what = "Stripe signature (Stripe-Signature header)"
    sent = headers.get(STRIPE_HEADER)
    if sent is None:
        raise SignatureError(f"no {what}: the request is not signed")
    stamp: str | None = None
    signatures: list[str] = []
    for part in sent.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1":
            signatures.append(value)
    if stamp is None or not stamp.isdigit() or not signatures:
        raise SignatureError(f"the {what} is not t=<time>,v1=<signature>")
    expected = _digest(secret, stamp.encode() + b"." + body, "sha256", "hex")
    if not any(hmac.compare_digest(signature.encode(), expected.encode()) for signature in signatures):
        raise SignatureError(f"the {what} does not match the body and the secret")
    age = now_s - int(stamp)
    if abs(age) > verification.tolerance:
        raise SignatureError(
            f"the signature is {int(abs(age))} seconds {'old' if age > 0 else 'ahead'}, over the tolerance of "
            f"{verification.tolerance} seconds (a replayed request?)"
        )
