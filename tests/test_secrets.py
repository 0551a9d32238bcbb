"""Secrets at rest: AES-GCM under keys from the environment, rotation, and no key means no storing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from workflow_kit.cli import main
from workflow_kit.secrets import ENV, Keyring, SecretError, SecretKeyError, key_of, new_key

SECRET = {"api_key": "sk-live-very-secret", "region": "eu"}


def test_a_sealed_secret_opens_with_its_key_and_holds_nothing_in_clear() -> None:
    keyring = Keyring.parse(new_key("k1"))
    blob = keyring.seal(SECRET, bound_to="acme/c1")
    assert blob.startswith("wk1.k1.") and "sk-live" not in blob and "eu" not in blob
    assert keyring.open(blob, bound_to="acme/c1") == SECRET
    assert keyring.seal(SECRET, bound_to="acme/c1") != blob  # a fresh nonce every time


def test_a_wrong_key_or_another_place_does_not_open_it() -> None:
    blob = Keyring.parse(new_key("k1")).seal(SECRET, bound_to="acme/c1")
    with pytest.raises(SecretError, match="does not open"):
        Keyring.parse(new_key("k1")).open(blob, bound_to="acme/c1")  # same id, other bytes
    with pytest.raises(SecretError, match="does not hold"):
        Keyring.parse(new_key("k2")).open(blob, bound_to="acme/c1")
    with pytest.raises(SecretError, match="does not open"):
        Keyring.parse(new_key("k1")).open(blob, bound_to="other/c1")
    keyring = Keyring.parse(new_key("k1"))
    moved = keyring.seal(SECRET, bound_to="acme/c1")
    with pytest.raises(SecretError):
        keyring.open(moved, bound_to="beta/c1")  # a blob copied into another tenant's row
    tampered = moved[:-4] + ("AAAA" if not moved.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretError):
        keyring.open(tampered, bound_to="acme/c1")


def test_rotation_seals_under_the_newest_and_old_keys_still_open() -> None:
    old = new_key("old")
    before = Keyring.parse(old)
    blob = before.seal(SECRET, bound_to="t/c")
    after = Keyring.parse(f"{new_key('new')},{old}")
    assert after.newest == "new"
    assert after.open(blob, bound_to="t/c") == SECRET  # the old key still opens what it sealed
    resealed = after.reseal(blob, bound_to="t/c")
    assert resealed is not None and key_of(resealed) == "new"
    assert after.reseal(resealed, bound_to="t/c") is None  # already under the newest
    with pytest.raises(SecretError):
        Keyring.parse(f"{new_key('new')}").open(blob, bound_to="t/c")  # the old key dropped too early


def test_without_a_key_storing_is_refused_with_the_command_that_makes_one() -> None:
    with pytest.raises(SecretKeyError) as raised:
        Keyring.from_environment({}).seal(SECRET, bound_to="t/c")
    message = str(raised.value)
    assert ENV in message and "workflow-kit connections new-key" in message


@pytest.mark.parametrize(  # fixed keys: the ids must be the same in every pytest-xdist worker
    ("text", "says"),
    [
        ("nocolon", "expected id:base64"),
        ("k1:not base64!", "not base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "32 bytes"),
        (f"k1:{base64.b64encode(bytes(32)).decode()},k1:{base64.b64encode(bytes([1]) * 32).decode()}", "appears twice"),
    ],
)
def test_a_malformed_key_is_refused_without_showing_it(text: str, says: str) -> None:
    with pytest.raises(SecretKeyError, match=says) as raised:
        Keyring.parse(text)
    assert text.partition(":")[2][:12] not in str(raised.value) or not text.partition(":")[2]


def test_the_new_key_command_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connections", "new-key"]) == 0
    printed = capsys.readouterr().out.strip()
    keyring = Keyring.parse(printed)
    assert keyring.newest is not None
    assert keyring.open(keyring.seal({"x": 1}, bound_to="a/b"), bound_to="a/b") == {"x": 1}


def test_rotate_keys_reencrypts_every_stored_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from workflow_kit import WorkflowKit

    url = f"sqlite:///{tmp_path}/rotate.db"
    old = new_key("old")
    kit = WorkflowKit(database_url=url, secret_keys=old)
    kit.connection_type(
        "mailer", name="Mailer", schema={"type": "object", "properties": {"api_key": {"type": "string"}}}
    )
    made = kit.connections.create_sync("acme", "mailer", name="N", fields={"api_key": "mk-secret-1"})
    kit.close()
    newer = new_key("new")
    monkeypatch.setenv(ENV, f"{newer},{old}")
    assert main(["connections", "rotate-keys", "--database-url", url]) == 0
    assert "1 secret encrypted again under the key 'new'" in capsys.readouterr().out
    kit = WorkflowKit(database_url=url, secret_keys=newer)  # the old key is gone now
    kit.connection_type(
        "mailer", name="Mailer", schema={"type": "object", "properties": {"api_key": {"type": "string"}}}
    )
    try:
        found = kit.connections.credentials_sync("acme", {"m": ("mailer", made.id)})
        assert found["m"].api_key == "mk-secret-1"
    finally:
        kit.close()
