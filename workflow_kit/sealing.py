"""Secrets at rest: AES-256-GCM (the `cryptography` package) under a key derived with HKDF-SHA256 from
the kit's secret (``$WORKFLOW_KIT_SECRET``), each value bound to what it belongs to (the associated
data), so a sealed value copied onto another row does not open.

Webhook signing secrets are sealed, not hashed: an HMAC check needs the secret itself, and so does the
editor's "Send a test request", which signs like the sender would. Changing the kit's secret makes the
sealed values unreadable: the webhooks then need a new secret (their settings say so).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import WorkflowKitError

_PREFIX = "v1."
_NONCE_BYTES = 12


class SealError(WorkflowKitError):
    """A secret cannot be sealed (no key) or opened (another key, or altered)."""

    code = "secret_unavailable"


class Sealer:
    """Seals and opens short secrets with a key derived from `secret` for one `purpose`."""

    def __init__(self, secret: str | None, purpose: str) -> None:
        self._aead: AESGCM | None = None
        if secret:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret.encode())
            self._aead = AESGCM(key)

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise SealError(
                "no key to protect secrets with: set WORKFLOW_KIT_SECRET (32 characters or more, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self._aead

    def seal(self, value: str, bound_to: str) -> str:
        """`value` encrypted, readable only with this key and the same `bound_to`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, value.encode(), bound_to.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, bound_to: str) -> str:
        """The value `seal` encrypted; `SealError` if this key or `bound_to` is not the one it was sealed with."""
        cipher = self._cipher()
        try:
            raw = base64.urlsafe_b64decode(sealed.removeprefix(_PREFIX).encode())
            return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode()).decode()
        except (InvalidTag, ValueError):
            raise SealError("the secret cannot be read with the current key: make a new one") from None
