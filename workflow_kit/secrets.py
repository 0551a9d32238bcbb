"""Secrets at rest: AES-GCM (through the `cryptography` package) under keys from the environment.

``WORKFLOW_KIT_SECRET_KEYS`` holds one or more keys, newest first, comma separated, each ``id:base64``
(32 random bytes: AES-256). New secrets are sealed under the newest key; a sealed secret names the id
of its key, so older keys still open what they sealed until ``workflow-kit connections rotate-keys``
has sealed everything again under the newest. ``workflow-kit connections new-key`` prints a new key.

A sealed secret is bound to where it is stored (the associated data: a tenant and a connection id),
so a blob copied into another row does not open. Without a key, sealing is refused with an error that
says how to make one; nothing is ever stored in clear.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import WorkflowKitError

ENV = "WORKFLOW_KIT_SECRET_KEYS"
PREFIX = "wk1"
"""The format of a sealed secret: ``wk1.<key id>.<base64url(nonce + ciphertext)>``."""
NONCE_BYTES = 12
KEY_BYTES = 32
MAKE_KEY = "workflow-kit connections new-key"
HOW_TO = (
    f"set {ENV} to a key made with `{MAKE_KEY}` "
    f"(or: python -c \"import base64, os; print('k1:' + base64.b64encode(os.urandom(32)).decode())\")"
)


class SecretKeyError(WorkflowKitError):
    """No usable encryption key: secrets cannot be stored (or a key is malformed)."""

    code = "no_secret_key"


class SecretError(WorkflowKitError):
    """A sealed secret does not open: its key is not configured, or it was altered or moved."""

    code = "secret_unreadable"


@dataclass(frozen=True)
class Keyring:
    """The configured keys, newest first: seals under the newest, opens with whichever a secret names."""

    keys: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Keyring:
        """Keys from ``id:base64,id:base64`` (newest first); empty text is no key. A malformed entry
        raises `SecretKeyError` naming its position, never its value."""
        keys: list[tuple[str, bytes]] = []
        for position, entry in enumerate(part.strip() for part in (text or "").split(",")):
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            where = f"{ENV}, key {position + 1}"
            if not sep or not key_id or not key_id.isascii() or "." in key_id or not key_id.isprintable():
                raise SecretKeyError(f"{where}: expected id:base64 (an id without dots); {HOW_TO}")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise SecretKeyError(f"{where} ({key_id}): the key is not base64; {HOW_TO}") from None
            if len(raw) != KEY_BYTES:
                raise SecretKeyError(f"{where} ({key_id}): a key is {KEY_BYTES} bytes, this one {len(raw)}; {HOW_TO}")
            if any(known == key_id for known, _ in keys):
                raise SecretKeyError(f"{where}: the key id {key_id!r} appears twice")
            keys.append((key_id, raw))
        return cls(tuple(keys))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Keyring:
        return cls.parse((environ if environ is not None else os.environ).get(ENV))

    @property
    def newest(self) -> str | None:
        """The id of the key new secrets are sealed under (None without a key)."""
        return self.keys[0][0] if self.keys else None

    def seal(self, value: Mapping[str, Any], *, bound_to: str) -> str:
        """`value` (JSON) encrypted under the newest key, bound to `bound_to` (e.g. ``tenant/id``)."""
        if not self.keys:
            raise SecretKeyError(f"no key to encrypt secrets with: {HOW_TO}")
        key_id, key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, msgspec.json.encode(dict(value)), _aad(key_id, bound_to))
        return f"{PREFIX}.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, blob: str, *, bound_to: str) -> dict[str, Any]:
        """The value `seal` sealed; `SecretError` if its key is not configured or it does not open."""
        key_id = key_of(blob)
        key = dict(self.keys).get(key_id)
        if key is None:
            raise SecretError(f"a secret is sealed under the key {key_id!r}, which {ENV} does not hold")
        try:
            raw = base64.urlsafe_b64decode(blob.split(".", 2)[2])
            clear = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(key_id, bound_to))
        except (InvalidTag, ValueError, binascii.Error):
            raise SecretError(f"a secret does not open with the key {key_id!r}: altered, or not stored here") from None
        value: dict[str, Any] = msgspec.json.decode(clear)
        return value

    def reseal(self, blob: str, *, bound_to: str) -> str | None:
        """`blob` sealed again under the newest key, or None when it already is."""
        if key_of(blob) == self.newest:
            return None
        return self.seal(self.open(blob, bound_to=bound_to), bound_to=bound_to)


def key_of(blob: str) -> str:
    """The id of the key a sealed secret names."""
    prefix, _, rest = blob.partition(".")
    key_id, sep, _ = rest.partition(".")
    if prefix != PREFIX or not sep:
        raise SecretError("not a sealed secret")
    return key_id


def new_key(key_id: str | None = None) -> str:
    """A new key, ``id:base64``, for ``WORKFLOW_KIT_SECRET_KEYS`` (put it first to make it the newest)."""
    key_id = key_id or f"k{secrets.token_hex(4)}"
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def _aad(key_id: str, bound_to: str) -> bytes:
    return f"{PREFIX}|{key_id}|{bound_to}".encode()
